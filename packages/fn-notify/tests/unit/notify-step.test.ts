import { type Job, type JobNotification, LedgerUnavailableError, type ProcessedState, type ValidateResult, bundleKey, notificationFromRecord } from '@imgflow/pipeline';
import { type FakeStepDeps, awsError, fakeDeps, fakeJob, fakeUpload, objectCreatedEvent } from '@imgflow/pipeline/testing';
import { beforeEach, describe, expect, it } from 'vitest';
import { createNotifyHandler } from '../../src/index.js';

let deps: FakeStepDeps;
let job: Job;

const notify = (input: Parameters<ReturnType<typeof createNotifyHandler>>[0]) => createNotifyHandler(() => deps)(input);

/** The job as validation leaves it: claimed by its execution, PROCESSING, its bundles in the work prefix. */
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
      {
        step: 'resize',
        bundleKey: bundleKey(deps.config.workPrefix, job.jobId, 'resize'),
        renditions: ['sm'],
        aliases: { sm: 'sm' },
        placeholder: { kind: 'thumbhash', hash: 'abc', dominantColor: '#112233' },
        millis: 20,
      },
      { step: 'filter', renditions: [], aliases: {}, millis: 0 },
    ],
    optimized: {
      outputs: [{ rendition: 'sm', format: 'webp', key: 'renditions/photos/fox/sm.webp', width: 320, height: 213, bytes: 999, sha256: 'b'.repeat(64), fingerprint: '0123456789abcdef' }],
      passthrough: 0,
      manifestKey: 'renditions/photos/fox/manifest.json',
      millis: 30,
    },
  };
}

const workKeys = () => deps.s3.keys(deps.config.outputBucket, 'work/');

