import { z } from 'zod';
import { InvalidEventError } from './errors.js';
import type { ObjectRef } from './keys.js';

/**
 * The execution input: the EventBridge "Object Created" event S3 sends, exactly as the
 * EventBridge rule passes it to the state machine. The local runtime builds the same shape
 * from the S3 emulator's notification records, so the workflow sees one event format everywhere.
 * `detail.object.key` may be URL-encoded or not (AWS does not document it): objectFromEvent
 * gives the key as the event has it, and ValidateImage resolves it (resolveEventObject).
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

/**
 * Reads the object identity out of an Object Created event (the key exactly as the event has it,
 * see resolveEventObject); anything else is an InvalidEventError.
 */
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

/** An S3 event-notification record (what S3 sends to SNS/SQS/Lambda, and what the local S3 emulator emits). */
export interface S3NotificationRecord {
  eventName: string;
  eventTime: string;
  awsRegion?: string;
  s3: {
    bucket: { name: string };
    /** `key` is URL-encoded as S3 writes it into notifications: `red flower+1.jpg` arrives as `red+flower%2B1.jpg`. */
    object: { key: string; size?: number; eTag?: string; versionId?: string; sequencer?: string };
  };
}

/**
 * The object key as S3 writes it into event notifications: form-urlencoded, `/` kept, a space as
 * `+` (so a real `+` is `%2B`). What the local S3 emulator puts into its records, as AWS does.
 */
export function encodeEventKey(key: string): string {
  return encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+');
}

/**
 * Form-decodes an event key (`+` → space, `%XX` → the byte). Undefined when the key is no valid
 * encoding (a `%` not followed by two hex digits of UTF-8): then it can only be the raw key.
 */
export function decodeEventKey(key: string): string | undefined {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

/**
 * The keys an Object Created event's key may stand for: the key as given and, when it differs,
 * its form-decoded version. S3 notification records carry encoded keys; whether EventBridge's
 * `detail.object.key` is encoded is not documented, so both are candidates (see resolveEventObject).
 */
export function eventKeyCandidates(key: string): string[] {
  const decoded = decodeEventKey(key);
  return decoded !== undefined && decoded !== key ? [key, decoded] : [key];
}

/** What a HEAD tells about an object; undefined when S3 says there is no such object (or version). */
export type HeadObject = (location: { bucket: string; key: string; versionId?: string }) => Promise<{ etag: string; size: number; versionId?: string } | undefined>;

/**
 * The object an Object Created event is about. When the event's key reads the same decoded (no
 * `+`, no `%`), it is the key: no request. Otherwise the key is ambiguous (`a+b.jpg` is `a b.jpg`
 * encoded, or a key that really holds a `+`), and one HEAD of the decoded form decides: it is the
 * object only if its ETag and size (and the event's version, when there is one) are the event's.
 * Otherwise the key as given is kept; reading it with the event's ETag (If-Match) then proves it,
 * or ends the job SOURCE_MISSING when neither form is the object. A key that really contains
 * `+` or `%` is never taken for its decoded form unless an object with the same bytes exists
 * under that decoded key too (then the two cannot be told apart from the event; with a versioned
 * bucket the version id tells them apart).
 */
export async function resolveEventObject(given: ObjectRef, head: HeadObject): Promise<ObjectRef> {
  const [, decoded] = eventKeyCandidates(given.key);
  if (decoded === undefined) return given;
  const found = await head({ bucket: given.bucket, key: decoded, ...(given.versionId ? { versionId: given.versionId } : {}) });
  return found && found.etag === given.etag && found.size === given.size ? { ...given, key: decoded } : given;
}

/** `detail.reason` of the events a backfill builds from a bucket listing (infra/modules/backfill: its ItemSelector). */
export const BACKFILL_REASON = 'Backfill';

/**
 * A backfill's event comes from a bucket listing, which names no version. In a versioned
 * bucket the upload's own event named one, and the version is part of the job's identity
 * (jobIdFor): one HEAD reads the object's current version, so a backfill of an object the
 * trigger already processed is that same job (a duplicate), not a second one. Other events,
 * and objects that changed since they were listed (another ETag), are left as they are.
 */
export async function withListedVersion(given: ObjectRef, event: Pick<ObjectCreatedEvent, 'detail'>, head: HeadObject): Promise<ObjectRef> {
  if (given.versionId || event.detail.reason !== BACKFILL_REASON) return given;
  const found = await head({ bucket: given.bucket, key: given.key });
  return found?.versionId && found.etag === given.etag ? { ...given, versionId: found.versionId } : given;
}

/** How the local trigger writes `detail.object.key` into the EventBridge event it builds from a notification record. */
export type EventBridgeKeys = 'decoded' | 'encoded';

/**
 * Turns an S3 notification record into the EventBridge "Object Created" event. The record's key
 * is URL-encoded (as AWS sends it); `keys: 'decoded'` (the default) puts the decoded key into
 * the event, `'encoded'` the key as the record has it (what LocalStack's EventBridge does; what
 * AWS's does is not documented: the pipeline resolves either, see resolveEventObject).
 * Returns undefined for records that are not object creations.
 */
export function objectCreatedFromRecord(record: S3NotificationRecord, account = '000000000000', keys: EventBridgeKeys = 'decoded'): ObjectCreatedEvent | undefined {
  if (!record.eventName.startsWith('ObjectCreated:')) return undefined;
  const key = keys === 'decoded' ? (decodeEventKey(record.s3.object.key) ?? record.s3.object.key) : record.s3.object.key;
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
