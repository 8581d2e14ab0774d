import { DEFAULT_RECIPE, parseRecipe } from '@imgflow/image-core';
import sharp, { type Stats } from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { jobIdFor } from '@imgflow/pipeline';
import { type ExecutionReport, LocalStack, awsError } from '../src/index.js';
import { download, listKeys, objectCreatedEvent, photoJpeg, uploadAndWait } from './helpers.js';

// The upload bucket is versioned by default, as deployed (storage module, upload_versioning); both modes run.
describe.each(['Enabled', 'Disabled'] as const)('the workflow on the local runtime (upload bucket versioning %s)', (versioning) => {
  let stack: LocalStack;

  beforeAll(async () => {
    stack = await LocalStack.start({ retryPauseMs: 5, uploadVersioning: versioning });
  });

  afterAll(async () => {
    await stack.stop();
  });

  it('turns a valid image into every output of the recipe, one SUCCEEDED record and one notification', async () => {
    await stack.drainNotifications();
    const original = await photoJpeg(2400, 1600);
    const { reports, record, jobId } = await uploadAndWait(stack, 'photos/holiday/beach.jpg', original);
    expect(reports).toHaveLength(1);
    expect(reports[0]?.status).toBe('SUCCEEDED');
    expect(reports[0]?.path).toEqual(['ValidateImage', 'IsValid', 'ProcessImage', 'ResizeImage', 'ApplyFilters', 'OptimizeImage', 'NotifySuccess', 'Done']);
    expect(record).toMatchObject({ jobId, status: 'SUCCEEDED', sourceKey: 'photos/holiday/beach.jpg', format: 'jpeg', width: 2400, height: 1600, cacheHit: false });
    expect(record?.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(record?.placeholder?.hash).toBeTruthy();
    expect(Object.keys(record?.timings ?? {}).sort()).toEqual(['filter', 'optimize', 'resize', 'validate']);

    const expected = DEFAULT_RECIPE.renditions.flatMap((rendition) =>
      DEFAULT_RECIPE.formats.map((format) => `renditions/photos/holiday/beach/${rendition.name}.${format === 'jpeg' ? 'jpg' : format}`),
    );
    expect(record?.outputs?.map((output) => output.key).sort()).toEqual([...expected].sort());
    expect(await listKeys(stack, stack.config.outputBucket, 'renditions/photos/holiday/beach/')).toEqual([...expected, 'renditions/photos/holiday/beach/manifest.json'].sort());
    expect(record?.manifestKey).toBe('renditions/photos/holiday/beach/manifest.json');
    for (const output of record?.outputs ?? []) {
      const metadata = await sharp(await download(stack, output.key)).metadata();
      expect(metadata.width, output.key).toBe(output.width);
      expect(metadata.height, output.key).toBe(output.height);
      expect(metadata.mediaType).toBe(`image/${output.format}`);
    }
    expect(record?.outputs?.filter((output) => output.rendition === 'lg').every((output) => output.width === 2048 && output.height === 1365)).toBe(true);
    expect(await listKeys(stack, stack.config.outputBucket, stack.config.workPrefix)).toEqual([]);

    const notifications = await stack.drainNotifications();
    expect(notifications).toHaveLength(1);
    expect(notifications[0]).toMatchObject({ schema: 'imgflow.job/1', event: 'job.succeeded', status: 'SUCCEEDED', jobId });
    expect(notifications[0]?.outputs).toHaveLength(9);
  });

  it('rejects an invalid upload with its reason: one error notification, no outputs, no work objects', async () => {
    await stack.drainNotifications();
    const { reports, record } = await uploadAndWait(stack, 'photos/notes.jpg', Buffer.from('<html>not an image</html>'));
    expect(reports[0]?.status).toBe('SUCCEEDED');
    expect(reports[0]?.path.at(-1)).toBe('Rejected');
    expect(record).toMatchObject({ status: 'REJECTED', reasonCode: 'UNKNOWN_FORMAT', reasonError: 'UnsupportedFormatError' });
    expect(record?.reasonMessage).toMatch(/not an image format imgflow can read/);
    expect(await listKeys(stack, stack.config.outputBucket, 'renditions/photos/notes')).toEqual([]);
    expect(await listKeys(stack, stack.config.outputBucket, stack.config.workPrefix)).toEqual([]);
    const notifications = await stack.drainNotifications();
    expect(notifications).toHaveLength(1);
    expect(notifications[0]).toMatchObject({ event: 'job.rejected', status: 'REJECTED', reason: { code: 'UNKNOWN_FORMAT', error: 'UnsupportedFormatError' } });
  });

  it('rejects a decompression bomb from its header, before any decode', async () => {
    const png = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#000' } }).png().toBuffer();
    const bomb = Buffer.from(png);
    bomb.writeUInt32BE(70_000, 16);
    bomb.writeUInt32BE(70_000, 20);
    const { crc32 } = await import('node:zlib');
    bomb.writeUInt32BE(crc32(bomb.subarray(12, 29)) >>> 0, 29);
    const { reports, record } = await uploadAndWait(stack, 'bomb.png', bomb);
    expect(record).toMatchObject({ status: 'REJECTED', reasonCode: 'TOO_MANY_PIXELS', reasonError: 'ImageTooLargeError' });
    expect(reports[0]?.invocations).toEqual({ ValidateImage: 1, NotifyError: 1 });
  });

  it('runs the work once when the same upload event is delivered three times at once', async () => {
    await stack.drainNotifications();
    const reports: ExecutionReport[] = [];
    stack.enableTrigger((update) => {
      if (update.type === 'finished' && update.report.event.detail.object.key === 'twice/a.jpg') reports.push(update.report);
    });
    // The upload itself is one delivery (through the trigger); two more arrive while it runs.
    const object = await stack.upload('twice/a.jpg', await photoJpeg(400, 300, 9));
    const event = objectCreatedEvent(object);
    reports.push(...(await Promise.all([stack.execute(event), stack.execute(event)])));
    await stack.whenIdle();
    expect(reports).toHaveLength(3);
    expect(reports.map((report) => report.path.at(-1)).sort()).toEqual(['AlreadyHandled', 'AlreadyHandled', 'Done']);
    expect(reports.reduce((sum, report) => sum + (report.invocations.ResizeImage ?? 0), 0)).toBe(1);
    expect((await stack.ledger.get(jobIdFor(object)))?.attempts).toBe(1);
    const notifications = (await stack.drainNotifications()).filter((message) => message.source.key === 'twice/a.jpg');
    expect(notifications).toHaveLength(1);
  });

  it('reuses the outputs of identical bytes uploaded under another key (content cache, server-side copies)', async () => {
    const bytes = await photoJpeg(900, 600, 4);
    const first = await uploadAndWait(stack, 'cache/original.jpg', bytes);
    expect(first.record?.status).toBe('SUCCEEDED');
    const second = await uploadAndWait(stack, 'cache/copy-of-original.jpg', bytes);
    expect(second.record).toMatchObject({ status: 'SUCCEEDED', cacheHit: true, cachedFrom: first.jobId });
    expect(second.reports[0]?.invocations).toEqual({ ValidateImage: 1, NotifySuccess: 1 });
    const keys = await listKeys(stack, stack.config.outputBucket, 'renditions/cache/copy-of-original/');
    // Nine outputs and the manifest.
    expect(keys).toHaveLength(10);
    const a = await download(stack, 'renditions/cache/original/sm.webp');
    const b = await download(stack, 'renditions/cache/copy-of-original/sm.webp');
    expect(b.equals(a)).toBe(true);
  });

  it('keeps hostile keys inside the output prefix', async () => {
    const bytes = await photoJpeg(64, 64, 5);
    // (s3rver cannot store keys with a leading slash or segments over 255 bytes; keys.ts unit tests cover those.)
    for (const key of ['../../etc/passwd.jpg', 'ünïcødé/ phötö .jpg', 'a/./b/../c.jpg', 'ctl\u0001\u001b[31mred.jpg']) {
      const { record } = await uploadAndWait(stack, key, bytes.length ? Buffer.concat([bytes, Buffer.from(key)]) : bytes);
      expect(record?.status, key).toBe('SUCCEEDED');
      for (const output of record?.outputs ?? []) {
        expect(output.key.startsWith('renditions/'), output.key).toBe(true);
        expect(output.key.split('/')).not.toContain('..');
        expect(output.key).toMatch(/^[A-Za-z0-9._/-]+$/);
      }
    }
  });

  it('ends REJECTED with SOURCE_MISSING when the upload was deleted before processing', async () => {
    const report = await stack.execute(objectCreatedEvent({ bucket: stack.uploadBucket, key: 'gone.jpg', size: 1000, etag: 'abc' }));
    expect(report.path.at(-1)).toBe('Rejected');
    const records = await stack.ledger.listBySourceKey('gone.jpg');
    expect(records[0]).toMatchObject({ status: 'REJECTED', reasonCode: 'SOURCE_MISSING' });
  });

  it('retries a transient S3 fault and succeeds', async () => {
    stack.faults.failAws('s3', 'PutObjectCommand', { times: 1, error: () => awsError('SlowDown', 503, 'Please reduce your request rate.') });
    const { reports, record } = await uploadAndWait(stack, 'faults/s3.jpg', await photoJpeg(500, 400, 11));
    expect(record?.status).toBe('SUCCEEDED');
    expect(reports[0]?.retries).toBeGreaterThanOrEqual(1);
    expect(stack.faults.fired.get('s3:PutObjectCommand')).toBeGreaterThanOrEqual(1);
  });

  it('retries a transient handler failure and succeeds', async () => {
    const { ImageProcessingError } = await import('@imgflow/image-core');
    stack.faults.failState('OptimizeImage', { times: 2, error: () => new ImageProcessingError('libvips ran out of memory') });
    const { reports, record } = await uploadAndWait(stack, 'faults/handler.jpg', await photoJpeg(500, 400, 12));
    expect(record?.status).toBe('SUCCEEDED');
    expect(reports[0]?.invocations.OptimizeImage).toBe(3);
  });

  it('does not retry a permanent failure: one attempt, then REJECTED with its reason', async () => {
    const { InvalidImageError } = await import('@imgflow/image-core');
    stack.faults.failState('ResizeImage', { times: 1, error: () => new InvalidImageError('CORRUPT_IMAGE', 'premature end of JPEG image') });
    const { reports, record } = await uploadAndWait(stack, 'faults/permanent.jpg', await photoJpeg(500, 400, 13));
    expect(reports[0]?.invocations.ResizeImage).toBe(1);
    expect(record).toMatchObject({ status: 'REJECTED', reasonCode: 'CORRUPT_IMAGE', reasonError: 'InvalidImageError' });
    expect(await listKeys(stack, stack.config.outputBucket, 'renditions/faults/permanent/')).toEqual([]);
    expect(await listKeys(stack, stack.config.outputBucket, stack.config.workPrefix)).toEqual([]);
  });

  it('records the job even when the error notification cannot be sent, and the execution fails visibly', async () => {
    await stack.drainNotifications();
    stack.faults.failAws('sns', 'PublishCommand', { times: 10, error: () => awsError('InternalError', 500) });
    const { reports, record } = await uploadAndWait(stack, 'faults/unnotified.jpg', Buffer.from('garbage bytes'));
    stack.faults.clear();
    expect(record).toMatchObject({ status: 'REJECTED', reasonCode: 'UNKNOWN_FORMAT' });
    expect(record?.notified).toBeUndefined();
    expect(reports[0]).toMatchObject({ status: 'FAILED', error: { name: 'NotificationFailed' } });
    expect(await stack.drainNotifications()).toEqual([]);
  });
});

describe('recipes with filters', () => {
  it('renders filtered renditions in the ApplyFilters branch', async () => {
    const recipe = parseRecipe({
      formats: ['webp'],
      renditions: [
        { name: 'plain', width: 300 },
        { name: 'mono', width: 300, filters: [{ type: 'grayscale' }] },
      ],
    });
    const stack = await LocalStack.start({ recipe, retryPauseMs: 5 });
    try {
      const colourful = await sharp({ create: { width: 600, height: 400, channels: 3, background: '#d05020' } }).jpeg().toBuffer();
      const { record, reports } = await uploadAndWait(stack, 'filters/a.jpg', colourful);
      expect(record?.status).toBe('SUCCEEDED');
      expect(reports[0]?.invocations).toMatchObject({ ResizeImage: 1, ApplyFilters: 1, OptimizeImage: 1 });
      const plain = await sharp(await download(stack, 'renditions/filters/a/plain.webp')).stats();
      const mono = await sharp(await download(stack, 'renditions/filters/a/mono.webp')).stats();
      const spread = (stats: Stats) => Math.abs((stats.channels[0]?.mean ?? 0) - (stats.channels[2]?.mean ?? 0));
      expect(spread(plain)).toBeGreaterThan(10);
      expect(spread(mono)).toBeLessThan(2);
    } finally {
      await stack.stop();
    }
  });
});

describe('a handler that outlives its Lambda timeout', () => {
  it('fails the invocation as Lambda does (Sandbox.Timedout) and ends FAILED with LAMBDA_TIMEOUT, without retrying', async () => {
    const stack = await LocalStack.start({ retryPauseMs: 5, timeouts: { 'imgflow-optimize': 0.2 } });
    try {
      // Warm: a cold start on a busy machine could outlast the Task's own TimeoutSeconds.
      await stack.functions.optimize.provision();
      stack.faults.failState('OptimizeImage', { times: 1, delayMs: 1000, delayOnly: true, error: () => new Error('unused') });
      const { record, reports } = await uploadAndWait(stack, 'slow/a.jpg', await photoJpeg(300, 200, 41));
      expect(reports[0]).toMatchObject({ status: 'FAILED', error: { name: 'JobFailed' } });
      expect(reports[0]?.invocations.OptimizeImage).toBe(1);
      expect(record).toMatchObject({ status: 'FAILED', reasonCode: 'LAMBDA_TIMEOUT', reasonError: 'Sandbox.Timedout' });
      expect(record?.reasonMessage).toBe('Task timed out after 0.20 seconds');
    } finally {
      await stack.stop();
    }
  });
});

describe('ownership and stale cache entries', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    stack = await LocalStack.start({ retryPauseMs: 5 });
  });

  afterAll(async () => {
    await stack.stop();
  });

  it('processes the upload when the cached outputs it would copy are gone', async () => {
    const bytes = await photoJpeg(500, 300, 51);
    const first = await uploadAndWait(stack, 'stale/first.jpg', bytes);
    expect(first.record?.status).toBe('SUCCEEDED');
    const { DeleteObjectsCommand } = await import('@aws-sdk/client-s3');
    await stack.clients.s3.send(
      new DeleteObjectsCommand({
        Bucket: stack.config.outputBucket,
        Delete: { Objects: (first.record?.outputs ?? []).map((output) => ({ Key: output.key })) },
      }),
    );
    const second = await uploadAndWait(stack, 'stale/second.jpg', bytes);
    expect(second.record).toMatchObject({ status: 'SUCCEEDED', cacheHit: false });
    expect(second.reports[0]?.invocations.ResizeImage).toBe(1);
    expect(await listKeys(stack, stack.config.outputBucket, 'renditions/stale/second/')).toHaveLength(10);
  });

  it('a notify from an execution that no longer owns the job leaves the owner work objects and publishes nothing', async () => {
    const { createNotifyHandler } = await import('@imgflow/fn-notify');
    const { PutObjectCommand } = await import('@aws-sdk/client-s3');
    // A job owned by a newer execution, with work in progress (never uploaded: no trigger runs it).
    const object = { bucket: stack.uploadBucket, key: 'owner/a.jpg', etag: 'e0', size: 10 };
    const jobId = jobIdFor(object);
    await stack.drainNotifications();
    expect((await stack.ledger.claim(object, jobId, 'arn:aws:states:us-east-1:000000000000:execution:imgflow:newer', new Date(), 900)).claimed).toBe(true);
    await stack.clients.s3.send(new PutObjectCommand({ Bucket: stack.config.outputBucket, Key: `work/${jobId}/resize.bundle`, Body: 'in progress' }));
    // The notify function's own deps: its role's policy applies.
    const notify = createNotifyHandler(() => stack.stepDeps.notify);
    const result = await notify({
      kind: 'error',
      executionId: 'arn:aws:states:us-east-1:000000000000:execution:imgflow:stale',
      state: { job: { jobId, source: object, executionId: 'arn:aws:states:us-east-1:000000000000:execution:imgflow:stale' }, error: { Error: 'TypeError', Cause: 'boom' } },
    });
    expect(result.messageId).toBe('not-owner');
    expect(await listKeys(stack, stack.config.outputBucket, `work/${jobId}/`)).toEqual([`work/${jobId}/resize.bundle`]);
    expect(await stack.drainNotifications()).toEqual([]);
    expect((await stack.ledger.get(jobId))?.status).toBe('PENDING');
  });
});