describe('NotifySuccess', () => {
  it('records SUCCEEDED, removes the work objects and publishes one job.succeeded message', async () => {
    const result = await notify({ kind: 'success', executionId: job.executionId, state: processed() });
    expect(result).toEqual({ jobId: job.jobId, status: 'SUCCEEDED', messageId: 'message-1' });
    expect(deps.ledger.records.get(job.jobId)).toMatchObject({
      status: 'SUCCEEDED',
      contentKey: `${job.sha256}#${job.recipe}`,
      outputBucket: deps.config.outputBucket,
      outputs: processed().optimized.outputs,
      manifestKey: 'renditions/photos/fox/manifest.json',
      placeholder: { kind: 'thumbhash', hash: 'abc' },
      timings: { validate: 4, resize: 20, filter: 0, optimize: 30 },
      cacheHit: false,
      notified: true,
    });
    expect(workKeys()).toEqual([]);
    expect(deps.sns.published).toHaveLength(1);
    const [published] = deps.sns.published;
    expect(published).toMatchObject({ topicArn: deps.config.successTopicArn, attributes: { status: 'SUCCEEDED', event: 'job.succeeded' } });
    expect(published?.message).toMatchObject({ schema: 'imgflow.job/1', jobId: job.jobId, outputs: processed().optimized.outputs, finishedAt: '2030-01-01T00:00:00.000Z' });
  });

  it('points the notification to the manifest, as the record does (a sweeper re-sending it says the same)', async () => {
    await notify({ kind: 'success', executionId: job.executionId, state: processed() });
    const manifest = { bucket: deps.config.outputBucket, key: 'renditions/photos/fox/manifest.json' };
    expect(deps.sns.published[0]?.message).toMatchObject({ manifest });
    const record = deps.ledger.records.get(job.jobId);
    expect(record && notificationFromRecord(record)).toMatchObject({ status: 'SUCCEEDED', manifest, outputs: processed().optimized.outputs });
  });

  it("points a cache hit's notification to the manifest ValidateImage wrote for it", async () => {
    const cached: Extract<ValidateResult, { outcome: 'cached' }> = {
      outcome: 'cached',
      job,
      outputs: processed().optimized.outputs,
      cachedFrom: 'f'.repeat(32),
      manifestKey: 'renditions/photos/fox/manifest.json',
      timings: { validate: 3 },
    };
    await notify({ kind: 'success', executionId: job.executionId, state: cached });
    expect(deps.ledger.records.get(job.jobId)).toMatchObject({ status: 'SUCCEEDED', cacheHit: true, manifestKey: cached.manifestKey });
    expect(deps.sns.published[0]?.message).toMatchObject({ cacheHit: true, manifest: { bucket: deps.config.outputBucket, key: cached.manifestKey } });
  });

  it('sends no manifest pointer for a state from before manifests', async () => {
    const { manifestKey: _manifestKey, ...older } = processed().optimized;
    await notify({ kind: 'success', executionId: job.executionId, state: { ...processed(), optimized: older as ProcessedState['optimized'] } });
    expect(deps.sns.published[0]?.message).not.toHaveProperty('manifest');
  });

  it('publishes once however often it is retried', async () => {
    await notify({ kind: 'success', executionId: job.executionId, state: processed() });
    expect(await notify({ kind: 'success', executionId: job.executionId, state: processed() })).toMatchObject({ messageId: 'already-sent' });
    expect(deps.sns.published).toHaveLength(1);
  });

  it('stays silent and leaves the work objects alone when another execution took the job over', async () => {
    deps.advance((deps.config.leaseSeconds + 1) * 1000);
    await deps.ledger.claim(job.source, job.jobId, 'arn:aws:states:eu-west-1:000000000000:execution:imgflow:other', deps.clock(), deps.config.leaseSeconds);
    expect(await notify({ kind: 'success', executionId: job.executionId, state: processed() })).toMatchObject({ messageId: 'not-owner' });
    expect(deps.sns.published).toEqual([]);
    expect(workKeys()).toHaveLength(2);
    expect(deps.ledger.records.get(job.jobId)?.status).toBe('PENDING');
  });

  it('records the outcome before publishing: SNS down is a NotificationFailedError, and the retry publishes', async () => {
    deps.faults.fail('sns:PublishCommand', awsError('Throttling', 400, 'Rate exceeded'));
    const error = await notify({ kind: 'success', executionId: job.executionId, state: processed() }).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: 'NotificationFailedError', code: 'NOTIFICATION_FAILED' });
    expect((error as Error).message).toMatch(/^NOTIFICATION_FAILED: Publishing job.succeeded for job [0-9a-f]{32} failed: Rate exceeded$/);
    expect(deps.ledger.records.get(job.jobId)).toMatchObject({ status: 'SUCCEEDED' });
    expect(deps.ledger.records.get(job.jobId)?.notified).toBeUndefined();
    await notify({ kind: 'success', executionId: job.executionId, state: processed() });
    expect(deps.sns.published).toHaveLength(1);
  });

  it('lets a ledger outage out as LedgerUnavailableError, publishing nothing', async () => {
    deps.faults.fail('ledger:succeed', new LedgerUnavailableError('DynamoDB is unavailable (update on imgflow-jobs): throttled'));
    await expect(notify({ kind: 'success', executionId: job.executionId, state: processed() })).rejects.toMatchObject({ name: 'LedgerUnavailableError' });
    expect(deps.sns.published).toEqual([]);
  });

  it('lets a transient S3 failure removing the work objects out as StorageUnavailableError, after publishing', async () => {
    deps.faults.fail('s3:DeleteObjectsCommand', awsError('InternalError', 500));
    await expect(notify({ kind: 'success', executionId: job.executionId, state: processed() })).rejects.toMatchObject({ name: 'StorageUnavailableError' });
    expect(deps.sns.published).toHaveLength(1);
  });

  it('raises work objects DeleteObjects reports in Errors[] (its 200): the retry removes them and publishes nothing twice', async () => {
    deps.s3.failDeleteKeys((key) => key.endsWith('resize.bundle'), 'SlowDown', 1, 'Please reduce your request rate.');
    await expect(notify({ kind: 'success', executionId: job.executionId, state: processed() })).rejects.toMatchObject({
      name: 'StorageUnavailableError',
      message: expect.stringContaining('resize.bundle (SlowDown: Please reduce your request rate.)'),
    });
    // Recorded and notified all the same; the left-over key is logged, not lost.
    expect(deps.ledger.records.get(job.jobId)).toMatchObject({ status: 'SUCCEEDED', notified: true });
    expect(deps.sns.published).toHaveLength(1);
    expect(workKeys()).toEqual([bundleKey(deps.config.workPrefix, job.jobId, 'resize')]);
    expect(deps.logger.entries.find((entry) => entry.message === 'could not remove the work objects')?.attributes).toMatchObject({ jobId: job.jobId });
    // The step's Retry: the keys go, nothing is published again.
    expect(await notify({ kind: 'success', executionId: job.executionId, state: processed() })).toMatchObject({ messageId: 'already-sent' });
    expect(workKeys()).toEqual([]);
    expect(deps.sns.published).toHaveLength(1);
  });

  it('raises a work object S3 refuses to delete as AccessDeniedError (the execution fails visibly), after recording and publishing', async () => {
    deps.s3.failDeleteKeys(() => true, 'AccessDenied', 1, 'Access Denied');
    await expect(notify({ kind: 'success', executionId: job.executionId, state: processed() })).rejects.toMatchObject({ name: 'AccessDeniedError' });
    expect(deps.ledger.records.get(job.jobId)).toMatchObject({ status: 'SUCCEEDED', notified: true });
    expect(deps.sns.published).toHaveLength(1);
  });
});

