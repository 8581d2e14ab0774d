import { createHash } from 'node:crypto';
import { recipeFingerprint, resolveLimits } from '@imgflow/image-core';
import type { JobRecord, ValidateResult } from '@imgflow/pipeline';
import { type FakeStepDeps, awsError, fakeDeps, fakeUpload, objectCreatedEvent } from '@imgflow/pipeline/testing';
import { photoLike } from '@imgflow/samples';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createValidateHandler } from '../../src/index.js';

const EXECUTION = 'arn:aws:states:eu-west-1:000000000000:execution:imgflow:first';
const SECOND_EXECUTION = 'arn:aws:states:eu-west-1:000000000000:execution:imgflow:second';

let photo: Buffer;
let deps: FakeStepDeps;

beforeAll(async () => {
  photo = await photoLike({ width: 640, height: 480, seed: 3 });
});

beforeEach(() => {
  deps = fakeDeps();
});

/** Uploads `body` and runs ValidateImage for its event through the handler, as Step Functions would. */
function validateUpload(body: Buffer, key = 'photos/cat.jpg', executionId = EXECUTION) {
  const source = fakeUpload(deps, key, body);
  const handler = createValidateHandler(() => deps);
  return { source, result: handler({ event: objectCreatedEvent(source), executionId }) };
}

function outcomeOf<O extends ValidateResult['outcome']>(result: ValidateResult, outcome: O): Extract<ValidateResult, { outcome: O }> {
  expect(result.outcome).toBe(outcome);
  return result as Extract<ValidateResult, { outcome: O }>;
}

