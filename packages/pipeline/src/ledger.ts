import type { CreateTableCommandInput } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, type DynamoDBDocumentClient, GetCommand, QueryCommand, ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Placeholder } from '@imgflow/image-core';
import { AccessDeniedError, LedgerUnavailableError, isTransientAwsError } from './errors.js';
import type { ObjectRef } from './keys.js';
import { type Job, type JobStatus, type OutputRecord, type Rejection, TERMINAL_STATUSES, type Timings } from './state.js';

/** One record per upload. See docs/architecture.md, "The job ledger". */
export interface JobRecord {
  jobId: string;
  status: JobStatus;
  /** `<status>#<shard>`: the byStatus partition key, written with every status (see statusShard). */
  statusShard?: string;
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
  /** `<sha256>#<recipe>`, set only on SUCCEEDED: the content these outputs are for (its claim item is `content#<contentKey>`). */
  contentKey?: string;
  outputBucket?: string;
  outputs?: OutputRecord[];
  /** Key of the image's manifest in outputBucket (set on SUCCEEDED; absent in records older than manifests). */
  manifestKey?: string;
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
  /** Until when whoever took this job's notification on (NotifySuccess/NotifyError, or a sweeper) is publishing it (JobLedger.claimNotification). */
  notifyingUntil?: string;
}

export const STATUS_INDEX = 'byStatus';
export const SOURCE_INDEX = 'bySourceKey';

/**
 * How many partition-key values `byStatus` spreads each status over (`<status>#<0..n-1>`, the
 * shard from the job id). A partition-key value of a GSI takes at most 1,000 write units a second,
 * and the sort key (updatedAt) only grows, so DynamoDB cannot split one value's writes: one
 * value per status would cap the ledger near 500 jobs/s (PENDING and PROCESSING each take a put
 * and a delete per job). Eight values per status: about 4,000 jobs/s. Raise it, never lower it:
 * listByStatus reads shards 0..n-1, so jobs written under a smaller n stay visible.
 */
export const STATUS_SHARDS = 8;

/** The `byStatus` partition key of a job: its status and its shard (FNV-1a of the job id). */
export function statusShard(status: JobStatus, jobId: string): string {
  let hash = 0x811c9dc5;
  for (let index = 0; index < jobId.length; index += 1) {
    hash ^= jobId.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return `${status}#${hash % STATUS_SHARDS}`;
}

/**
 * The partition key of a content claim: one item per (bytes, recipe) in the jobs table, holding
 * which job processes or processed those bytes. It has none of the indexes' key attributes, so it
 * is in no index. Read with a consistent GetItem (the content cache); a GSI could not be.
 */
export function contentClaimKey(sha256: string, recipe: string): string {
  return `content#${sha256}#${recipe}`;
}

/** A content claim item (see contentClaimKey). */
export interface ContentClaimRecord {
  /** `content#<sha256>#<recipe>` (the table's partition key). */
  jobId: string;
  kind: 'content';
  /** The job that processes (CLAIMED) or processed (DONE) these bytes with this recipe. */
  owner: string;
  claimState: 'CLAIMED' | 'DONE';
  /** Until when a CLAIMED item holds off other jobs (the job lease). */
  leaseExpiresAt?: string;
  /** Bumped by every write: a take-over is conditional on the version it read. */
  version: number;
  createdAt: string;
  updatedAt: string;
}

/** What a job learns when it claims its content (JobLedger.claimContent). */
export type ContentClaim =
  /** This job processes the bytes: the first, or the earlier claim ended or was stale. */
  | { state: 'owner' }
  /** An earlier job processed the same bytes with the same recipe: its SUCCEEDED record, read consistently. */
  | { state: 'done'; record: JobRecord }
  /** Another job is processing the same bytes now. */
  | { state: 'busy'; owner: string; leaseExpiresAt: string };

/**
 * The table's key schema and indexes, used by the local runtime; infra/modules/ledger declares
 * the same (infra/tests compare them). Both indexes are KEYS_ONLY: the queries read job ids,
 * then the items themselves (BatchGetItem, consistent), so an index entry is under 1 KB and a
 * write that changes neither key (markNotified) writes no index.
 */
export function jobsTableDefinition(tableName: string): CreateTableCommandInput {
  const index = (name: string, hashKey: string, rangeKey: string) => ({
    IndexName: name,
    KeySchema: [
      { AttributeName: hashKey, KeyType: 'HASH' as const },
      { AttributeName: rangeKey, KeyType: 'RANGE' as const },
    ],
    Projection: { ProjectionType: 'KEYS_ONLY' as const },
  });
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: [
      { AttributeName: 'jobId', AttributeType: 'S' },
      { AttributeName: 'statusShard', AttributeType: 'S' },
      { AttributeName: 'sourceKey', AttributeType: 'S' },
      { AttributeName: 'updatedAt', AttributeType: 'S' },
      { AttributeName: 'createdAt', AttributeType: 'S' },
    ],
    KeySchema: [{ AttributeName: 'jobId', KeyType: 'HASH' }],
    // byStatus sorts by updatedAt (recent activity); bySourceKey by createdAt, which never changes:
    // its entry is written once per job.
    GlobalSecondaryIndexes: [index(STATUS_INDEX, 'statusShard', 'updatedAt'), index(SOURCE_INDEX, 'sourceKey', 'createdAt')],
  };
}