describe('NotifyError', () => {
  it('records a rejection caught from a step as REJECTED and publishes job.rejected with the reason', async () => {
    const state = { event: objectCreatedEvent(job.source), job, error: { Error: 'InvalidImageError', Cause: 'CORRUPT_IMAGE: Decoding the image: premature end' } };
    expect(await notify({ kind: 'error', executionId: job.executionId, state })).toMatchObject({ jobId: job.jobId, status: 'REJECTED' });
    expect(deps.ledger.records.get(job.jobId)).toMatchObject({
      status: 'REJECTED',
      reasonCode: 'CORRUPT_IMAGE',
      reasonError: 'InvalidImageError',
      reasonMessage: 'Decoding the image: premature end',
    });
    expect(workKeys()).toEqual([]);
    const [published] = deps.sns.published;
    if (!published) throw new Error('nothing was published');
    expect(published).toMatchObject({ topicArn: deps.config.errorTopicArn, attributes: { status: 'REJECTED', event: 'job.rejected', reason: 'CORRUPT_IMAGE' } });
    expect((published.message as JobNotification).reason).toEqual({ code: 'CORRUPT_IMAGE', error: 'InvalidImageError', message: 'Decoding the image: premature end' });
  });

  it("records validation's own rejection as REJECTED", async () => {
    const state = { outcome: 'rejected', job, rejection: { error: 'ImageTooLargeError', code: 'TOO_MANY_PIXELS', message: 'The image declares 9000×9000' }, timings: { validate: 3 } };
    expect(await notify({ kind: 'error', executionId: job.executionId, state })).toMatchObject({ status: 'REJECTED' });
    expect(deps.ledger.records.get(job.jobId)).toMatchObject({ status: 'REJECTED', reasonCode: 'TOO_MANY_PIXELS', timings: { validate: 3 } });
  });

  it('records an exhausted transient failure as FAILED', async () => {
    const state = { job, error: { Error: 'StorageUnavailableError', Cause: 'STORAGE_UNAVAILABLE: S3 is unavailable on write' } };
    expect(await notify({ kind: 'error', executionId: job.executionId, state })).toMatchObject({ status: 'FAILED' });
    expect(deps.ledger.records.get(job.jobId)).toMatchObject({ status: 'FAILED', reasonCode: 'STORAGE_UNAVAILABLE' });
    expect(deps.sns.published[0]?.attributes).toMatchObject({ status: 'FAILED', event: 'job.failed' });
  });

  it('records an upload that failed before it was claimed, from the execution input', async () => {
    const other = fakeUpload(deps, 'photos/never-claimed.jpg', Buffer.from('other'));
    const state = { event: objectCreatedEvent(other), error: { Error: 'LedgerUnavailableError', Cause: 'LEDGER_UNAVAILABLE: DynamoDB is unavailable' } };
    const result = await notify({ kind: 'error', executionId: 'arn:aws:states:eu-west-1:000000000000:execution:imgflow:x', state });
    expect(result.status).toBe('FAILED');
    expect(deps.ledger.records.get(result.jobId)).toMatchObject({ status: 'FAILED', sourceKey: 'photos/never-claimed.jpg', attempts: 1 });
  });

  it('finds the job validation claimed under the decoded form of an encoded event key', async () => {
    // ValidateImage resolved "photos/a+b.jpg" to "photos/a b.jpg" and claimed it, then failed.
    const upload = fakeUpload(deps, 'photos/a b.jpg', Buffer.from('spaced'));
    const executionId = 'arn:aws:states:eu-west-1:000000000000:execution:imgflow:encoded';
    const resolved = fakeJob(upload, { format: 'jpeg', width: 10, height: 10 });
    await deps.ledger.claim(upload, resolved.jobId, executionId, deps.clock(), deps.config.leaseSeconds);
    const state = { event: objectCreatedEvent({ ...upload, key: 'photos/a+b.jpg' }), error: { Error: 'AccessDeniedError', Cause: 'ACCESS_DENIED: denied' } };
    const result = await notify({ kind: 'error', executionId, state });
    expect(result).toMatchObject({ jobId: resolved.jobId, status: 'FAILED' });
    expect(deps.ledger.records.get(resolved.jobId)).toMatchObject({ status: 'FAILED', sourceKey: 'photos/a b.jpg', reasonCode: 'ACCESS_DENIED' });
    expect(deps.ledger.records.size).toBe(2);
  });

  it('refuses an execution input that is no upload, as InvalidEventError', async () => {
    const state = { hello: 'world', error: { Error: 'InvalidEventError', Cause: 'INVALID_EVENT: not an event' } };
    await expect(notify({ kind: 'error', executionId: job.executionId, state })).rejects.toMatchObject({ name: 'InvalidEventError' });
    expect(deps.logger.messages('ERROR')).toContain('workflow input is not an S3 Object Created event');
    expect(deps.sns.published).toEqual([]);
  });
});
