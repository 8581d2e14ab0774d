import { GetObjectCommand, HeadObjectCommand, ListObjectsCommand } from '@aws-sdk/client-s3';
import { type ExecutionReport, LOCAL_CREDENTIALS, LOCAL_REGION, LocalStack, type LocalStackOptions } from '@imgflow/local-runtime';
import {
  type AwsClients,
  type JobNotification,
  type JobRecord,
  type ObjectCreatedEvent,
  type ObjectRef,
  ImageManifestSchema,
  JobLedger,
  createClients,
  destroyClients,
  jobIdFor,
  outputStem,
} from '@imgflow/pipeline';
import sharp from 'sharp';

/** How long one execution may take before the check calls it hung (the slowest Lambda timeout is 300 s). */
export const EXECUTION_DEADLINE_MS = 310_000;

/**
 * A LocalStack with its trigger on, and a way to wait for the execution an upload started.
 * Uploads go through the trigger, as on AWS (S3 event → EventBridge → StartExecution).
 */
export class Harness {
  private readonly waiters = new Map<string, Array<(report: ExecutionReport) => void>>();
  /** Clients of the checks themselves: faults injected into the handlers' clients never hit them. */
  readonly observer: AwsClients;
  readonly ledger: JobLedger;

  private constructor(readonly stack: LocalStack) {
    this.observer = createClients({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, endpoints: stack.emulators.endpoints, maxAttempts: 1 });
    this.ledger = new JobLedger(this.observer.dynamo, stack.config.jobsTable);
    stack.enableTrigger((update) => {
      if (update.type !== 'finished') return;
      const key = update.report.event.detail.object.key;
      const queue = this.waiters.get(key);
      queue?.shift()?.(update.report);
      if (queue && queue.length === 0) this.waiters.delete(key);
    });
  }

  static async start(options: LocalStackOptions = {}): Promise<Harness> {
    return new Harness(await LocalStack.start({ retryPauseMs: 5, ...options }));
  }

  /** Uploads and resolves with the execution's report, or undefined if it did not finish by the deadline. */
  async upload(key: string, body: Buffer, deadlineMs = EXECUTION_DEADLINE_MS): Promise<{ ref: ObjectRef; jobId: string; report: ExecutionReport | undefined }> {
    const finished = this.nextExecution(key, deadlineMs);
    const ref = await this.stack.upload(key, body);
    return { ref, jobId: jobIdFor(ref), report: await finished };
  }