/**
 * A claim. `replaces` is the SUCCEEDED record a re-render took over (claimed with another
 * recipe): its outputs, and the recipe that made them, as they were.
 */
export type ClaimResult = { claimed: true; replaces?: JobRecord } | { claimed: false; existing: JobRecord };

export interface ClaimOptions {
  /**
   * The recipe fingerprint this claim renders with. Given, a SUCCEEDED job whose recorded recipe
   * differs is claimed again (a re-render after a recipe change); not given, a SUCCEEDED job
   * is never claimed again.
   */
  recipe?: string;
}

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
 * id), so a stale or duplicate execution can never overwrite a newer outcome; and a finished
 * record (SUCCEEDED, REJECTED, FAILED) keeps its outcome, even against the execution that wrote
 * it (Express may run an execution twice: a replay). Only another execution's claim takes a
 * FAILED job again (a new delivery).
 */
export class JobLedger {
  constructor(
    private readonly dynamo: DynamoDBDocumentClient,
    private readonly tableName: string,
  ) {}

  /**
   * Claims an upload for one execution. Succeeds for a new upload, for one whose earlier run
   * FAILED (a new delivery: another execution id), for one whose PENDING/PROCESSING lease expired
   * (its runner died), and again for the execution that already holds the claim (its validation
   * is being retried, or an Express replay of it runs too). Otherwise the upload is a duplicate
   * delivery, or a replay of an execution that already ended the job, and the existing record is
   * returned.
   */
  async claim(source: ObjectRef, jobId: string, executionId: string, now: Date, leaseSeconds: number, options: ClaimOptions = {}): Promise<ClaimResult> {
    const timestamp = now.toISOString();
    const rerender = options.recipe !== undefined;
    const update = updateExpression({
      set: {
        status: 'PENDING',
        statusShard: statusShard('PENDING', jobId),
        ...sourceAttributes(source),
        executionId,
        updatedAt: timestamp,
        leaseExpiresAt: new Date(now.getTime() + leaseSeconds * 1000).toISOString(),
      },
      setIfMissing: { createdAt: timestamp },
      add: { attempts: 1 },
      remove: ['reasonCode', 'reasonError', 'reasonMessage', 'outputs', 'contentKey', 'notified', 'notifyingUntil'],
    });
    try {
      const response = await this.dynamo.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { jobId },
          ...update,
          // A FAILED job is claimed again only by another execution: a replay of the one that
          // failed it (Express runs an execution at least once) must not run it again. A
          // SUCCEEDED job is claimed again only for another recipe (a re-render).
          ConditionExpression: `attribute_not_exists(#jobId) OR (#status = :failed AND #executionId <> :executionId) OR ((#status = :pending OR #status = :processing) AND #leaseExpiresAt < :now)${rerender ? ' OR (#status = :succeeded AND #recipe <> :recipe AND #executionId <> :executionId)' : ''}`,
          ExpressionAttributeNames: { ...update.ExpressionAttributeNames, '#jobId': 'jobId', ...(rerender ? { '#recipe': 'recipe' } : {}) },
          ExpressionAttributeValues: {
            ...update.ExpressionAttributeValues,
            ':now': timestamp,
            ':failed': 'FAILED',
            ':pending': 'PENDING',
            ':processing': 'PROCESSING',
            ...(rerender ? { ':succeeded': 'SUCCEEDED', ':recipe': options.recipe } : {}),
          },
          // The item as it was: a re-render needs the outputs it replaces.
          ReturnValues: 'ALL_OLD',
        }),
      );
      const before = response.Attributes as JobRecord | undefined;
      return before?.status === 'SUCCEEDED' ? { claimed: true, replaces: before } : { claimed: true };
    } catch (error) {
      if (isConditionFailure(error)) {
        const existing = await this.get(jobId);
        // A Retry of the same execution (validation failed transiently after the claim) finds
        // its own claim: it is still the owner, not a duplicate delivery.
        if (existing && existing.executionId === executionId && (existing.status === 'PENDING' || existing.status === 'PROCESSING')) {
          return { claimed: true };
        }
        if (existing) return { claimed: false, existing };
      }
      throw this.translate(error, 'claim');
    }
  }

  /**
   * Records what validation learnt and moves the job to PROCESSING, only while it is PENDING or
   * PROCESSING. False when this execution no longer owns the job, or the job already ended (a
   * replay of this execution finished it meanwhile): the caller stops there.
   */
  async markProcessing(job: Job): Promise<boolean> {
    const written = await this.owned(
      job.jobId,
      job.executionId,
      {
        set: {
          status: 'PROCESSING',
          statusShard: statusShard('PROCESSING', job.jobId),
          sha256: job.sha256,
          format: job.format,
          width: job.width,
          height: job.height,
          recipe: job.recipe,
          updatedAt: new Date().toISOString(),
        },
      },
      false,
      'PROCESSING',
    );
    return written !== false;
  }

  /**
   * The content cache, closed against races: claims the job's bytes and recipe (a conditional
   * write on their content claim item, see contentClaimKey) unless another job holds them. Answers
   * `done` with the record of the job that processed the same bytes (a consistent read: no index
   * lag), `busy` while another live job processes them, `owner` when this job is to process them:
   * the first, one whose earlier owner's claim expired or ended without success, or its own claim
   * again (a retried validation). Two uploads of the same bytes at the same moment: exactly one
   * is the owner.
   */
  async claimContent(job: Pick<Job, 'jobId' | 'sha256' | 'recipe'>, now: Date, leaseSeconds: number): Promise<ContentClaim> {
    const key = contentClaimKey(job.sha256, job.recipe);
    // Each round reads the item, then writes conditionally on what it read: a lost race reads again.
    for (let round = 0; round < 3; round += 1) {
      const item = await this.getContent(key);
      // Its own DONE claim: this job already succeeded (a replay of its execution validates
      // again). Nothing is taken back; markProcessing then finds the job ended.
      if (item?.owner === job.jobId && item.claimState === 'DONE') return { state: 'owner' };
      if (item && item.owner !== job.jobId) {
        if (item.claimState === 'DONE') {
          const record = await this.get(item.owner);
          if (record?.status === 'SUCCEEDED' && record.outputs && record.outputBucket) return { state: 'done', record };
          // The owner's record no longer shows the outputs: the item is stale, taken over below.
        } else if ((item.leaseExpiresAt ?? '') >= now.toISOString()) {
          return { state: 'busy', owner: item.owner, leaseExpiresAt: item.leaseExpiresAt ?? '' };
        }
      }
      if (await this.takeContent(key, job.jobId, now, leaseSeconds, item)) return { state: 'owner' };
    }
    // Three lost races in a row: someone else is at it; the caller treats it as busy.
    const item = await this.getContent(key);
    return { state: 'busy', owner: item?.owner ?? 'unknown', leaseExpiresAt: item?.leaseExpiresAt ?? now.toISOString() };
  }

  /**
   * Takes over a content claim whose DONE owner's outputs turned out to be gone (they were
   * deleted): this job processes the bytes again and becomes the owner. False when the item is
   * no longer `staleOwner`'s DONE claim (another job got there first).
   */
  async takeOverContent(job: Pick<Job, 'jobId' | 'sha256' | 'recipe'>, staleOwner: string, now: Date, leaseSeconds: number): Promise<boolean> {
    const key = contentClaimKey(job.sha256, job.recipe);
    const item = await this.getContent(key);
    if (!item || item.owner !== staleOwner || item.claimState !== 'DONE') return item?.owner === job.jobId;
    return this.takeContent(key, job.jobId, now, leaseSeconds, item);
  }

  private async getContent(key: string): Promise<ContentClaimRecord | undefined> {
    try {
      const response = await this.dynamo.send(new GetCommand({ TableName: this.tableName, Key: { jobId: key }, ConsistentRead: true }));
      return response.Item as ContentClaimRecord | undefined;
    } catch (error) {
      throw this.translate(error, 'content claim read');
    }
  }

  /** Makes `jobId` the CLAIMED owner, if the item is still as read (`seen`: its version; absent: no item). */
  private async takeContent(key: string, jobId: string, now: Date, leaseSeconds: number, seen: ContentClaimRecord | undefined): Promise<boolean> {
    const timestamp = now.toISOString();
    const update = updateExpression({
      set: { kind: 'content', owner: jobId, claimState: 'CLAIMED', leaseExpiresAt: new Date(now.getTime() + leaseSeconds * 1000).toISOString(), updatedAt: timestamp },
      setIfMissing: { createdAt: timestamp },
      add: { version: 1 },
    });
    try {
      await this.dynamo.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { jobId: key },
          ...update,
          ConditionExpression: seen ? '#version = :seen' : 'attribute_not_exists(#key)',
          ExpressionAttributeNames: { ...update.ExpressionAttributeNames, ...(seen ? {} : { '#key': 'jobId' }) },
          ExpressionAttributeValues: { ...update.ExpressionAttributeValues, ...(seen ? { ':seen': seen.version } : {}) },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw this.translate(error, 'content claim');
    }
  }

  /**
   * A job processed its bytes: its content claim becomes DONE and points to it, unless another
   * job's DONE claim is already there (two jobs processed the same bytes: the first to finish
   * stays the cache entry).
   */
  private async contentDone(job: Pick<Job, 'jobId' | 'sha256' | 'recipe'>): Promise<void> {
    const timestamp = new Date().toISOString();
    const update = updateExpression({
      set: { kind: 'content', owner: job.jobId, claimState: 'DONE', updatedAt: timestamp },
      setIfMissing: { createdAt: timestamp },
      add: { version: 1 },
      remove: ['leaseExpiresAt'],
    });
    try {
      await this.dynamo.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { jobId: contentClaimKey(job.sha256, job.recipe) },
          ...update,
          ConditionExpression: 'attribute_not_exists(#key) OR #claimState <> :done OR #owner = :job',
          ExpressionAttributeNames: { ...update.ExpressionAttributeNames, '#key': 'jobId' },
          ExpressionAttributeValues: { ...update.ExpressionAttributeValues, ':done': 'DONE', ':job': job.jobId },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw this.translate(error, 'content claim');
    }
  }

  /** A job that claimed its bytes ended without success: its claim ends now, not when its lease would. */
  private async releaseContent(jobId: string, sha256: string, recipe: string): Promise<void> {
    try {
      await this.dynamo.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { jobId: contentClaimKey(sha256, recipe) },
          UpdateExpression: 'SET #lease = :past ADD #version :one',
          ConditionExpression: '#owner = :job AND #claimState = :claimed',
          ExpressionAttributeNames: { '#lease': 'leaseExpiresAt', '#version': 'version', '#owner': 'owner', '#claimState': 'claimState' },
          ExpressionAttributeValues: { ':past': new Date(Date.now() - 1).toISOString(), ':one': 1, ':job': jobId, ':claimed': 'CLAIMED' },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw this.translate(error, 'content claim release');
    }
  }

  /**
   * Ends a job SUCCEEDED, only from PENDING/PROCESSING. Returns false when this execution no
   * longer owns the job (another run took over after its lease expired: that run reports, this
   * one stays silent) or the job already ended otherwise (e.g. a replay of this execution, or the
   * sweeper, recorded it FAILED). A job this execution already recorded SUCCEEDED (a retried
   * notify, a replay) is left as it is and answers true.
   */
  async succeed(
    job: Pick<Job, 'jobId' | 'executionId' | 'sha256' | 'recipe'>,
    result: { outputBucket: string; outputs: OutputRecord[]; manifestKey?: string; placeholder?: Placeholder; timings: Timings; cacheHit: boolean; cachedFrom?: string },
  ): Promise<boolean> {
    const owned = await this.owned(
      job.jobId,
      job.executionId,
      {
        set: {
          status: 'SUCCEEDED',
          statusShard: statusShard('SUCCEEDED', job.jobId),
          contentKey: `${job.sha256}#${job.recipe}`,
          sha256: job.sha256,
          recipe: job.recipe,
          outputBucket: result.outputBucket,
          outputs: result.outputs,
          manifestKey: result.manifestKey,
          placeholder: result.placeholder,
          timings: result.timings,
          cacheHit: result.cacheHit,
          cachedFrom: result.cachedFrom,
          updatedAt: new Date().toISOString(),
        },
        remove: ['leaseExpiresAt'],
      },
      false,
      'SUCCEEDED',
    );
    // A cache hit copied another job's outputs: that job stays the content's entry. (As the
    // record says: on a repeat, the first write's.)
    if (owned && !owned.cacheHit) await this.contentDone(job);
    return owned !== false;
  }

  /**
   * Ends a job REJECTED or FAILED with its reason. Also records uploads that never got as far
   * as a claim (e.g. the ledger was down during validation), so every upload ends recorded.
   * Only from PENDING/PROCESSING (or no record): returns false when another execution owns the
   * job or the job already ended otherwise; a job this execution already ended with this status
   * is left as it is and answers true.
   */
  async finish(source: ObjectRef, jobId: string, executionId: string, status: 'REJECTED' | 'FAILED', rejection: Rejection, timings: Timings): Promise<boolean> {
    const timestamp = new Date().toISOString();
    const record = await this.owned(
      jobId,
      executionId,
      {
        set: {
          status,
          statusShard: statusShard(status, jobId),
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
      status,
    );
    // A job that got as far as claiming its content (validated: it has the hash) lets go of it.
    if (record !== false && record.sha256 && record.recipe) await this.releaseContent(jobId, record.sha256, record.recipe);
    return record !== false;
  }

  /**
   * Ends the leases of every PENDING/PROCESSING job, so they can be claimed again. Only for a
   * runner that knows no execution of its own is alive (the local runtime at start-up, which
   * owns its data folder alone); on AWS leases simply expire. Also gives back the notification
   * claims of finished jobs not notified. Returns the job ids whose leases were released.
   */
  async releaseClaims(now: Date): Promise<string[]> {
    const released: string[] = [];
    // The table itself, read consistently, not the status index: dynalite writes a job's index
    // entries (the old one removed, the new one added) and the job as separate steps, so a run
    // killed between them leaves a job the index does not show under its status.
    const active = await this.scanActive();
    for (const record of active) {
      try {
        await this.dynamo.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: { jobId: record.jobId },
            UpdateExpression: 'SET #lease = :now',
            ConditionExpression: '#status = :status AND #owner = :owner',
            ExpressionAttributeNames: { '#lease': 'leaseExpiresAt', '#status': 'status', '#owner': 'executionId' },
            ExpressionAttributeValues: { ':now': new Date(now.getTime() - 1).toISOString(), ':status': record.status, ':owner': record.executionId },
          }),
        );
        released.push(record.jobId);
      } catch (error) {
        if (!isConditionFailure(error)) throw this.translate(error, 'release');
      }
    }
    // A notify step killed between claiming a notification and publishing it left the claim
    // (notifyingUntil): it is given back, so that the notification is sent now, not when it runs out.
    for (const status of TERMINAL_STATUSES) {
      for (const record of await this.listByStatus(status, 1000)) {
        if (record.notified || record.notifyingUntil === undefined) continue;
        await this.removeNotificationClaim(record.jobId, record.executionId, record.notifyingUntil);
      }
    }
    return released;
  }

  /**
   * Every PENDING/PROCESSING job, by a consistent Scan of the table: only for a runner that owns
   * the table alone and keeps it small (the local runtime at start-up). Content claims are left out.
   */
  private async scanActive(): Promise<JobRecord[]> {
    const found: JobRecord[] = [];
    let start: Record<string, unknown> | undefined;
    try {
      do {
        const response = await this.dynamo.send(
          new ScanCommand({
            TableName: this.tableName,
            ConsistentRead: true,
            FilterExpression: '#status = :pending OR #status = :processing',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: { ':pending': 'PENDING', ':processing': 'PROCESSING' },
            ...(start ? { ExclusiveStartKey: start } : {}),
          }),
        );
        found.push(...((response.Items ?? []) as JobRecord[]));
        start = response.LastEvaluatedKey;
      } while (start);
    } catch (error) {
      throw this.translate(error, 'release');
    }
    return found;
  }

  /**
   * Every job with a status, oldest activity first, one page at a time (for a sweep over all of
   * them; listByStatus reads only the newest). Each shard of the index is read (keys only; with
   * `updatedAfter`/`updatedBefore`, only entries last updated in that window, ends excluded), then
   * the jobs themselves are read consistently: a job whose status moved on since (the index lags)
   * is left out.
   */
  async *pagesByStatus(status: JobStatus, options: { updatedAfter?: string; updatedBefore?: string; pageSize?: number } = {}): AsyncGenerator<JobRecord[]> {
    const { updatedAfter, updatedBefore, pageSize = 100 } = options;
    const window = [updatedAfter ? '#updatedAt > :after' : '', updatedBefore ? '#updatedAt < :before' : ''].filter(Boolean);
    // A key condition takes one comparison on the sort key: a window with both ends uses BETWEEN and drops the ends after.
    const sortCondition = window.length === 2 ? '#updatedAt BETWEEN :after AND :before' : window[0];
    for (let shard = 0; shard < STATUS_SHARDS; shard += 1) {
      let start: Record<string, unknown> | undefined;
      do {
        let jobIds: string[];
        try {
          const response = await this.dynamo.send(
            new QueryCommand({
              TableName: this.tableName,
              IndexName: STATUS_INDEX,
              KeyConditionExpression: sortCondition ? `#key = :value AND ${sortCondition}` : '#key = :value',
              ExpressionAttributeNames: { '#key': 'statusShard', ...(sortCondition ? { '#updatedAt': 'updatedAt' } : {}) },
              ExpressionAttributeValues: {
                ':value': `${status}#${shard}`,
                ...(updatedAfter ? { ':after': updatedAfter } : {}),
                ...(updatedBefore ? { ':before': updatedBefore } : {}),
              },
              ScanIndexForward: true,
              Limit: pageSize,
              ExclusiveStartKey: start,
            }),
          );
          jobIds = (response.Items ?? [])
            .filter((item) => (!updatedAfter || String(item.updatedAt) > updatedAfter) && (!updatedBefore || String(item.updatedAt) < updatedBefore))
            .map((item) => String(item.jobId));
          start = response.LastEvaluatedKey;
        } catch (error) {
          throw this.translate(error, 'query');
        }
        const records = (await this.getMany(jobIds)).filter((record) => record.status === status);
        if (records.length > 0) yield records;
      } while (start);
    }
  }

  /**
   * Ends a PENDING/PROCESSING job whose execution died without recording an outcome (the
   * sweeper): FAILED with `rejection`, only while it is still as read (the same status and
   * owning execution) and its lease is still expired at `now` (a re-run's claim renews both).
   * The write also takes the job's notification on for `notifySeconds` (see claimNotification).
   * Returns the record as written, or false when anything changed since it was read (another
   * sweep got there first, a re-run claimed it). A job that claimed its content lets go of it.
   */
  async abandon(record: JobRecord, now: Date, rejection: Rejection, notifySeconds: number): Promise<JobRecord | false> {
    const timestamp = now.toISOString();
    const update = updateExpression({
      set: {
        status: 'FAILED',
        statusShard: statusShard('FAILED', record.jobId),
        reasonCode: rejection.code,
        reasonError: rejection.error,
        reasonMessage: rejection.message,
        updatedAt: timestamp,
        notifyingUntil: new Date(now.getTime() + notifySeconds * 1000).toISOString(),
      },
      remove: ['leaseExpiresAt', 'notified'],
    });
    let written: JobRecord;
    try {
      const response = await this.dynamo.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { jobId: record.jobId },
          ...update,
          ConditionExpression: '#status = :seenStatus AND #owner = :owner AND #leaseExpiresAt < :now',
          ExpressionAttributeNames: { ...update.ExpressionAttributeNames, '#owner': 'executionId' },
          ExpressionAttributeValues: { ...update.ExpressionAttributeValues, ':seenStatus': record.status, ':owner': record.executionId, ':now': timestamp },
          ReturnValues: 'ALL_NEW',
        }),
      );
      written = response.Attributes as JobRecord;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw this.translate(error, 'abandon');
    }
    if (written.sha256 && written.recipe) await this.releaseContent(written.jobId, written.sha256, written.recipe);
    return written;
  }

  /**
   * Takes on publishing a finished job's missing notification for `seconds` (the sweeper): true
   * for exactly one of several sweeps racing, while the job is still as read (the same status
   * and owner), not notified, and nobody else's claim is running. A sweep that died holding it
   * lets the claim run out: the next sweep takes it on again (at least once, never two at a time).
   * NotifySuccess/NotifyError take the same claim before they publish (for the rest of their
   * invocation), so two copies of one execution (an Express replay) and a sweep publish once.
   */
  async claimNotification(record: Pick<JobRecord, 'jobId' | 'status' | 'executionId'>, now: Date, seconds: number): Promise<boolean> {
    try {
      await this.dynamo.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { jobId: record.jobId },
          UpdateExpression: 'SET #until = :until',
          ConditionExpression: '#status = :seenStatus AND #owner = :owner AND attribute_not_exists(#notified) AND (attribute_not_exists(#until) OR #until < :now)',
          ExpressionAttributeNames: { '#until': 'notifyingUntil', '#status': 'status', '#owner': 'executionId', '#notified': 'notified' },
          ExpressionAttributeValues: {
            ':until': new Date(now.getTime() + seconds * 1000).toISOString(),
            ':now': now.toISOString(),
            ':seenStatus': record.status,
            ':owner': record.executionId,
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw this.translate(error, 'notification claim');
    }
  }

  /**
   * Gives back the claim `claimNotification(record, now, seconds)` took, when its publish failed:
   * the step's Retry takes it again at once instead of waiting for it to run out. Only that very
   * claim (the same `notifyingUntil`) of a job not yet notified; anything else is left alone.
   */
  async releaseNotification(record: Pick<JobRecord, 'jobId' | 'executionId'>, now: Date, seconds: number): Promise<void> {
    await this.removeNotificationClaim(record.jobId, record.executionId, new Date(now.getTime() + seconds * 1000).toISOString());
  }

  /** Removes the notification claim `until` of a job not yet notified, owned by `executionId`; nothing when it changed. */
  private async removeNotificationClaim(jobId: string, executionId: string, until: string): Promise<void> {
    try {
      await this.dynamo.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { jobId },
          UpdateExpression: 'REMOVE #until',
          ConditionExpression: '#owner = :owner AND #until = :until AND attribute_not_exists(#notified)',
          ExpressionAttributeNames: { '#until': 'notifyingUntil', '#owner': 'executionId', '#notified': 'notified' },
          ExpressionAttributeValues: { ':until': until, ':owner': executionId },
        }),
      );
    } catch (error) {
      if (!isConditionFailure(error)) throw this.translate(error, 'notification release');
    }
  }

  async markNotified(jobId: string, executionId: string): Promise<void> {
    await this.owned(jobId, executionId, { set: { notified: true } });
  }

  /** Several jobs by id, read consistently (BatchGetItem, 100 at a time), in the order given; missing ones left out. */
  async getMany(jobIds: readonly string[]): Promise<JobRecord[]> {
    const found = new Map<string, JobRecord>();
    try {
      for (let offset = 0; offset < jobIds.length; offset += 100) {
        let keys: Array<Record<string, unknown>> = [...new Set(jobIds.slice(offset, offset + 100))].map((jobId) => ({ jobId }));
        for (let round = 0; keys.length > 0; round += 1) {
          if (round > 0) await new Promise((resolveTimer) => setTimeout(resolveTimer, Math.min(1000, 50 * 2 ** round)));
          if (round > 8) throw new LedgerUnavailableError(`DynamoDB left ${keys.length} keys unprocessed (read of ${this.tableName})`);
          const response = await this.dynamo.send(new BatchGetCommand({ RequestItems: { [this.tableName]: { Keys: keys, ConsistentRead: true } } }));
          for (const item of response.Responses?.[this.tableName] ?? []) found.set((item as JobRecord).jobId, item as JobRecord);
          keys = (response.UnprocessedKeys?.[this.tableName]?.Keys ?? []) as Array<Record<string, unknown>>;
        }
      }
    } catch (error) {
      throw this.translate(error, 'batch read');
    }
    return jobIds.flatMap((jobId) => found.get(jobId) ?? []);
  }

  async get(jobId: string): Promise<JobRecord | undefined> {
    try {
      const response = await this.dynamo.send(new GetCommand({ TableName: this.tableName, Key: { jobId }, ConsistentRead: true }));
      return response.Item as JobRecord | undefined;
    } catch (error) {
      throw this.translate(error, 'read');
    }
  }

  /**
   * The most recently updated jobs with a status, newest first: the index's shards are read
   * (keys only) and merged, then the jobs themselves are read consistently, so a job whose
   * status moved on since (the index lags) is left out.
   */
  async listByStatus(status: JobStatus, limit = 50): Promise<JobRecord[]> {
    const shards = await Promise.all(Array.from({ length: STATUS_SHARDS }, (_, shard) => this.queryKeys(STATUS_INDEX, 'statusShard', `${status}#${shard}`, limit)));
    const newest = shards
      .flat()
      .sort((a, b) => b.sortKey.localeCompare(a.sortKey))
      .slice(0, limit);
    return (await this.getMany(newest.map((entry) => entry.jobId))).filter((record) => record.status === status);
  }

  /** The jobs of one source key (its versions and re-uploads), newest first. */
  async listBySourceKey(sourceKey: string, limit = 50): Promise<JobRecord[]> {
    const entries = await this.queryKeys(SOURCE_INDEX, 'sourceKey', sourceKey, limit);
    return this.getMany(entries.map((entry) => entry.jobId));
  }

  /** Job ids (and sort keys) from a KEYS_ONLY index, newest first. */
  private async queryKeys(index: string, attribute: string, value: string, limit: number): Promise<Array<{ jobId: string; sortKey: string }>> {
    const sortAttribute = index === SOURCE_INDEX ? 'createdAt' : 'updatedAt';
    const entries: Array<{ jobId: string; sortKey: string }> = [];
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
            Limit: limit - entries.length,
            ExclusiveStartKey: start,
          }),
        );
        for (const item of response.Items ?? []) entries.push({ jobId: String(item.jobId), sortKey: String(item[sortAttribute] ?? '') });
        start = response.LastEvaluatedKey;
      } while (start && entries.length < limit);
    } catch (error) {
      throw this.translate(error, 'query');
    }
    return entries;
  }

  /**
   * A write conditional on owning the job (or, `orNew`, on no record yet): false when another
   * execution owns it, else the record as written. With `moveTo` (a status change), also only
   * while the job is PENDING or PROCESSING: a finished record is never changed by an execution.
   * One this execution already moved to `moveTo` (a retried step, an Express replay) is an
   * idempotent repeat: not written again, answered with the record as it is.
   */
  private async owned(jobId: string, executionId: string, expression: Expression, orNew = false, moveTo?: JobStatus): Promise<JobRecord | false> {
    const update = updateExpression(expression);
    const owner = moveTo ? '(#owner = :owner AND (#status = :pending OR #status = :processing))' : '#owner = :owner';
    try {
      const response = await this.dynamo.send(
        new UpdateCommand({
          TableName: this.tableName,
          Key: { jobId },
          ...update,
          ConditionExpression: orNew ? `attribute_not_exists(#owner) OR ${owner}` : owner,
          ExpressionAttributeNames: { ...update.ExpressionAttributeNames, '#owner': 'executionId', ...(moveTo ? { '#status': 'status' } : {}) },
          ExpressionAttributeValues: {
            ...update.ExpressionAttributeValues,
            ':owner': executionId,
            ...(moveTo ? { ':pending': 'PENDING', ':processing': 'PROCESSING' } : {}),
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return response.Attributes as JobRecord;
    } catch (error) {
      if (!isConditionFailure(error)) throw this.translate(error, 'update');
      if (!moveTo) return false;
      const existing = await this.get(jobId);
      return existing && existing.executionId === executionId && existing.status === moveTo ? existing : false;
    }
  }

  private translate(error: unknown, action: string): Error {
    if (error instanceof LedgerUnavailableError || error instanceof AccessDeniedError) return error;
    if ((error as Error).name === 'AccessDeniedException') {
      return new AccessDeniedError(`DynamoDB denied the ${action} on ${this.tableName}: check the function's role (${(error as Error).message})`, { cause: error });
    }
    if (isTransientAwsError(error)) {
      return new LedgerUnavailableError(`DynamoDB is unavailable (${action} on ${this.tableName}): ${(error as Error).message}`, { cause: error });
    }
    return error instanceof Error ? error : new Error(String(error));
  }
}
