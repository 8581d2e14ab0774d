/**
 * In-memory stand-ins for what a step works with (StepDeps), for the unit tests of the Lambda
 * packages: `import { fakeDeps } from '@imgflow/pipeline/testing'`. Storage and the notifier
 * are the real classes over in-memory S3 and SNS clients, so their error translation is what
 * the tests exercise; the ledger keeps the DynamoDB ledger's rules (claims, leases, ownership)
 * in a Map. Faults are planned per SDK command or ledger method. Not part of any Lambda bundle.
 */
import { createHash } from 'node:crypto';
import { Logger } from '@aws-lambda-powertools/logger';
import { CopyObjectCommand, DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { PublishCommand, type SNSClient } from '@aws-sdk/client-sns';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { DEFAULT_RECIPE, resolveLimits } from '@imgflow/image-core/contracts';
import type { PipelineConfig } from './config.js';
import type { StepDeps } from './deps.js';
import type { ObjectCreatedEvent } from './events.js';
import { type ObjectRef, jobIdFor, outputStem } from './keys.js';
import { type ClaimOptions, type ClaimResult, type ContentClaim, type ContentClaimRecord, JobLedger, type JobRecord, contentClaimKey, statusShard } from './ledger.js';
import { Notifier } from './notifier.js';
import { type Job, type JobStatus, type OutputRecord, type Rejection, TERMINAL_STATUSES, type Timings } from './state.js';
import { Storage } from './storage.js';

/** The bucket fake uploads land in (the configuration knows only the output bucket). */
export const FAKE_UPLOAD_BUCKET = 'imgflow-uploads';

/** The configuration the fakes use unless a test overrides part of it. */
export function fakeConfig(overrides: Partial<PipelineConfig> = {}): PipelineConfig {
  return {
    outputBucket: 'imgflow-output',
    outputPrefix: 'renditions/',
    workPrefix: 'work/',
    assetsPrefix: 'assets/',
    jobsTable: 'imgflow-jobs',
    successTopicArn: 'arn:aws:sns:eu-west-1:000000000000:imgflow-success',
    errorTopicArn: 'arn:aws:sns:eu-west-1:000000000000:imgflow-error',
    recipe: DEFAULT_RECIPE,
    limits: resolveLimits({}),
    leaseSeconds: 900,
    cacheControl: 'public, max-age=31536000, immutable',
    ...overrides,
  };
}

/** An error shaped as an AWS service sends it (name, HTTP status), e.g. awsError('SlowDown', 503). */
export function awsError(name: string, status: number, message = name): Error {
  return Object.assign(new Error(message), { name, $metadata: { httpStatusCode: status }, $fault: status >= 500 ? 'server' : 'client' });
}

/**
 * Planned failures. A target is an SDK command ("s3:GetObjectCommand", "s3:PutObjectCommand",
 * "s3:CopyObjectCommand", "s3:DeleteObjectsCommand", "sns:PublishCommand") or a ledger method
 * ("ledger:claim", "ledger:claimContent", …). Each plan fails the next `times` calls, then goes away.
 */
export class FaultPlan {
  private readonly planned = new Map<string, Array<{ times: number; error: () => Error }>>();
  /** How many planned failures fired, by target. */
  readonly fired = new Map<string, number>();

  fail(target: string, error: Error | (() => Error), times = 1): void {
    const make = typeof error === 'function' ? error : () => error;
    this.planned.set(target, [...(this.planned.get(target) ?? []), { times, error: make }]);
  }

  /** Throws the planned failure of `target`, if any. */
  take(target: string): void {
    const queue = this.planned.get(target);
    const fault = queue?.[0];
    if (!queue || !fault) return;
    fault.times -= 1;
    if (fault.times <= 0) queue.shift();
    this.fired.set(target, (this.fired.get(target) ?? 0) + 1);
    throw fault.error();
  }
}

export interface StoredObject {
  body: Buffer;
  /** Without quotes, as ObjectRef holds it. */
  etag: string;
  contentType?: string;
  cacheControl?: string;
  /** The object's tags as a query string (`x-amz-tagging`), when it has any. */
  tags?: string;
}

/** One request the fake S3 answered (or failed). */
export interface S3Request {
  command: string;
  bucket: string;
  key: string;
}

function md5(body: Buffer): string {
  return createHash('md5').update(body).digest('hex');
}

/** The S3 client calls Storage makes (Get, Head, Put, Copy, DeleteObjects), on a Map, with S3's error shapes. */
export class MemoryS3 {
  readonly objects = new Map<string, StoredObject>();
  readonly requests: S3Request[] = [];
  private readonly deleteFailures: Array<{ keys: (key: string) => boolean; code: string; message: string; times: number }> = [];

  constructor(private readonly faults: FaultPlan) {}

  /**
   * Plans per-key DeleteObjects failures for the next `times` requests: the matching keys stay
   * and are listed in the 200 answer's `Errors` (as S3 reports them), the others are deleted.
   */
  failDeleteKeys(keys: (key: string) => boolean, code: string, times = 1, message = code): void {
    this.deleteFailures.push({ keys, code, message, times });
  }

  /** Stores an object without a request (test set-up) and returns its identity. */
  seed(bucket: string, key: string, body: Buffer, metadata: Pick<StoredObject, 'contentType' | 'cacheControl' | 'tags'> = {}): ObjectRef {
    const etag = md5(body);
    this.objects.set(`${bucket}/${key}`, { body: Buffer.from(body), etag, ...metadata });
    return { bucket, key, etag, size: body.length };
  }

  object(bucket: string, key: string): StoredObject | undefined {
    return this.objects.get(`${bucket}/${key}`);
  }

  /** Keys in a bucket under a prefix, sorted. */
  keys(bucket: string, prefix = ''): string[] {
    const start = `${bucket}/${prefix}`;
    return [...this.objects.keys()]
      .filter((name) => name.startsWith(start))
      .map((name) => name.slice(bucket.length + 1))
      .sort();
  }

  /** The requests of one command, e.g. 'PutObjectCommand'. */
  requestsOf(command: string): S3Request[] {
    return this.requests.filter((request) => request.command === command);
  }

  async send(command: unknown): Promise<unknown> {
    if (command instanceof GetObjectCommand) {
      const { Bucket = '', Key = '', IfMatch } = command.input;
      this.record('GetObjectCommand', Bucket, Key);
      const stored = this.existing(Bucket, Key);
      if (IfMatch && IfMatch.replace(/"/g, '') !== stored.etag) throw awsError('PreconditionFailed', 412, 'At least one of the pre-conditions you specified did not hold');
      const body = Buffer.from(stored.body);
      return { Body: { transformToByteArray: async () => new Uint8Array(body) }, ETag: `"${stored.etag}"`, ContentType: stored.contentType };
    }
    if (command instanceof HeadObjectCommand) {
      const { Bucket = '', Key = '' } = command.input;
      this.record('HeadObjectCommand', Bucket, Key);
      const stored = this.objects.get(`${Bucket}/${Key}`);
      // A HEAD answer has no body: the SDK names a 404 NotFound.
      if (!stored) throw awsError('NotFound', 404, 'Not Found');
      return { ETag: `"${stored.etag}"`, ContentLength: stored.body.length, ContentType: stored.contentType };
    }
    if (command instanceof PutObjectCommand) {
      const { Bucket = '', Key = '', Body, ContentType, CacheControl, Tagging } = command.input;
      this.record('PutObjectCommand', Bucket, Key);
      if (!Buffer.isBuffer(Body)) throw new Error('MemoryS3 stores Buffer bodies only');
      const { etag } = this.seed(Bucket, Key, Body, {
        ...(ContentType ? { contentType: ContentType } : {}),
        ...(CacheControl ? { cacheControl: CacheControl } : {}),
        ...(Tagging ? { tags: Tagging } : {}),
      });
      return { ETag: `"${etag}"` };
    }
    if (command instanceof CopyObjectCommand) {
      const { Bucket = '', Key = '', CopySource = '', ContentType, CacheControl, MetadataDirective, TaggingDirective, Tagging, CopySourceIfMatch } = command.input;
      this.record('CopyObjectCommand', Bucket, Key);
      const [path = ''] = CopySource.split('?');
      const slash = path.indexOf('/');
      const source = this.existing(path.slice(0, slash), decodeURIComponent(path.slice(slash + 1)));
      if (CopySourceIfMatch && CopySourceIfMatch.replace(/"/g, '') !== source.etag) {
        throw awsError('PreconditionFailed', 412, 'At least one of the pre-conditions you specified did not hold');
      }
      // Like S3: without REPLACE the source's metadata (and tags) are copied and the request's ignored.
      const replace = MetadataDirective === 'REPLACE';
      const contentType = replace ? ContentType : source.contentType;
      const cacheControl = replace ? CacheControl : source.cacheControl;
      const tags = TaggingDirective === 'REPLACE' ? Tagging : source.tags;
      this.objects.set(`${Bucket}/${Key}`, {
        body: Buffer.from(source.body),
        etag: source.etag,
        ...(contentType ? { contentType } : {}),
        ...(cacheControl ? { cacheControl } : {}),
        ...(tags ? { tags } : {}),
      });
      return { CopyObjectResult: { ETag: `"${source.etag}"` } };
    }
    if (command instanceof DeleteObjectsCommand) {
      const { Bucket = '', Delete } = command.input;
      const keys = (Delete?.Objects ?? []).map((object) => object.Key ?? '');
      this.record('DeleteObjectsCommand', Bucket, keys.join(','));
      const planned = this.deleteFailures[0];
      if (planned) {
        planned.times -= 1;
        if (planned.times <= 0) this.deleteFailures.shift();
      }
      const failed = keys.filter((key) => planned?.keys(key));
      for (const key of keys) if (!failed.includes(key)) this.objects.delete(`${Bucket}/${key}`);
      const errors = failed.map((Key) => ({ Key, Code: planned?.code, Message: planned?.message }));
      // Quiet mode: only the failures come back, inside a 200.
      return Delete?.Quiet ? { ...(errors.length ? { Errors: errors } : {}) } : { Deleted: keys.filter((key) => !failed.includes(key)).map((Key) => ({ Key })), ...(errors.length ? { Errors: errors } : {}) };
    }
    throw new Error(`MemoryS3 does not implement ${(command as object)?.constructor?.name ?? String(command)}`);
  }

  private record(command: string, bucket: string, key: string): void {
    this.requests.push({ command, bucket, key });
    this.faults.take(`s3:${command}`);
  }

  private existing(bucket: string, key: string): StoredObject {
    const stored = this.objects.get(`${bucket}/${key}`);
    if (!stored) throw awsError('NoSuchKey', 404, 'The specified key does not exist.');
    return stored;
  }
}

/** A message the fake SNS took. */
export interface PublishedMessage {
  topicArn: string;
  subject?: string;
  message: unknown;
  attributes: Record<string, string>;
  messageId: string;
}

/** The SNS client call Notifier makes (Publish), recorded. */
export class MemorySns {
  readonly published: PublishedMessage[] = [];

  constructor(private readonly faults: FaultPlan) {}

  async send(command: unknown): Promise<unknown> {
    if (!(command instanceof PublishCommand)) throw new Error(`MemorySns does not implement ${(command as object)?.constructor?.name ?? String(command)}`);
    this.faults.take('sns:PublishCommand');
    const { TopicArn = '', Subject, Message = '', MessageAttributes = {} } = command.input;
    const messageId = `message-${this.published.length + 1}`;
    this.published.push({
      topicArn: TopicArn,
      ...(Subject ? { subject: Subject } : {}),
      message: JSON.parse(Message) as unknown,
      attributes: Object.fromEntries(Object.entries(MessageAttributes).map(([name, value]) => [name, value.StringValue ?? ''])),
      messageId,
    });
    return { MessageId: messageId };
  }
}

type Changes = Partial<Record<keyof JobRecord, unknown>>;

/** What a DynamoDB write does to an item: undefined attributes are not written, listed ones removed. */
function applied(record: JobRecord | undefined, set: Changes, remove: readonly (keyof JobRecord)[] = []): JobRecord {
  const next: Record<string, unknown> = { ...record };
  for (const attribute of remove) delete next[attribute];
  for (const [attribute, value] of Object.entries(set)) if (value !== undefined) next[attribute] = structuredClone(value);
  return next as unknown as JobRecord;
}

/**
 * The job ledger's rules on a Map: a claim succeeds for a new upload, a FAILED one, an expired
 * lease or the execution that holds it; every later write is conditional on owning the job.
 */
export class MemoryLedger extends JobLedger {
  readonly records = new Map<string, JobRecord>();
  /** Content claims by their key (`content#<sha256>#<recipe>`), as the table holds them beside the jobs. */
  readonly contents = new Map<string, ContentClaimRecord>();

  constructor(
    private readonly faults: FaultPlan,
    private readonly now: () => Date,
  ) {
    super(undefined as unknown as DynamoDBDocumentClient, 'memory');
  }

  /**
   * Puts a record as is (test set-up), e.g. an earlier SUCCEEDED job for the content cache: a
   * SUCCEEDED record with a contentKey also becomes its content's DONE claim, as succeed() makes it.
   */
  seed(record: JobRecord): void {
    this.records.set(record.jobId, structuredClone(record));
    if (record.status === 'SUCCEEDED' && record.contentKey && !record.cacheHit) {
      const key = `content#${record.contentKey}`;
      const existing = this.contents.get(key);
      this.contents.set(key, {
        jobId: key,
        kind: 'content',
        owner: record.jobId,
        claimState: 'DONE',
        version: (existing?.version ?? 0) + 1,
        createdAt: existing?.createdAt ?? record.updatedAt,
        updatedAt: record.updatedAt,
      });
    }
  }

  override async claim(source: ObjectRef, jobId: string, executionId: string, now: Date, leaseSeconds: number, options: ClaimOptions = {}): Promise<ClaimResult> {
    this.faults.take('ledger:claim');
    const existing = this.records.get(jobId);
    const timestamp = now.toISOString();
    const active = existing?.status === 'PENDING' || existing?.status === 'PROCESSING';
    // As JobLedger: a FAILED job is claimed again only by another execution (not by a replay).
    const retriable = existing?.status === 'FAILED' && existing.executionId !== executionId;
    // …and a SUCCEEDED job only for another recipe (a re-render).
    const rerender =
      options.recipe !== undefined && existing?.status === 'SUCCEEDED' && existing.recipe !== options.recipe && existing.executionId !== executionId;
    if (!existing || retriable || rerender || (active && (existing.leaseExpiresAt ?? '') < timestamp)) {
      const record = applied(
        existing,
        {
          jobId,
          status: 'PENDING',
          statusShard: statusShard('PENDING', jobId),
          sourceBucket: source.bucket,
          sourceKey: source.key,
          versionId: source.versionId,
          etag: source.etag,
          size: source.size,
          executionId,
          updatedAt: timestamp,
          leaseExpiresAt: new Date(now.getTime() + leaseSeconds * 1000).toISOString(),
          createdAt: existing?.createdAt ?? timestamp,
          attempts: (existing?.attempts ?? 0) + 1,
        },
        ['reasonCode', 'reasonError', 'reasonMessage', 'outputs', 'contentKey', 'notified', 'notifyingUntil'],
      );
      this.records.set(jobId, record);
      return rerender ? { claimed: true, replaces: structuredClone(existing) } : { claimed: true };
    }
    if (existing.executionId === executionId && active) return { claimed: true };
    return { claimed: false, existing: structuredClone(existing) };
  }

  override async markProcessing(job: Job): Promise<boolean> {
    this.faults.take('ledger:markProcessing');
    if (!this.active(job.jobId)) return false;
    return this.ownedUpdate(job.jobId, job.executionId, {
      status: 'PROCESSING',
      statusShard: statusShard('PROCESSING', job.jobId),
      sha256: job.sha256,
      format: job.format,
      width: job.width,
      height: job.height,
      recipe: job.recipe,
      updatedAt: this.now().toISOString(),
    });
  }

  override async claimContent(job: Pick<Job, 'jobId' | 'sha256' | 'recipe'>, now: Date, leaseSeconds: number): Promise<ContentClaim> {
    this.faults.take('ledger:claimContent');
    const key = contentClaimKey(job.sha256, job.recipe);
    const item = this.contents.get(key);
    if (item?.owner === job.jobId && item.claimState === 'DONE') return { state: 'owner' };
    if (item && item.owner !== job.jobId) {
      if (item.claimState === 'DONE') {
        const record = this.records.get(item.owner);
        if (record?.status === 'SUCCEEDED' && record.outputs && record.outputBucket) return { state: 'done', record: structuredClone(record) };
      } else if ((item.leaseExpiresAt ?? '') >= now.toISOString()) {
        return { state: 'busy', owner: item.owner, leaseExpiresAt: item.leaseExpiresAt ?? '' };
      }
    }
    this.putContentClaim(key, job.jobId, now, leaseSeconds);
    return { state: 'owner' };
  }

  override async takeOverContent(job: Pick<Job, 'jobId' | 'sha256' | 'recipe'>, staleOwner: string, now: Date, leaseSeconds: number): Promise<boolean> {
    this.faults.take('ledger:takeOverContent');
    const key = contentClaimKey(job.sha256, job.recipe);
    const item = this.contents.get(key);
    if (!item || item.owner !== staleOwner || item.claimState !== 'DONE') return item?.owner === job.jobId;
    this.putContentClaim(key, job.jobId, now, leaseSeconds);
    return true;
  }

  private putContentClaim(key: string, jobId: string, now: Date, leaseSeconds: number): void {
    const existing = this.contents.get(key);
    const timestamp = now.toISOString();
    this.contents.set(key, {
      jobId: key,
      kind: 'content',
      owner: jobId,
      claimState: 'CLAIMED',
      leaseExpiresAt: new Date(now.getTime() + leaseSeconds * 1000).toISOString(),
      version: (existing?.version ?? 0) + 1,
      createdAt: existing?.createdAt ?? timestamp,
      updatedAt: timestamp,
    });
  }

  override async succeed(
    job: Pick<Job, 'jobId' | 'executionId' | 'sha256' | 'recipe'>,
    result: { outputBucket: string; outputs: OutputRecord[]; manifestKey?: string; placeholder?: JobRecord['placeholder']; timings: Timings; cacheHit: boolean; cachedFrom?: string },
  ): Promise<boolean> {
    this.faults.take('ledger:succeed');
    const timestamp = this.now().toISOString();
    // As JobLedger: only from PENDING/PROCESSING; this execution's own SUCCEEDED is a repeat, left as it is.
    const repeat = this.repeat(job.jobId, job.executionId, 'SUCCEEDED');
    if (repeat !== undefined) {
      if (repeat && !repeat.cacheHit) this.markContentDone(job, timestamp);
      return repeat !== false;
    }
    const owned = this.ownedUpdate(
      job.jobId,
      job.executionId,
      {
        status: 'SUCCEEDED',
        statusShard: statusShard('SUCCEEDED', job.jobId),
        contentKey: `${job.sha256}#${job.recipe}`,
        sha256: job.sha256,
        recipe: job.recipe,
        ...result,
        updatedAt: timestamp,
      },
      ['leaseExpiresAt'],
    );
    // As JobLedger: a cache hit never becomes the content's entry.
    if (owned && !result.cacheHit) this.markContentDone(job, timestamp);
    return owned;
  }

  /** As JobLedger: the first job to process the bytes stays their content's entry. */
  private markContentDone(job: Pick<Job, 'jobId' | 'sha256' | 'recipe'>, timestamp: string): void {
    const key = contentClaimKey(job.sha256, job.recipe);
    const item = this.contents.get(key);
    if (item?.claimState === 'DONE' && item.owner !== job.jobId) return;
    this.contents.set(key, {
      jobId: key,
      kind: 'content',
      owner: job.jobId,
      claimState: 'DONE',
      version: (item?.version ?? 0) + 1,
      createdAt: item?.createdAt ?? timestamp,
      updatedAt: timestamp,
    });
  }

  override async finish(source: ObjectRef, jobId: string, executionId: string, status: 'REJECTED' | 'FAILED', rejection: Rejection, timings: Timings): Promise<boolean> {
    this.faults.take('ledger:finish');
    const existing = this.records.get(jobId);
    if (existing && existing.executionId !== executionId) return false;
    const repeat = existing && this.repeat(jobId, executionId, status);
    if (repeat === false) return false;
    const timestamp = this.now().toISOString();
    const record = repeat ?? applied(
      existing,
      {
        jobId,
        status,
        statusShard: statusShard(status, jobId),
        sourceBucket: source.bucket,
        sourceKey: source.key,
        versionId: source.versionId,
        etag: source.etag,
        size: source.size,
        executionId,
        reasonCode: rejection.code,
        reasonError: rejection.error,
        reasonMessage: rejection.message,
        timings,
        updatedAt: timestamp,
        createdAt: existing?.createdAt ?? timestamp,
        attempts: existing?.attempts ?? 1,
      },
      ['leaseExpiresAt'],
    );
    this.records.set(jobId, record);
    // As JobLedger: a validated job that ends without success lets go of its content claim.
    if (record.sha256 && record.recipe) {
      const item = this.contents.get(contentClaimKey(record.sha256, record.recipe));
      if (item?.owner === jobId && item.claimState === 'CLAIMED') {
        item.leaseExpiresAt = new Date(this.now().getTime() - 1).toISOString();
        item.version += 1;
      }
    }
    return true;
  }

  override async releaseClaims(now: Date): Promise<string[]> {
    this.faults.take('ledger:releaseClaims');
    const released: string[] = [];
    for (const record of this.records.values()) {
      if (record.status !== 'PENDING' && record.status !== 'PROCESSING') continue;
      record.leaseExpiresAt = new Date(now.getTime() - 1).toISOString();
      released.push(record.jobId);
    }
    for (const record of this.records.values()) {
      if (TERMINAL_STATUSES.includes(record.status) && !record.notified) delete record.notifyingUntil;
    }
    return released;
  }

  override async markNotified(jobId: string, executionId: string): Promise<void> {
    this.faults.take('ledger:markNotified');
    this.ownedUpdate(jobId, executionId, { notified: true });
  }

  override async claimNotification(record: Pick<JobRecord, 'jobId' | 'status' | 'executionId'>, now: Date, seconds: number): Promise<boolean> {
    this.faults.take('ledger:claimNotification');
    const existing = this.records.get(record.jobId);
    if (!existing || existing.status !== record.status || existing.executionId !== record.executionId || existing.notified) return false;
    if (existing.notifyingUntil !== undefined && existing.notifyingUntil >= now.toISOString()) return false;
    existing.notifyingUntil = new Date(now.getTime() + seconds * 1000).toISOString();
    return true;
  }

  override async releaseNotification(record: Pick<JobRecord, 'jobId' | 'executionId'>, now: Date, seconds: number): Promise<void> {
    this.faults.take('ledger:releaseNotification');
    const existing = this.records.get(record.jobId);
    if (existing?.executionId === record.executionId && !existing.notified && existing.notifyingUntil === new Date(now.getTime() + seconds * 1000).toISOString()) {
      delete existing.notifyingUntil;
    }
  }

  override async get(jobId: string): Promise<JobRecord | undefined> {
    this.faults.take('ledger:get');
    const record = this.records.get(jobId);
    return record && structuredClone(record);
  }

  override async listByStatus(status: JobStatus, limit = 50): Promise<JobRecord[]> {
    this.faults.take('ledger:listByStatus');
    return this.newest((record) => record.status === status, limit);
  }

  override async getMany(jobIds: readonly string[]): Promise<JobRecord[]> {
    this.faults.take('ledger:getMany');
    return jobIds.flatMap((jobId) => {
      const record = this.records.get(jobId);
      return record ? [structuredClone(record)] : [];
    });
  }

  override async listBySourceKey(sourceKey: string, limit = 50): Promise<JobRecord[]> {
    this.faults.take('ledger:listBySourceKey');
    // As the bySourceKey index: newest created first.
    return this.newest((record) => record.sourceKey === sourceKey, limit, 'createdAt');
  }

  private newest(matches: (record: JobRecord) => boolean, limit: number, by: 'updatedAt' | 'createdAt' = 'updatedAt'): JobRecord[] {
    return [...this.records.values()]
      .filter(matches)
      .sort((a, b) => b[by].localeCompare(a[by]))
      .slice(0, limit)
      .map((record) => structuredClone(record));
  }

  /** Whether the job is PENDING or PROCESSING (JobLedger's status changes happen only then). */
  private active(jobId: string): boolean {
    const status = this.records.get(jobId)?.status;
    return status === 'PENDING' || status === 'PROCESSING';
  }

  /**
   * A status change on a job no longer PENDING/PROCESSING: the record as it is when this
   * execution already moved it to `status` (an idempotent repeat), false otherwise; undefined
   * while the job is active (the change is written).
   */
  private repeat(jobId: string, executionId: string, status: JobStatus): JobRecord | false | undefined {
    const existing = this.records.get(jobId);
    if (!existing || this.active(jobId)) return undefined;
    return existing.executionId === executionId && existing.status === status ? existing : false;
  }

  private ownedUpdate(jobId: string, executionId: string, set: Changes, remove: readonly (keyof JobRecord)[] = []): boolean {
    const existing = this.records.get(jobId);
    if (!existing || existing.executionId !== executionId) return false;
    this.records.set(jobId, applied(existing, set, remove));
    return true;
  }
}

/** One line the fake logger took. */
export interface LogEntry {
  level: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' | 'CRITICAL';
  message: string;
  attributes: Record<string, unknown>;
}

type LogArguments = Parameters<Logger['info']>;

/** A Powertools Logger that keeps its lines in `entries` instead of writing them. */
export class MemoryLogger extends Logger {
  readonly entries: LogEntry[] = [];

  constructor() {
    super({ serviceName: 'imgflow-test', logLevel: 'SILENT' });
  }

  override debug(...args: LogArguments): void {
    this.keep('DEBUG', args);
  }

  override info(...args: LogArguments): void {
    this.keep('INFO', args);
  }

  override warn(...args: LogArguments): void {
    this.keep('WARN', args);
  }

  override error(...args: LogArguments): void {
    this.keep('ERROR', args);
  }

  override critical(...args: LogArguments): void {
    this.keep('CRITICAL', args);
  }

  /** The messages logged, optionally of one level. */
  messages(level?: LogEntry['level']): string[] {
    return this.entries.filter((entry) => !level || entry.level === level).map((entry) => entry.message);
  }

  private keep(level: LogEntry['level'], [input, ...extra]: LogArguments): void {
    const { message = '', ...fields } = typeof input === 'string' ? { message: input } : (input as { message?: string });
    const attributes: Record<string, unknown> = { ...fields };
    for (const item of extra) {
      if (item instanceof Error) attributes.error = item.message;
      else if (typeof item === 'string') attributes.extra = item;
      else Object.assign(attributes, item);
    }
    this.entries.push({ level, message, attributes });
  }
}

/** StepDeps on in-memory services, with handles on each of them for the test to inspect or break. */
export interface FakeStepDeps extends StepDeps {
  ledger: MemoryLedger;
  logger: MemoryLogger;
  s3: MemoryS3;
  sns: MemorySns;
  faults: FaultPlan;
  /** Moves the clock on. */
  advance(milliseconds: number): void;
}

export interface FakeDepsOptions {
  config?: Partial<PipelineConfig>;
  /** The clock's start. Default: 2030-01-01T00:00:00Z. */
  now?: Date;
}

export function fakeDeps(options: FakeDepsOptions = {}): FakeStepDeps {
  let now = (options.now ?? new Date('2030-01-01T00:00:00.000Z')).getTime();
  const clock = () => new Date(now);
  const faults = new FaultPlan();
  const s3 = new MemoryS3(faults);
  const sns = new MemorySns(faults);
  return {
    config: fakeConfig(options.config),
    storage: new Storage(s3 as unknown as S3Client),
    ledger: new MemoryLedger(faults, clock),
    notifier: new Notifier(sns as unknown as SNSClient),
    logger: new MemoryLogger(),
    clock,
    s3,
    sns,
    faults,
    advance(milliseconds) {
      now += milliseconds;
    },
  };
}

/** Puts an upload into the fake upload bucket and returns its identity. */
export function fakeUpload(deps: FakeStepDeps, key: string, body: Buffer, contentType = 'image/jpeg'): ObjectRef {
  return deps.s3.seed(FAKE_UPLOAD_BUCKET, key, body, { contentType });
}

/** The EventBridge "Object Created" event S3 sends for an upload. */
export function objectCreatedEvent(source: ObjectRef, time = '2030-01-01T00:00:00.000Z'): ObjectCreatedEvent {
  return {
    version: '0',
    id: `event-${source.etag}`,
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: '000000000000',
    time,
    region: 'eu-west-1',
    resources: [`arn:aws:s3:::${source.bucket}`],
    detail: {
      version: '0',
      bucket: { name: source.bucket },
      object: { key: source.key, size: source.size, etag: source.etag, ...(source.versionId ? { 'version-id': source.versionId } : {}) },
      reason: 'PutObject',
    },
  };
}

/** The facts validation would have put in a job, for tests of the later steps. */
export type JobFacts = Pick<Job, 'format' | 'width' | 'height'> & Partial<Omit<Job, 'source' | 'jobId'>>;

/** A valid job for an upload, as ValidateImage returns it (the facts must match the upload's bytes). */
export function fakeJob(source: ObjectRef, facts: JobFacts): Job {
  return {
    jobId: jobIdFor(source),
    source,
    sha256: createHash('sha256').update(source.etag).digest('hex'),
    frames: 1,
    icc: false,
    clean: false,
    recipe: 'fake-recipe',
    stem: outputStem(source.key),
    executionId: `arn:aws:states:eu-west-1:000000000000:execution:imgflow:${jobIdFor(source)}`,
    startedAt: '2030-01-01T00:00:00.000Z',
    ...facts,
  };
}
