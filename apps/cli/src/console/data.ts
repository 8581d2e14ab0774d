import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import type { LocalStack } from '@imgflow/local-runtime';
import { type AwsClients, type JobLedger, type JobRecord, type JobStatus, destroyClients, jobIdFor } from '@imgflow/pipeline';
import { STATUSES } from '../commands/status.js';
import { type ExecutionHistory, type ExecutionRecorder, readHistories } from './history.js';

/** An object's bytes, or where the browser may fetch it itself (a presigned URL). */
export type Media = { kind: 'bytes'; body: Uint8Array; contentType?: string } | { kind: 'redirect'; url: string };

export interface UploadResult {
  key: string;
  jobId: string;
}

/**
 * What the console reads and does, wherever the pipeline runs: the local runtime's ledger and
 * buckets (LocalConsoleData) or a deployment's (RemoteConsoleData). The server only ever asks for
 * objects a job record names.
 */
export interface ConsoleData {
  readonly mode: 'local' | 'remote';
  /** Where the jobs come from, for the page header. */
  readonly where: string;
  /** Every job the ledger lists (up to `JOBS_PER_STATUS` per status), newest first. */
  listJobs(): Promise<JobRecord[]>;
  getJob(jobId: string): Promise<JobRecord | undefined>;
  /** An object of a bucket a record names (the server picks bucket and key from the record). */
  media(bucket: string, key: string): Promise<Media | undefined>;
  /** The executions recorded for a job (the local engine's history), oldest first; none remotely. */
  histories(jobId: string): Promise<ExecutionHistory[]>;
  /** Starts the workflow for a file, as an upload does; absent when the console cannot upload. */
  upload?(key: string, body: Buffer, contentType: string): Promise<UploadResult>;
  close(): Promise<void>;
}

export const JOBS_PER_STATUS = 1000;

async function listAll(ledger: JobLedger): Promise<JobRecord[]> {
  const lists = await Promise.all(STATUSES.map((status: JobStatus) => ledger.listByStatus(status, JOBS_PER_STATUS)));
  const byId = new Map<string, JobRecord>();
  for (const record of lists.flat()) byId.set(record.jobId, record);
  return [...byId.values()].sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : a.updatedAt > b.updatedAt ? -1 : a.jobId.localeCompare(b.jobId)));
}

function isMissing(error: unknown): boolean {
  const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
  const name = (error as { name?: string }).name;
  return status === 404 || name === 'NoSuchKey' || name === 'NotFound';
}

async function readObject(s3: S3Client, bucket: string, key: string): Promise<Media | undefined> {
  try {
    const response = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    const body = await response.Body?.transformToByteArray();
    if (!body) return undefined;
    return { kind: 'bytes', body, ...(response.ContentType ? { contentType: response.ContentType } : {}) };
  } catch (error) {
    if (isMissing(error)) return undefined;
    throw error;
  }
}

/**
 * The local runtime's data: its ledger, its buckets through its own S3 client, the executions the
 * recorder saw (and earlier runs wrote to the data folder), uploads through the trigger as
 * `imgflow run` does (`stack.upload`).
 */
export class LocalConsoleData implements ConsoleData {
  readonly mode = 'local';
  readonly where: string;

  constructor(
    private readonly stack: LocalStack,
    private readonly dataDir: string,
    private readonly recorder?: ExecutionRecorder,
    /** Stops what this data started (the standalone console's stack); nothing for a borrowed stack. */
    private readonly onClose: () => Promise<void> = async () => undefined,
  ) {
    this.where = `local runtime in ${dataDir}`;
  }

  listJobs(): Promise<JobRecord[]> {
    return listAll(this.stack.ledger);
  }

  getJob(jobId: string): Promise<JobRecord | undefined> {
    return this.stack.ledger.get(jobId);
  }

  media(bucket: string, key: string): Promise<Media | undefined> {
    return readObject(this.stack.clients.s3, bucket, key);
  }

  async histories(jobId: string): Promise<ExecutionHistory[]> {
    return [...(await readHistories(this.dataDir, jobId)), ...(this.recorder?.inFlight(jobId) ?? [])];
  }

  async upload(key: string, body: Buffer, contentType: string): Promise<UploadResult> {
    const ref = await this.stack.upload(key, body, contentType);
    return { key, jobId: jobIdFor(ref) };
  }

  close(): Promise<void> {
    return this.onClose();
  }
}

/** How long a presigned URL for a rendition stays valid. */
const PRESIGN_SECONDS = 900;

/**
 * A deployment's data: its ledger (DynamoDB), objects through presigned URLs (the browser fetches
 * them from S3 itself), uploads into its upload bucket (its trigger starts the workflow).
 * No execution history here: timelines come from the ledger's per-step timings.
 */
export class RemoteConsoleData implements ConsoleData {
  readonly mode = 'remote';
  readonly upload?: (key: string, body: Buffer, contentType: string) => Promise<UploadResult>;

  constructor(
    private readonly clients: AwsClients,
    private readonly ledger: JobLedger,
    readonly where: string,
    uploadBucket?: string,
  ) {
    if (uploadBucket) {
      this.upload = async (key, body, contentType) => {
        const response = await this.clients.s3.send(new PutObjectCommand({ Bucket: uploadBucket, Key: key, Body: body, ContentType: contentType }));
        const ref = {
          bucket: uploadBucket,
          key,
          ...(response.VersionId ? { versionId: response.VersionId } : {}),
          etag: (response.ETag ?? '').replace(/"/g, ''),
          size: body.length,
        };
        return { key, jobId: jobIdFor(ref) };
      };
    }
  }

  listJobs(): Promise<JobRecord[]> {
    return listAll(this.ledger);
  }

  getJob(jobId: string): Promise<JobRecord | undefined> {
    return this.ledger.get(jobId);
  }

  async media(bucket: string, key: string): Promise<Media | undefined> {
    const url = await getSignedUrl(this.clients.s3, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: PRESIGN_SECONDS });
    return { kind: 'redirect', url };
  }

  async histories(): Promise<ExecutionHistory[]> {
    return [];
  }

  async close(): Promise<void> {
    destroyClients(this.clients);
  }
}