describe('ValidateImage', () => {
  it('claims a valid upload, reads its facts from the header and marks the job PROCESSING', async () => {
    const { source, result } = validateUpload(photo, 'photos/Holiday Cat.JPG');
    const { job, timings } = outcomeOf(await result, 'valid');
    expect(job).toMatchObject({
      source,
      executionId: EXECUTION,
      format: 'jpeg',
      width: 640,
      height: 480,
      frames: 1,
      icc: false,
      clean: true,
      sha256: createHash('sha256').update(photo).digest('hex'),
      recipe: recipeFingerprint(deps.config.recipe),
      startedAt: '2030-01-01T00:00:00.000Z',
    });
    expect(job.stem).toMatch(/^photos\/Holiday_Cat-[0-9a-f]{8}$/);
    expect(timings.validate).toBeGreaterThanOrEqual(0);
    expect(deps.ledger.records.get(job.jobId)).toMatchObject({ status: 'PROCESSING', executionId: EXECUTION, sha256: job.sha256, attempts: 1 });
    // One read of the upload, pinned to the ETag of the event.
    expect(deps.s3.requests).toEqual([{ command: 'GetObjectCommand', bucket: source.bucket, key: source.key }]);
  });

  it('stops a duplicate delivery at the claim: no read, the first run keeps the job', async () => {
    const first = validateUpload(photo);
    const { job } = outcomeOf(await first.result, 'valid');
    const handler = createValidateHandler(() => deps);
    const again = await handler({ event: objectCreatedEvent(first.source), executionId: SECOND_EXECUTION });
    expect(again).toEqual({ outcome: 'duplicate', jobId: job.jobId, existingStatus: 'PROCESSING' });
    expect(deps.s3.requestsOf('GetObjectCommand')).toHaveLength(1);
    expect(deps.ledger.records.get(job.jobId)?.executionId).toBe(EXECUTION);
    expect(deps.logger.messages('INFO')).toContain('duplicate delivery');
  });

  it('lets the execution that holds the claim validate again (a Retry), and another one once the lease expired', async () => {
    const first = validateUpload(photo);
    outcomeOf(await first.result, 'valid');
    const handler = createValidateHandler(() => deps);
    const event = objectCreatedEvent(first.source);
    outcomeOf(await handler({ event, executionId: EXECUTION }), 'valid');
    deps.advance((deps.config.leaseSeconds + 1) * 1000);
    const { job } = outcomeOf(await handler({ event, executionId: SECOND_EXECUTION }), 'valid');
    expect(deps.ledger.records.get(job.jobId)).toMatchObject({ executionId: SECOND_EXECUTION, attempts: 2 });
  });

  it('rejects bytes that are no image, naming the reason', async () => {
    const { result } = validateUpload(Buffer.from('this is a text file, not a photo'), 'photos/notes.jpg');
    const rejected = outcomeOf(await result, 'rejected');
    expect(rejected.rejection).toMatchObject({ error: 'UnsupportedFormatError', code: 'UNKNOWN_FORMAT' });
    expect(rejected.job).toMatchObject({ stem: 'photos/notes', executionId: EXECUTION });
  });

  it('rejects an image above the pixel limit from its header', async () => {
    deps = fakeDeps({ config: { limits: resolveLimits({ maxPixels: 100_000 }) } });
    const rejected = outcomeOf(await validateUpload(photo).result, 'rejected');
    expect(rejected.rejection).toMatchObject({ error: 'ImageTooLargeError', code: 'TOO_MANY_PIXELS' });
  });

  it('rejects a file with too many bytes from the event alone, without reading it', async () => {
    deps = fakeDeps({ config: { limits: resolveLimits({ maxBytes: 1000 }) } });
    const rejected = outcomeOf(await validateUpload(photo).result, 'rejected');
    expect(rejected.rejection).toEqual({
      error: 'ImageTooLargeError',
      code: 'TOO_MANY_BYTES',
      message: `The file is ${photo.length} bytes; the limit is 1000 bytes`,
    });
    expect(deps.s3.requests).toEqual([]);
  });

  it('rejects an upload deleted or overwritten since its event as SOURCE_MISSING', async () => {
    const source = fakeUpload(deps, 'photos/cat.jpg', photo);
    deps.s3.seed(source.bucket, source.key, await photoLike({ width: 64, height: 64, seed: 9 }));
    const handler = createValidateHandler(() => deps);
    const overwritten = outcomeOf(await handler({ event: objectCreatedEvent(source), executionId: EXECUTION }), 'rejected');
    expect(overwritten.rejection).toMatchObject({ error: 'SourceMissingError', code: 'SOURCE_MISSING' });
    expect(overwritten.rejection.message).toContain('was overwritten after its event was sent');

    const gone = { ...source, key: 'photos/gone.jpg' };
    const deleted = outcomeOf(await handler({ event: objectCreatedEvent(gone), executionId: EXECUTION }), 'rejected');
    expect(deleted.rejection).toMatchObject({ error: 'SourceMissingError', code: 'SOURCE_MISSING' });
  });

  it('answers an earlier result for the same bytes and recipe by copying its outputs', async () => {
    const earlier = validateUpload(photo, 'photos/first.jpg');
    const { job: first } = outcomeOf(await earlier.result, 'valid');
    const outputKey = 'renditions/photos/first/sm.webp';
    deps.s3.seed(deps.config.outputBucket, outputKey, Buffer.from('webp bytes'), { contentType: 'image/webp', cacheControl: deps.config.cacheControl });
    const record: JobRecord = {
      ...(deps.ledger.records.get(first.jobId) as JobRecord),
      status: 'SUCCEEDED',
      contentKey: `${first.sha256}#${first.recipe}`,
      outputBucket: deps.config.outputBucket,
      outputs: [{ rendition: 'sm', format: 'webp', key: outputKey, width: 320, height: 240, bytes: 10 }],
      placeholder: { kind: 'thumbhash', hash: 'abc', dominantColor: '#102030' },
    };
    deps.ledger.seed(record);

    const cached = outcomeOf(await validateUpload(photo, 'photos/second.jpg', SECOND_EXECUTION).result, 'cached');
    expect(cached.cachedFrom).toBe(first.jobId);
    expect(cached.placeholder).toEqual(record.placeholder);
    expect(cached.outputs).toEqual([{ rendition: 'sm', format: 'webp', key: 'renditions/photos/second/sm.webp', width: 320, height: 240, bytes: 10 }]);
    const copy = deps.s3.object(deps.config.outputBucket, 'renditions/photos/second/sm.webp');
    expect(copy).toMatchObject({ contentType: 'image/webp', cacheControl: deps.config.cacheControl });
    expect(copy?.body.toString()).toBe('webp bytes');
    // The job stays PENDING: NotifySuccess records it SUCCEEDED with the copied outputs.
    expect(deps.ledger.records.get(cached.job.jobId)?.status).toBe('PENDING');
  });

  it('processes the upload when the cached outputs are gone (a stale cache entry)', async () => {
    const earlier = validateUpload(photo, 'photos/first.jpg');
    const { job: first } = outcomeOf(await earlier.result, 'valid');
    deps.ledger.seed({
      ...(deps.ledger.records.get(first.jobId) as JobRecord),
      status: 'SUCCEEDED',
      contentKey: `${first.sha256}#${first.recipe}`,
      outputBucket: deps.config.outputBucket,
      outputs: [{ rendition: 'sm', format: 'webp', key: 'renditions/photos/first/sm.webp', width: 320, height: 240, bytes: 10 }],
    });
    outcomeOf(await validateUpload(photo, 'photos/second.jpg', SECOND_EXECUTION).result, 'valid');
    expect(deps.logger.messages('INFO')).toContain('stale cache entry: processing instead');
  });

  it('lets a transient S3 failure out as StorageUnavailableError, for Retry', async () => {
    deps.faults.fail('s3:GetObjectCommand', () => awsError('SlowDown', 503, 'Please reduce your request rate.'));
    const error = await validateUpload(photo).result.catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: 'StorageUnavailableError', code: 'STORAGE_UNAVAILABLE' });
    expect((error as Error).message).toMatch(/^STORAGE_UNAVAILABLE: S3 is unavailable on read of s3:\/\/imgflow-uploads\/photos\/cat\.jpg/);
    expect(deps.logger.entries.find((entry) => entry.message === 'ValidateImage failed')?.attributes).toMatchObject({ error: 'StorageUnavailableError' });
  });

  it('lets a denied read out as AccessDeniedError (the deployment is at fault, not the upload)', async () => {
    deps.faults.fail('s3:GetObjectCommand', () => awsError('AccessDenied', 403));
    await expect(validateUpload(photo).result).rejects.toMatchObject({ name: 'AccessDeniedError', code: 'ACCESS_DENIED' });
  });

  it('lets a ledger outage out as LedgerUnavailableError', async () => {
    const { LedgerUnavailableError } = await import('@imgflow/pipeline');
    deps.faults.fail('ledger:claim', () => new LedgerUnavailableError('DynamoDB is unavailable (claim on imgflow-jobs): throttled'));
    await expect(validateUpload(photo).result).rejects.toMatchObject({ name: 'LedgerUnavailableError' });
    expect(deps.s3.requests).toEqual([]);
  });

  it('refuses an execution input that is not an Object Created event', async () => {
    const handler = createValidateHandler(() => deps);
    await expect(handler({ event: { hello: 'world' } as never, executionId: EXECUTION })).rejects.toMatchObject({ name: 'InvalidEventError', code: 'INVALID_EVENT' });
  });
});