  /** The report of the next execution the trigger starts for `key`, or undefined past the deadline. */
  nextExecution(key: string, deadlineMs = EXECUTION_DEADLINE_MS): Promise<ExecutionReport | undefined> {
    const finished = new Promise<ExecutionReport>((resolve) => {
      const queue = this.waiters.get(key) ?? [];
      queue.push(resolve);
      this.waiters.set(key, queue);
    });
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), deadlineMs);
    });
    return Promise.race([finished, deadline]).finally(() => clearTimeout(timer));
  }

  /**
   * Every key under a prefix. ListObjects (v1, with Marker): s3rver 3.7.1 builds ListObjectsV2
   * continuation tokens with the DES cipher, which Node's OpenSSL 3 lacks, so a V2 listing of
   * more than 1000 keys fails with InternalError there (an emulator limit, not an S3 one).
   */
  async listKeys(bucket: string, prefix = ''): Promise<string[]> {
    const keys: string[] = [];
    let marker: string | undefined;
    for (;;) {
      const page = await this.observer.s3.send(new ListObjectsCommand({ Bucket: bucket, Prefix: prefix, Marker: marker }));
      const batch = (page.Contents ?? []).flatMap((object) => (object.Key === undefined ? [] : [object.Key]));
      keys.push(...batch);
      if (!page.IsTruncated || batch.length === 0) break;
      marker = page.NextMarker ?? batch.at(-1);
    }
    return keys.sort();
  }

  async download(bucket: string, key: string): Promise<Buffer> {
    const response = await this.observer.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
    return Buffer.from(await (response.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
  }

  async stop(): Promise<void> {
    destroyClients(this.observer);
    await this.stack.stop();
  }
}

export interface UploadExpectation {
  status: 'SUCCEEDED' | 'REJECTED' | 'FAILED';
  code?: string;
  /** Notifications for this job (1; 0 when SNS is down on purpose). */
  notifications: number;
  /** The execution's own end: 'SUCCEEDED' unless given (JobFailed, NotificationFailed). */
  executionError?: string;
  forbiddenInOutputs?: string[];
  /** No output may carry GPS or XMP. */
  noGps?: boolean;
}

export interface UploadCheck {
  ref: ObjectRef;
  jobId: string;
  report?: ExecutionReport;
  record?: JobRecord;
  notifications: JobNotification[];
  problems: string[];
}

/** The EXIF GPS IFD pointer tag (0x8825), as stored little- or big-endian in a TIFF header. */
const GPS_TAGS = [Buffer.from([0x25, 0x88]), Buffer.from([0x88, 0x25])];

/**
 * Every guarantee for one upload: one record with the expected status and reason, the expected
 * notifications, outputs exactly as recorded (none unless SUCCEEDED), no work objects, nothing
 * outside renditions/ in the output bucket, and the original unchanged.
 */
export async function checkUpload(harness: Harness, key: string, body: Buffer, expected: UploadExpectation): Promise<UploadCheck> {
  const { stack } = harness;
  const outputBucket = stack.config.outputBucket;
  const before = await stack.drainNotifications();
  const { ref, jobId, report } = await harness.upload(key, body);
  const problems: string[] = before.length > 0 ? [`${before.length} stray notification(s) before the upload`] : [];
  if (!report) problems.push(`the execution did not finish within ${EXECUTION_DEADLINE_MS / 1000} s`);
  await stack.whenIdle();
  const record = await harness.ledger.get(jobId);
  const notifications = await stack.drainNotifications();
  const mine = notifications.filter((message) => message.jobId === jobId);

  if (!record) problems.push('no ledger record');
  else {
    if (record.status !== expected.status) problems.push(`ledger status ${record.status}, expected ${expected.status}`);
    if (expected.code !== undefined && record.reasonCode !== expected.code) {
      problems.push(`reason ${record.reasonCode ?? '(none)'}: ${record.reasonMessage ?? ''}; expected ${expected.code}`);
    }
    if (expected.status !== 'SUCCEEDED' && !record.reasonCode) problems.push('a rejection or failure without a reason code');
  }
  const records = (await harness.ledger.listBySourceKey(key)).filter((each) => each.etag === ref.etag);
  if (records.length !== 1) problems.push(`${records.length} ledger records for the upload`);
  const wantedExecution = expected.executionError ?? 'SUCCEEDED';
  const gotExecution = report?.status === 'FAILED' ? (report.error?.name ?? 'FAILED') : report?.status;
  if (report && gotExecution !== wantedExecution) problems.push(`execution ended ${gotExecution} (${report.error?.cause ?? ''}), expected ${wantedExecution}`);

  if (mine.length !== expected.notifications) problems.push(`${mine.length} notifications, expected ${expected.notifications}`);
  if (notifications.length !== mine.length) problems.push(`${notifications.length - mine.length} notification(s) for other jobs`);
  for (const message of mine) {
    if (message.status !== expected.status) problems.push(`notification says ${message.status}`);
    if (expected.code !== undefined && message.reason?.code !== expected.code) problems.push(`notification reason ${message.reason?.code ?? '(none)'}`);
  }

  const everything = await harness.listKeys(outputBucket);
  const outside = everything.filter((each) => !each.startsWith(stack.config.outputPrefix) && !each.startsWith(stack.config.workPrefix));
  if (outside.length > 0) problems.push(`objects outside renditions/: ${outside.slice(0, 3).join(', ')}`);
  const work = everything.filter((each) => each.startsWith(stack.config.workPrefix));
  if (work.length > 0) problems.push(`${work.length} work object(s) left: ${work.slice(0, 3).join(', ')}`);
  const stored = await harness.listKeys(outputBucket, `${stack.config.outputPrefix}${outputStem(key)}/`);
  // The outputs and the manifest that lists them (docs/manifest.md).
  const recorded = [...(record?.outputs ?? []).map((output) => output.key), ...(record?.manifestKey ? [record.manifestKey] : [])].sort();
  if (expected.status !== 'SUCCEEDED' && (stored.length > 0 || recorded.length > 0)) problems.push(`${stored.length} output(s) stored for a job that did not succeed`);
  if (expected.status === 'SUCCEEDED') {
    if (recorded.length === 0) problems.push('no outputs recorded');
    if (!record?.manifestKey) problems.push('no manifest recorded');
    if (JSON.stringify(stored) !== JSON.stringify(recorded)) problems.push(`stored outputs ${stored.length} ≠ recorded ${recorded.length}`);
    for (const outputKey of recorded) {
      if (!outputKey.startsWith(stack.config.outputPrefix) || outputKey.split('/').includes('..') || !/^[A-Za-z0-9._/-]+$/.test(outputKey)) {
        problems.push(`unsafe output key ${JSON.stringify(outputKey)}`);
      }
    }
    if (record?.manifestKey) {
      const manifest = ImageManifestSchema.safeParse(JSON.parse((await harness.download(outputBucket, record.manifestKey)).toString()));
      if (!manifest.success) problems.push(`the manifest is not an imgflow.manifest/1: ${manifest.error.issues[0]?.message ?? ''}`);
    }
    // The images: the manifest is data about them (it names the upload's key, whatever it holds).
    for (const outputKey of (record?.outputs ?? []).map((output) => output.key)) {
      if (!expected.forbiddenInOutputs && !expected.noGps) continue;
      const bytes = await harness.download(outputBucket, outputKey);
      const text = bytes.toString('latin1');
      for (const forbidden of expected.forbiddenInOutputs ?? []) {
        if (text.includes(forbidden)) problems.push(`${outputKey} contains ${JSON.stringify(forbidden)}`);
      }
      if (expected.noGps) {
        const metadata = await sharp(bytes).metadata();
        if (metadata.xmp) problems.push(`${outputKey} carries XMP`);
        if (metadata.exif && GPS_TAGS.some((tag) => metadata.exif?.includes(tag))) problems.push(`${outputKey} carries an EXIF GPS block`);
      }
    }
  }

  try {
    const head = await harness.observer.s3.send(new HeadObjectCommand({ Bucket: stack.uploadBucket, Key: key }));
    if ((head.ETag ?? '').replace(/"/g, '') !== ref.etag || head.ContentLength !== body.length) problems.push('the original upload was modified');
  } catch (error) {
    problems.push(`the original upload is gone (${(error as Error).name})`);
  }
  return { ref, jobId, ...(report ? { report } : {}), ...(record ? { record } : {}), notifications: mine, problems };
}

/** The EventBridge Object Created event S3 sends for an object: what a second delivery of the same upload looks like. */
export function objectCreatedEvent(object: ObjectRef): ObjectCreatedEvent {
  return {
    version: '0',
    id: `redelivery-${object.key}`,
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: '000000000000',
    time: new Date().toISOString(),
    region: LOCAL_REGION,
    resources: [`arn:aws:s3:::${object.bucket}`],
    detail: {
      version: '0',
      bucket: { name: object.bucket },
      object: { key: object.key, size: object.size, etag: object.etag, ...(object.versionId ? { 'version-id': object.versionId } : {}) },
    },
  };
}
