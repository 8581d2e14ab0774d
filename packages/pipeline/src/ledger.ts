import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Placeholder } from '@imgflow/image-core';
import { LedgerUnavailableError, isTransientAwsError } from './errors.js';
import type { ObjectRef } from './keys.js';
import type { Job, JobStatus, OutputRecord, Rejection, Timings } from './state.js';

/** One record per upload. See docs/architecture.md, "The job ledger". */
export interface JobRecord {
  jobId: string;
  status: JobStatus;
  sourceBucket: string;
  sourceKey: string;
  versionId?: string;
  etag: string;
  size: number;
  sha256?: string;
  format?: string;
  width?: number;
  height?: number;
  recipe?: string;
  /** `<sha256>#<recipe>`, set only on SUCCEEDED: the content-cache index key. */
  contentKey?: string;
  outputBucket?: string;
  outputs?: OutputRecord[];
  placeholder?: Placeholder;
  cacheHit?: boolean;
  cachedFrom?: string;
  reasonCode?: string;
  reasonError?: string;
  reasonMessage?: string;
  timings?: Timings;
  executionId: string;
  attempts: number;
  createdAt: string;
  updatedAt: string;
  /** Until when a PENDING/PROCESSING claim holds off another run of the same upload. */
  leaseExpiresAt?: string;
  notified?: boolean;
}

export const STATUS_INDEX = 'byStatus';
export const CONTENT_INDEX = 'byContent';
export const SOURCE_INDEX = 'bySourceKey';

/** The table's key schema and indexes, used by the local runtime; infra/ declares the same. */
export function jobsTableDefinition(tableName: string): CreateTableCommandInput {
  const index = (name: string, hashKey: string) => ({
    IndexName: name,
    KeySchema: [
      { AttributeName: hashKey, KeyType: 'HASH' as const },
      { AttributeName: 'updatedAt', KeyType: 'RANGE' as const },
    ],
    Projection: { ProjectionType: 'ALL' as const },
  });
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'jobId', AttributeType: 'S' },
      { AttributeName: 'status', AttributeType: 'S' },
      { AttributeName: 'contentKey', AttributeType: 'S' },
      { AttributeName: 'sourceKey', AttributeType: 'S' },
      { AttributeName: 'updatedAt', AttributeType: 'S' },
    ],
    KeySchema: [{ AttributeName: 'jobId', KeyType: 'HASH' }],
    GlobalSecondaryIndexes: [index(STATUS_INDEX, 'status'), index(CONTENT_INDEX, 'contentKey'), index(SOURCE_INDEX, 'sourceKey')],
  };
}

export type ClaimResult = { claimed: true; record: JobRecord } | { claimed: false; existing: JobRecord };

interface Expression {
  set: Record<string, unknown>;
  /** Set only when the attribute is absent (e.g. createdAt). */
  setIfMissing?: Record<string, unknown>;
  add?: Record<string, number>;
  remove?: string[];
}

