import { z } from 'zod';
import { InvalidEventError } from './errors.js';
import type { ObjectRef } from './keys.js';

/**
 * The execution input: the EventBridge "Object Created" event S3 sends, exactly as the
 * EventBridge rule passes it to the state machine. The local runtime builds the same shape
 * from s3rver's notification records, so the workflow sees one event format everywhere.
 */
export interface ObjectCreatedEvent {
  version: '0';
  id: string;
  'detail-type': 'Object Created';
  source: 'aws.s3';
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: {
    version: '0';
    bucket: { name: string };
    object: { key: string; size: number; etag: string; 'version-id'?: string; sequencer?: string };
    'request-id'?: string;
    requester?: string;
    reason?: string;
  };
}

const DetailSchema = z.object({
  bucket: z.object({ name: z.string().min(1) }),
  object: z.object({
    key: z.string().min(1).max(1024),
    size: z.number().int().nonnegative(),
    etag: z.string().min(1),
    'version-id': z.string().optional(),
  }),
});

/** Reads the object identity out of an Object Created event; anything else is an InvalidEventError. */
export function objectFromEvent(event: unknown): ObjectRef {
  const candidate = event as { 'detail-type'?: unknown; detail?: unknown } | null;
  if (!candidate || typeof candidate !== 'object' || candidate['detail-type'] !== 'Object Created') {
    throw new InvalidEventError('Expected an S3 "Object Created" event as the execution input');
  }
  const parsed = DetailSchema.safeParse(candidate.detail);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new InvalidEventError(`The Object Created event lacks detail.${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''}`);
  }
  const { bucket, object } = parsed.data;
  return {
    bucket: bucket.name,
    key: object.key,
    etag: object.etag.replace(/"/g, ''),
    size: object.size,
    ...(object['version-id'] ? { versionId: object['version-id'] } : {}),
  };
}

/** An S3 event-notification record (what S3 sends to SNS/SQS/Lambda, and what s3rver emits). */
export interface S3NotificationRecord {
  eventName: string;
  eventTime: string;
  awsRegion?: string;
  s3: {
    bucket: { name: string };
    object: { key: string; size?: number; eTag?: string; versionId?: string; sequencer?: string };
  };
}

/**
 * Turns an S3 notification record into the EventBridge event. Keys in notification records
 * are URL-encoded with '+' for spaces; EventBridge carries them decoded.
 * Returns undefined for records that are not object creations.
 */
export function objectCreatedFromRecord(record: S3NotificationRecord, account = '000000000000'): ObjectCreatedEvent | undefined {
  if (!record.eventName.startsWith('ObjectCreated:')) return undefined;
  const key = decodeURIComponent(record.s3.object.key.replace(/\+/g, ' '));
  const region = record.awsRegion ?? 'us-east-1';
  return {
    version: '0',
    id: `${record.s3.bucket.name}-${record.s3.object.sequencer ?? record.eventTime}`,
    'detail-type': 'Object Created',
    source: 'aws.s3',
    account,
    time: record.eventTime,
    region,
    resources: [`arn:aws:s3:::${record.s3.bucket.name}`],
    detail: {
      version: '0',
      bucket: { name: record.s3.bucket.name },
      object: {
        key,
        size: record.s3.object.size ?? 0,
        etag: (record.s3.object.eTag ?? '').replace(/"/g, ''),
        ...(record.s3.object.versionId ? { 'version-id': record.s3.object.versionId } : {}),
        ...(record.s3.object.sequencer ? { sequencer: record.s3.object.sequencer } : {}),
      },
      reason: record.eventName.slice('ObjectCreated:'.length),
    },
  };
}
