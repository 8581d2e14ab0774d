import type { Placeholder } from '@imgflow/image-core';
import type { ObjectRef } from './keys.js';
import type { JobRecord } from './ledger.js';
import type { JobStatus, OutputRecord, Timings } from './state.js';

/**
 * The SNS message schema (JSON in the message body). Version 1. Attributes `status`, `reason`
 * and `event` are also set as SNS message attributes, so subscriptions can filter on them.
 */
export interface JobNotification {
  schema: 'imgflow.job/1';
  event: 'job.succeeded' | 'job.rejected' | 'job.failed';
  jobId: string;
  status: Extract<JobStatus, 'SUCCEEDED' | 'REJECTED' | 'FAILED'>;
  source: { bucket: string; key: string; versionId?: string; etag: string; size: number };
  /** Present on success: bucket and keys of every output. */
  outputBucket?: string;
  outputs?: OutputRecord[];
  /** Present on success: the image's manifest (docs/manifest.md), everything a front end needs in one object. */
  manifest?: { bucket: string; key: string };
  placeholder?: Placeholder;
  cacheHit?: boolean;
  /** Present on rejection/failure. */
  reason?: { code: string; error: string; message: string };
  timings: Timings;
  executionId: string;
  finishedAt: string;
}

export interface MessageAttributes {
  status: string;
  event: string;
  reason?: string;
}

export function notificationFor(
  status: JobNotification['status'],
  fields: Omit<JobNotification, 'schema' | 'event' | 'status' | 'source'> & { source: ObjectRef },
): JobNotification {
  const { source, ...rest } = fields;
  return {
    schema: 'imgflow.job/1',
    event: status === 'SUCCEEDED' ? 'job.succeeded' : status === 'REJECTED' ? 'job.rejected' : 'job.failed',
    status,
    source: {
      bucket: source.bucket,
      key: source.key,
      etag: source.etag,
      size: source.size,
      ...(source.versionId ? { versionId: source.versionId } : {}),
    },
    ...rest,
  };
}

export function attributesFor(message: JobNotification): MessageAttributes {
  return { status: message.status, event: message.event, ...(message.reason ? { reason: message.reason.code } : {}) };
}

/**
 * The notification of a terminal ledger record, as the notify step would have sent it: for a
 * runner that died between recording the outcome and publishing it.
 */
export function notificationFromRecord(record: JobRecord): JobNotification | undefined {
  if (record.status !== 'SUCCEEDED' && record.status !== 'REJECTED' && record.status !== 'FAILED') return undefined;
  const source: ObjectRef = {
    bucket: record.sourceBucket,
    key: record.sourceKey,
    etag: record.etag,
    size: record.size,
    ...(record.versionId ? { versionId: record.versionId } : {}),
  };
  const common = { jobId: record.jobId, source, timings: record.timings ?? {}, executionId: record.executionId, finishedAt: record.updatedAt };
  if (record.status === 'SUCCEEDED') {
    return notificationFor('SUCCEEDED', {
      ...common,
      ...(record.outputBucket ? { outputBucket: record.outputBucket } : {}),
      outputs: record.outputs ?? [],
      ...(record.outputBucket && record.manifestKey ? { manifest: { bucket: record.outputBucket, key: record.manifestKey } } : {}),
      ...(record.placeholder ? { placeholder: record.placeholder } : {}),
      cacheHit: record.cacheHit ?? false,
    });
  }
  return notificationFor(record.status, {
    ...common,
    reason: { code: record.reasonCode ?? 'INTERNAL_ERROR', error: record.reasonError ?? 'Unknown', message: record.reasonMessage ?? '' },
  });
}