/** Builds `SET #a = :a, … ADD #n :n REMOVE #b` with a name and a value placeholder for every attribute. */
function updateExpression({ set, setIfMissing = {}, add = {}, remove = [] }: Expression) {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const bind = (attribute: string, value: unknown) => {
    names[`#${attribute}`] = attribute;
    values[`:${attribute}`] = value;
  };
  const sets = Object.entries(set)
    .filter(([, value]) => value !== undefined)
    .map(([attribute, value]) => {
      bind(attribute, value);
      return `#${attribute} = :${attribute}`;
    });
  for (const [attribute, value] of Object.entries(setIfMissing)) {
    bind(attribute, value);
    sets.push(`#${attribute} = if_not_exists(#${attribute}, :${attribute})`);
  }
  const adds = Object.entries(add).map(([attribute, value]) => {
    bind(attribute, value);
    return `#${attribute} :${attribute}`;
  });
  for (const attribute of remove) names[`#${attribute}`] = attribute;
  const clauses = [`SET ${sets.join(', ')}`];
  if (adds.length) clauses.push(`ADD ${adds.join(', ')}`);
  if (remove.length) clauses.push(`REMOVE ${remove.map((attribute) => `#${attribute}`).join(', ')}`);
  return { UpdateExpression: clauses.join(' '), ExpressionAttributeNames: names, ExpressionAttributeValues: values };
}

/** The upload's identity as ledger attributes (claim and finish both record it). */
function sourceAttributes(source: ObjectRef) {
  return { sourceBucket: source.bucket, sourceKey: source.key, versionId: source.versionId, etag: source.etag, size: source.size };
}

/** By name, not instanceof: the check must hold whichever copy of the SDK threw it. */
function isConditionFailure(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/**
 * The job ledger on DynamoDB. Every write is conditional on who owns the job (its execution
 * id), so a stale or duplicate execution can never overwrite a newer outcome.
 */
export class JobLedger {
  constructor(
    private readonly dynamo: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * Claims an upload for one execution. Succeeds for a new upload, for one whose earlier run
   * FAILED, for one whose PENDING/PROCESSING lease expired (its runner died), and again for the
   * execution that already holds the claim (its validation is being retried). Otherwise the
   * upload is a duplicate delivery and the existing record is returned.
   */
  async claim(source: ObjectRef, jobId: string, executionId: string, now: Date, leaseSeconds: number): Promise<ClaimResult> {
    const timestamp = now.toISOString();
    const update = updateExpression({
      set: {
        status: 'PENDING',
        ...sourceAttributes(source),
        executionId,
        updatedAt: timestamp,
        leaseExpiresAt: new Date(now.getTime() + leaseSeconds * 1000).toISOString(),
      },
      setIfMissing: { createdAt: timestamp },
      add: { attempts: 1 },
      remove: ['reasonCode', 'reasonError', 'reasonMessage', 'outputs', 'contentKey', 'notified'],
    });
    try {
      const response = await this.dynamo.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { jobId },
          ...update,
          ConditionExpression:
            'attribute_not_exists(#jobId) OR #status = :failed OR ((#status = :pending OR #status = :processing) AND #leaseExpiresAt < :now)',
          ExpressionAttributeNames: { ...update.ExpressionAttributeNames, '#jobId': 'jobId' },
          ExpressionAttributeValues: {
            ...update.ExpressionAttributeValues,
            ':now': timestamp,
            ':failed': 'FAILED',
            ':pending': 'PENDING',
            ':processing': 'PROCESSING',
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return { claimed: true, record: response.Attributes as JobRecord };
    } catch (error) {
      if (isConditionFailure(error)) {
        const existing = await this.get(jobId);
        // A Retry of the same execution (validation failed transiently after the claim) finds
        // its own claim: it is still the owner, not a duplicate delivery.
        if (existing && existing.executionId === executionId && (existing.status === 'PENDING' || existing.status === 'PROCESSING')) {
          return { claimed: true, record: existing };
        }
        if (existing) return { claimed: false, existing };
      }
      throw this.translate(error, 'claim');
    }
  }

  /** Records what validation learnt and moves the job to PROCESSING. */
  async markProcessing(job: Job): Promise<void> {
    await this.owned(job.jobId, job.executionId, {
      set: {
        status: 'PROCESSING',
        sha256: job.sha256,
        format: job.format,
        width: job.width,
        height: job.height,
        recipe: job.recipe,
        updatedAt: new Date().toISOString(),
      },
    });
  }

  /** Looks for an earlier SUCCEEDED job with the same bytes and recipe. */
  async findCached(sha256: string, recipe: string): Promise<JobRecord | undefined> {
    try {
      const response = await this.dynamo.send(
        new QueryCommand({
          TableName: this.tableName,
          IndexName: CONTENT_INDEX,
          KeyConditionExpression: '#contentKey = :contentKey',
          ExpressionAttributeNames: { '#contentKey': 'contentKey' },
          ExpressionAttributeValues: { ':contentKey': `${sha256}#${recipe}` },
          ScanIndexForward: false,
          Limit: 1,
        }),
      );
      return response.Items?.[0] as JobRecord | undefined;
    } catch (error) {
      throw this.translate(error, 'cache lookup');
    }
  }

  /**
   * Ends a job SUCCEEDED. Returns false when this execution no longer owns the job (another
   * run took over after its lease expired): that run reports, this one stays silent.
   */
  async succeed(
    job: Pick<Job, 'jobId' | 'executionId' | 'sha256' | 'recipe'>,
    result: { outputBucket: string; outputs: OutputRecord[]; placeholder?: Placeholder; timings: Timings; cacheHit: boolean; cachedFrom?: string },
  ): Promise<boolean> {
    return this.owned(job.jobId, job.executionId, {
      set: {
        status: 'SUCCEEDED',
        contentKey: `${job.sha256}#${job.recipe}`,
        sha256: job.sha256,
        recipe: job.recipe,
        outputBucket: result.outputBucket,
        outputs: result.outputs,
        placeholder: result.placeholder,
        timings: result.timings,
        cacheHit: result.cacheHit,
        cachedFrom: result.cachedFrom,
        updatedAt: new Date().toISOString(),
      },
      remove: ['leaseExpiresAt'],
    });
  }

  /**
   * Ends a job REJECTED or FAILED with its reason. Also records uploads that never got as far
   * as a claim (e.g. the ledger was down during validation), so every upload ends recorded.
   * Returns false when another execution owns the job.
   */
  async finish(source: ObjectRef, jobId: string, executionId: string, status: 'REJECTED' | 'FAILED', rejection: Rejection, timings: Timings): Promise<boolean> {
    const timestamp = new Date().toISOString();
    return this.owned(
      jobId,
      executionId,
      {
        set: {
          status,
          ...sourceAttributes(source),
          executionId,
          reasonCode: rejection.code,
          reasonError: rejection.error,
          reasonMessage: rejection.message,
          timings,
          updatedAt: timestamp,
        },
        setIfMissing: { createdAt: timestamp, attempts: 1 },
        remove: ['leaseExpiresAt'],
      },
      true,
    );
  }

  /**
   * Ends the leases of every PENDING/PROCESSING job, so they can be claimed again. Only for a
   * runner that knows no execution of its own is alive (the local runtime at start-up, which
   * owns its data folder alone); on AWS leases simply expire. Returns the job ids released.
   */
  async releaseClaims(now: Date): Promise<string[]> {
    const released: string[] = [];
    for (const status of ['PENDING', 'PROCESSING'] as const) {
      for (const record of await this.listByStatus(status, 1000)) {
        try {
          await this.dynamo.send(
            new UpdateCommand({
              TableName: this.tableName,
              Key: { jobId: record.jobId },
              UpdateExpression: 'SET #lease = :now',
              ConditionExpression: '#status = :status AND #owner = :owner',
              ExpressionAttributeNames: { '#lease': 'leaseExpiresAt', '#status': 'status', '#owner': 'executionId' },
              ExpressionAttributeValues: { ':now': new Date(now.getTime() - 1).toISOString(), ':status': status, ':owner': record.executionId },
            }),
          );
          released.push(record.jobId);
        } catch (error) {
          if (!isConditionFailure(error)) throw this.translate(error, 'release');
        }
      }
    }
    return released;
  }

  async markNotified(jobId: string, executionId: string): Promise<void> {
    await this.owned(jobId, executionId, { set: { notified: true } });
  }

  async get(jobId: string): Promise<JobRecord | undefined> {
    try {
      const response = await this.dynamo.send(new GetCommand({ TableName: this.tableName, Key: { jobId }, ConsistentRead: true }));
      return response.Item as JobRecord | undefined;
    } catch (error) {
      throw this.translate(error, 'read');
    }
  }

  async listByStatus(status: JobStatus, limit = 50): Promise<JobRecord[]> {
    return this.query(STATUS_INDEX, 'status', status, limit);
  }

  async listBySourceKey(sourceKey: string, limit = 50): Promise<JobRecord[]> {
    return this.query(SOURCE_INDEX, 'sourceKey', sourceKey, limit);
  }

  private async query(index: string, attribute: string, value: string, limit: number): Promise<JobRecord[]> {
    const items: JobRecord[] = [];
    let start: Record<string, unknown> | undefined;
    try {
      do {
        const response = await this.dynamo.send(
          new QueryCommand({
            TableName: this.tableName,
            IndexName: index,
            KeyConditionExpression: '#key = :value',
            ExpressionAttributeNames: { '#key': attribute },
            ExpressionAttributeValues: { ':value': value },
            ScanIndexForward: false,
            Limit: limit - items.length,
            ExclusiveStartKey: start,
          }),
        );
        items.push(...((response.Items ?? []) as JobRecord[]));
        start = response.LastEvaluatedKey;
      } while (start && items.length < limit);
    } catch (error) {
      throw this.translate(error, 'query');
    }
    return items;
  }

  private async owned(jobId: string, executionId: string, expression: Expression, orNew = false): Promise<boolean> {
    const update = updateExpression(expression);
    try {
      await this.dynamo.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { jobId },
          ...update,
          ConditionExpression: orNew ? 'attribute_not_exists(#owner) OR #owner = :owner' : '#owner = :owner',
          ExpressionAttributeNames: { ...update.ExpressionAttributeNames, '#owner': 'executionId' },
          ExpressionAttributeValues: { ...update.ExpressionAttributeValues, ':owner': executionId },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw this.translate(error, 'update');
    }
  }

  private translate(error: unknown, action: string): Error {
    if (error instanceof LedgerUnavailableError) return error;
    if (isTransientAwsError(error)) {
      return new LedgerUnavailableError(`DynamoDB is unavailable (${action} on ${this.tableName}): ${(error as Error).message}`, { cause: error });
    }
    return error instanceof Error ? error : new Error(String(error));
  }
}
