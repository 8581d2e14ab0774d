import { createHash } from 'node:crypto';
import { recipeFingerprint, renditionFingerprint, resolveLimits, sha256Hex } from '@imgflow/image-core';
import { ImageManifestSchema, type JobRecord, MANIFEST_CACHE_CONTROL, type ValidateResult, jobIdFor } from '@imgflow/pipeline';
import { FAKE_UPLOAD_BUCKET, type FakeStepDeps, awsError, fakeDeps, fakeUpload, objectCreatedEvent } from '@imgflow/pipeline/testing';
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

  it('resolves a URL-encoded event key to the upload whose ETag and size match, with one HEAD', async () => {
    const source = fakeUpload(deps, 'photos/c++ plus+sign 100%.jpg', photo);
    const handler = createValidateHandler(() => deps);
    const encoded = { ...source, key: 'photos/c%2B%2B+plus%2Bsign+100%25.jpg' };
    const { job } = outcomeOf(await handler({ event: objectCreatedEvent(encoded), executionId: EXECUTION }), 'valid');
    expect(job.source).toEqual(source);
    expect(job.jobId).toBe(jobIdFor(source));
    expect(deps.s3.requests).toEqual([
      { command: 'HeadObjectCommand', bucket: source.bucket, key: source.key },
      { command: 'GetObjectCommand', bucket: source.bucket, key: source.key },
    ]);
  });

  it('keeps a key that really contains + or % (the event key was not encoded)', async () => {
    for (const key of ['photos/a+b.jpg', 'photos/x%2By.jpg']) {
      deps = fakeDeps();
      const source = fakeUpload(deps, key, photo);
      // Another upload under the decoded key, other bytes: the ETag tells them apart.
      fakeUpload(deps, decodeURIComponent(key.replace(/\+/g, ' ')), await photoLike({ width: 64, height: 64, seed: 5 }));
      const { job } = outcomeOf(await createValidateHandler(() => deps)({ event: objectCreatedEvent(source), executionId: EXECUTION }), 'valid');
      expect(job.source.key, key).toBe(key);
      expect(deps.s3.requestsOf('HeadObjectCommand'), key).toHaveLength(1);
    }
  });

  it('rejects as SOURCE_MISSING when neither the key nor its decoded form is the upload', async () => {
    const handler = createValidateHandler(() => deps);
    const gone = { bucket: FAKE_UPLOAD_BUCKET, key: 'photos/a+b.jpg', etag: 'e0', size: 10 };
    const rejected = outcomeOf(await handler({ event: objectCreatedEvent(gone), executionId: EXECUTION }), 'rejected');
    expect(rejected.rejection).toMatchObject({ error: 'SourceMissingError', code: 'SOURCE_MISSING' });
    expect(deps.ledger.records.get(jobIdFor(gone))).toMatchObject({ status: 'PENDING', sourceKey: 'photos/a+b.jpg' });
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
    // The record predates manifests (no sha256): the hash is read from the copy; the fingerprint is the recipe's.
    const fingerprint = renditionFingerprint(deps.config.recipe, deps.config.recipe.renditions[0] as never);
    const sha256 = sha256Hex(Buffer.from('webp bytes'));
    expect(cached.outputs).toEqual([{ rendition: 'sm', format: 'webp', key: 'renditions/photos/second/sm.webp', width: 320, height: 240, bytes: 10, sha256, fingerprint }]);
    const copy = deps.s3.object(deps.config.outputBucket, 'renditions/photos/second/sm.webp');
    expect(copy).toMatchObject({ contentType: 'image/webp', cacheControl: deps.config.cacheControl });
    expect(copy?.body.toString()).toBe('webp bytes');
    // The new upload gets its own manifest beside the copies; the state carries its key.
    expect(cached.manifestKey).toBe('renditions/photos/second/manifest.json');
    const stored = deps.s3.object(deps.config.outputBucket, cached.manifestKey);
    expect(stored).toMatchObject({ contentType: 'application/json', cacheControl: MANIFEST_CACHE_CONTROL });
    const manifest = ImageManifestSchema.parse(JSON.parse(stored?.body.toString('utf8') ?? ''));
    expect(manifest).toMatchObject({
      jobId: cached.job.jobId,
      source: { key: 'photos/second.jpg', sha256: first.sha256, width: 640, height: 480 },
      recipe: { fingerprint: first.recipe },
      placeholder: record.placeholder,
      renditions: [{ name: 'sm', fingerprint, outputs: [{ key: 'renditions/photos/second/sm.webp', path: 'photos/second/sm.webp', bytes: 10, sha256 }] }],
    });
    // The job stays PENDING: NotifySuccess records it SUCCEEDED with the copied outputs.
    expect(deps.ledger.records.get(cached.job.jobId)?.status).toBe('PENDING');
  });

  it('copies the content hashes a cache entry records, without reading the copies', async () => {
    const { job: first } = outcomeOf(await validateUpload(photo, 'photos/first.jpg').result, 'valid');
    const body = Buffer.from('webp bytes');
    deps.s3.seed(deps.config.outputBucket, 'renditions/photos/first/sm.webp', body, { contentType: 'image/webp' });
    deps.ledger.seed({
      ...(deps.ledger.records.get(first.jobId) as JobRecord),
      status: 'SUCCEEDED',
      contentKey: `${first.sha256}#${first.recipe}`,
      outputBucket: deps.config.outputBucket,
      outputs: [{ rendition: 'sm', format: 'webp', key: 'renditions/photos/first/sm.webp', width: 320, height: 240, bytes: 10, sha256: sha256Hex(body) }],
    });
    deps.s3.requests.length = 0;
    const cached = outcomeOf(await validateUpload(photo, 'photos/second.jpg', SECOND_EXECUTION).result, 'cached');
    expect(cached.outputs[0]?.sha256).toBe(sha256Hex(body));
    expect(deps.s3.requestsOf('GetObjectCommand').map((request) => request.key)).toEqual(['photos/second.jpg']);
    expect(deps.s3.requestsOf('PutObjectCommand').map((request) => request.key)).toEqual(['renditions/photos/second/manifest.json']);
    // No placeholder recorded: the manifest has none.
    const manifest = JSON.parse(deps.s3.object(deps.config.outputBucket, cached.manifestKey)?.body.toString('utf8') ?? '');
    expect(manifest).not.toHaveProperty('placeholder');
    expect(manifest.pictures).toEqual([
      { renditions: ['sm'], sources: [], img: { type: 'image/webp', src: 'photos/second/sm.webp', srcset: 'photos/second/sm.webp 320w', width: 320, height: 240 } },
    ]);
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

  it('waits for another job processing the same bytes, then copies its outputs (the content claim, read consistently)', async () => {
    const { job: first } = outcomeOf(await validateUpload(photo, 'photos/first.jpg').result, 'valid');
    const outputKey = 'renditions/photos/first/sm.webp';
    deps.s3.seed(deps.config.outputBucket, outputKey, Buffer.from('webp bytes'), { contentType: 'image/webp' });
    const source = fakeUpload(deps, 'photos/second.jpg', photo);
    const handler = createValidateHandler(() => deps, { totalMs: 2000, pollMs: 10 });
    const second = handler({ event: objectCreatedEvent(source), executionId: SECOND_EXECUTION });
    // The first job is still at work: the second polls; then the first succeeds.
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(deps.ledger.contents.get(`content#${first.sha256}#${first.recipe}`)).toMatchObject({ owner: first.jobId, claimState: 'CLAIMED' });
    await deps.ledger.succeed(first, { outputBucket: deps.config.outputBucket, outputs: [{ rendition: 'sm', format: 'webp', key: outputKey, width: 320, height: 240, bytes: 10 }], timings: {}, cacheHit: false });
    const cached = outcomeOf(await second, 'cached');
    expect(cached.cachedFrom).toBe(first.jobId);
    expect(cached.outputs.map((output) => output.key)).toEqual(['renditions/photos/second/sm.webp']);
  });

  it('processes the bytes itself when the other job is still at work after the wait, and says so', async () => {
    const { job: first } = outcomeOf(await validateUpload(photo, 'photos/first.jpg').result, 'valid');
    const source = fakeUpload(deps, 'photos/second.jpg', photo);
    const started = performance.now();
    const result = await createValidateHandler(() => deps, { totalMs: 100, pollMs: 20 })({ event: objectCreatedEvent(source), executionId: SECOND_EXECUTION });
    expect(performance.now() - started).toBeLessThan(1000);
    const { job } = outcomeOf(result, 'valid');
    expect(deps.ledger.records.get(job.jobId)?.status).toBe('PROCESSING');
    expect(deps.logger.entries.find((entry) => entry.message === 'same content in progress elsewhere: processing it too')?.attributes).toMatchObject({ owner: first.jobId });
  });

  it('takes over the content of a stale cache entry, so the job that processes the bytes again becomes the entry', async () => {
    const { job: first } = outcomeOf(await validateUpload(photo, 'photos/first.jpg').result, 'valid');
    deps.ledger.seed({
      ...(deps.ledger.records.get(first.jobId) as JobRecord),
      status: 'SUCCEEDED',
      contentKey: `${first.sha256}#${first.recipe}`,
      outputBucket: deps.config.outputBucket,
      outputs: [{ rendition: 'sm', format: 'webp', key: 'renditions/photos/first/sm.webp', width: 320, height: 240, bytes: 10 }],
    });
    const { job } = outcomeOf(await validateUpload(photo, 'photos/second.jpg', SECOND_EXECUTION).result, 'valid');
    expect(deps.ledger.contents.get(`content#${first.sha256}#${first.recipe}`)).toMatchObject({ owner: job.jobId, claimState: 'CLAIMED' });
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
