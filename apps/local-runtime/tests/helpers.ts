import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { type JobRecord, type ObjectCreatedEvent, type ObjectRef, eventKeyCandidates, jobIdFor } from '@imgflow/pipeline';
import sharp from 'sharp';
import type { ExecutionReport, LocalStack } from '../src/index.js';

/** A photo-like JPEG: gradient plus grain, so encoders behave as on real pictures. */
export async function photoJpeg(width: number, height: number, seed = 1): Promise<Buffer> {
  const data = Buffer.alloc(width * height * 3);
  let state = seed;
  for (let index = 0; index < data.length; index += 3) {
    state = (state * 1103515245 + 12345) >>> 0;
    const grain = (state >>> 24) / 16 - 8;
    const pixel = index / 3;
    const x = pixel % width;
    const y = Math.floor(pixel / width);
    data[index] = Math.max(0, Math.min(255, (x / width) * 220 + 20 + grain));
    data[index + 1] = Math.max(0, Math.min(255, (y / height) * 200 + 30 + grain));
    data[index + 2] = Math.max(0, Math.min(255, 120 + grain * 2));
  }
  return sharp(data, { raw: { width, height, channels: 3 } }).jpeg({ quality: 85 }).toBuffer();
}

/**
 * Uploads through the trigger and waits for the workflow(s) it started. The event's key is the
 * uploaded key, or its URL-encoded form with the stack's `eventBridgeKeys: 'encoded'`. With
 * `submit`, as `imgflow run` does (LocalStack.submit): bytes already there are not uploaded again,
 * their event is delivered again.
 */
export async function uploadAndWait(
  stack: LocalStack,
  key: string,
  body: Buffer,
  options: { tags?: string; submit?: boolean } = {},
): Promise<{ reports: ExecutionReport[]; record: JobRecord | undefined; jobId: string; object: ObjectRef }> {
  const reports: ExecutionReport[] = [];
  stack.enableTrigger((update) => {
    if (update.type === 'finished' && eventKeyCandidates(update.report.event.detail.object.key).includes(key)) reports.push(update.report);
  });
  const object = options.submit ? await stack.submit(key, body) : await stack.upload(key, body, undefined, options.tags);
  // s3rver emits its event after answering the PUT: wait for the execution to start.
  for (let tries = 0; tries < 200 && reports.length === 0; tries += 1) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    await stack.whenIdle();
  }
  const jobId = jobIdFor(object);
  return { reports, record: await stack.ledger.get(jobId), jobId, object };
}

/** A moment of an execution: when it enters or leaves a state. */
export interface Moment {
  when: 'entered' | 'exited';
  state: string;
}

/**
 * Uploads through the trigger and, at `moment` of the execution that upload starts, runs `act`
 * (e.g. deletes or overwrites the upload while a fault holds the next step); waits until every
 * execution for the key, including any `act` starts, has finished.
 */
export async function uploadAndAct(
  stack: LocalStack,
  key: string,
  body: Buffer,
  moment: Moment,
  act: (object: ObjectRef) => Promise<unknown>,
): Promise<{ reports: ExecutionReport[]; record: JobRecord | undefined; jobId: string; object: ObjectRef }> {
  const reports: ExecutionReport[] = [];
  let execution: string | undefined;
  let acted: Promise<unknown> | undefined;
  const uploaded = new Promise<ObjectRef>((resolve) => {
    stack.enableTrigger((update) => {
      if (update.type === 'started' && execution === undefined && eventKeyCandidates(update.event.detail.object.key).includes(key)) execution = update.name;
      if (update.type === moment.when && update.name === execution && update.state === moment.state && !acted) {
        acted = uploaded.then(act);
      }
      if (update.type === 'finished' && eventKeyCandidates(update.report.event.detail.object.key).includes(key)) reports.push(update.report);
    });
    stack.upload(key, body).then(resolve);
  });
  const object = await uploaded;
  for (let tries = 0; tries < 500 && (reports.length === 0 || !acted); tries += 1) {
    await new Promise((resolve) => setTimeout(resolve, 10));
    await stack.whenIdle();
  }
  await acted;
  await stack.whenIdle();
  const jobId = jobIdFor(object);
  return { reports, record: await stack.ledger.get(jobId), jobId, object };
}

export async function listKeys(stack: LocalStack, bucket: string, prefix = ''): Promise<string[]> {
  const response = await stack.clients.s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
  return (response.Contents ?? []).map((object) => object.Key ?? '').sort();
}

export async function download(stack: LocalStack, key: string): Promise<Buffer> {
  const response = await stack.clients.s3.send(new GetObjectCommand({ Bucket: stack.config.outputBucket, Key: key }));
  return Buffer.from(await (response.Body as { transformToByteArray(): Promise<Uint8Array> }).transformToByteArray());
}

/** The EventBridge Object Created event for an object, as S3 would send it. */
export function objectCreatedEvent(object: ObjectRef): ObjectCreatedEvent {
  return {
    version: '0',
    id: `test-${object.key}`,
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account: '000000000000',
    time: new Date().toISOString(),
    region: 'us-east-1',
    resources: [`arn:aws:s3:::${object.bucket}`],
    detail: {
      version: '0',
      bucket: { name: object.bucket },
      object: { key: object.key, size: object.size, etag: object.etag, ...(object.versionId ? { 'version-id': object.versionId } : {}) },
    },
  };
}
