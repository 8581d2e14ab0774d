import { type Job, LedgerUnavailableError, type ProcessedState, bundleKey } from '@imgflow/pipeline';
import { type FakeStepDeps, awsError, fakeDeps, fakeJob, fakeUpload } from '@imgflow/pipeline/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { notify } from '../../src/index.js';

/*
 * Express runs an execution at least once: two copies with the same execution id may both reach
 * NotifySuccess or NotifyError for one job. One notification, and the first outcome stands.
 */

let deps: FakeStepDeps;
let job: Job;

beforeEach(async () => {
  deps = fakeDeps();
  const source = fakeUpload(deps, 'photos/fox.jpg', Buffer.from('the upload'));
  job = fakeJob(source, { format: 'jpeg', width: 1200, height: 800, sha256: 'a'.repeat(64) });
  await deps.ledger.claim(source, job.jobId, job.executionId, deps.clock(), deps.config.leaseSeconds);
  await deps.ledger.markProcessing(job);
  for (const step of ['resize', 'filter'] as const) {
    deps.s3.seed(deps.config.outputBucket, bundleKey(deps.config.workPrefix, job.jobId, step), Buffer.from(step));
  }
});

function processed(): ProcessedState {
  return {
    outcome: 'valid',
    job,
    timings: { validate: 4 },
    intermediates: [
      { step: 'resize', bundleKey: bundleKey(deps.config.workPrefix, job.jobId, 'resize'), renditions: ['sm'], aliases: { sm: 'sm' }, millis: 20 },
      { step: 'filter', renditions: [], aliases: {}, millis: 0 },
    ],
    optimized: { outputs: [{ rendition: 'sm', format: 'webp', key: 'renditions/photos/fox/sm.webp', width: 320, height: 213, bytes: 999 }], passthrough: 0, manifestKey: 'renditions/photos/fox/manifest.json', millis: 30 },
  };
}

const success = () => ({ kind: 'success' as const, executionId: job.executionId, state: processed() });

describe('two copies of one execution notifying', () => {
  it('both at once: one publishes; the other finds the claim taken (retryable) and its retry finds the job notified', async () => {
    const outcomes = await Promise.allSettled([notify(success(), deps), notify(success(), deps)]);
    expect(deps.sns.published).toHaveLength(1);
    const lost = outcomes.find((outcome) => outcome.status === 'rejected' || outcome.value.messageId !== 'message-1');
    if (lost?.status === 'rejected') {
      expect(lost.reason).toMatchObject({ name: 'NotificationFailedError', message: expect.stringContaining('is being published by another run') });
      expect(await notify(success(), deps)).toMatchObject({ messageId: 'already-sent' });
    } else {
      expect(lost?.value).toMatchObject({ messageId: 'already-sent' });
    }
    expect(deps.sns.published).toHaveLength(1);
    expect(deps.ledger.records.get(job.jobId)).toMatchObject({ status: 'SUCCEEDED', notified: true });
  });

  it('a copy that failed after the other SUCCEEDED runs NotifyError: the record stays SUCCEEDED, nothing is published', async () => {
    await notify(success(), deps);
    const done = structuredClone(deps.ledger.records.get(job.jobId));
    const state = { job, error: { Error: 'SourceMissingError', Cause: 'SOURCE_MISSING: the work bundle is gone' } };
    expect(await notify({ kind: 'error', executionId: job.executionId, state }, deps)).toMatchObject({ messageId: 'not-owner' });
    expect(deps.ledger.records.get(job.jobId)).toEqual(done);
    expect(deps.sns.published).toHaveLength(1);
  });

  it('a copy reaching NotifySuccess after the other recorded FAILED: the record stays FAILED, nothing more is published', async () => {
    const state = { job, error: { Error: 'StorageUnavailableError', Cause: 'STORAGE_UNAVAILABLE: S3 is unavailable' } };
    await notify({ kind: 'error', executionId: job.executionId, state }, deps);
    const failed = structuredClone(deps.ledger.records.get(job.jobId));
    expect(await notify(success(), deps)).toMatchObject({ messageId: 'not-owner' });
    expect(deps.ledger.records.get(job.jobId)).toEqual(failed);
    expect(deps.sns.published).toHaveLength(1);
  });
});

describe('the notification claim', () => {
  it('lasts the rest of the invocation; one its failed publish could not give back makes the retry fail, not pass silently, until it runs out', async () => {
    deps.faults.fail('sns:PublishCommand', awsError('Throttling', 400, 'Rate exceeded'));
    deps.faults.fail('ledger:releaseNotification', new LedgerUnavailableError('DynamoDB is unavailable'));
    await expect(notify(success(), deps, { getRemainingTimeInMillis: () => 4200 })).rejects.toMatchObject({ name: 'NotificationFailedError' });
    expect(deps.ledger.records.get(job.jobId)).toMatchObject({ status: 'SUCCEEDED', notifyingUntil: '2030-01-01T00:00:05.000Z' });
    expect(deps.ledger.records.get(job.jobId)?.notified).toBeUndefined();
    await expect(notify(success(), deps)).rejects.toMatchObject({ name: 'NotificationFailedError', message: expect.stringContaining('another run') });
    expect(deps.sns.published).toEqual([]);
    deps.advance(5001);
    expect(await notify(success(), deps)).toMatchObject({ messageId: 'message-1' });
    expect(deps.ledger.records.get(job.jobId)).toMatchObject({ notified: true });
  });
});
