import { type WorkingImage, openWorkingImage, parseRecipe, unpackBundle } from '@imgflow/image-core';
import type { Job } from '@imgflow/pipeline';
import { type FakeStepDeps, awsError, fakeDeps, fakeJob, fakeUpload } from '@imgflow/pipeline/testing';
import { photoLike } from '@imgflow/samples';
import sharp from 'sharp';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createResizeHandler } from '../../src/index.js';

let photo: Buffer;
let deps: FakeStepDeps;
let job: Job;

beforeAll(async () => {
  photo = await photoLike({ width: 1600, height: 1200, seed: 5 });
});

beforeEach(() => {
  deps = fakeDeps();
  job = fakeJob(fakeUpload(deps, 'photos/beach.jpg', photo), { format: 'jpeg', width: 1600, height: 1200 });
});

const resize = () => createResizeHandler(() => deps)({ job });

function bundleEntries(key: string | undefined): Map<string, WorkingImage> {
  const stored = key ? deps.s3.object(deps.config.outputBucket, key) : undefined;
  if (!stored) throw new Error(`no bundle at ${key}`);
  return new Map(unpackBundle(stored.body).map((entry) => [entry.name, entry.image]));
}

async function meanColour(image: Buffer | WorkingImage): Promise<number[]> {
  const { channels } = await (Buffer.isBuffer(image) ? sharp(image) : openWorkingImage(image)).stats();
  return channels.slice(0, 3).map((channel) => channel.mean);
}

describe('ResizeImage', () => {
  it('writes one bundle of the renditions without filters to the work key, and the result references it', async () => {
    const result = await resize();
    expect(result).toMatchObject({
      step: 'resize',
      bundleKey: `work/${job.jobId}/resize.bundle`,
      renditions: ['sm', 'md', 'lg'],
      aliases: { sm: 'sm', md: 'md', lg: 'lg' },
      placeholder: { kind: 'thumbhash', dominantColor: expect.stringMatching(/^#[0-9a-f]{6}$/) },
    });
    expect(result.millis).toBeGreaterThanOrEqual(0);
    expect(deps.s3.object(deps.config.outputBucket, result.bundleKey ?? '')?.contentType).toBe('application/octet-stream');
    const entries = bundleEntries(result.bundleKey);
    expect([...entries].map(([name, image]) => `${name} ${image.width}x${image.height}`)).toEqual(['sm 320x240', 'md 1024x768', 'lg 1600x1200']);
    const original = await meanColour(photo);
    for (const image of entries.values()) {
      for (const [index, mean] of (await meanColour(image)).entries()) expect(Math.abs(mean - (original[index] ?? 0))).toBeLessThan(3);
    }
    // One read of the original (pinned to the upload's ETag), one write: whatever the recipe.
    expect(deps.s3.requests.map((request) => `${request.command} ${request.bucket}/${request.key}`)).toEqual([
      `GetObjectCommand imgflow-uploads/photos/beach.jpg`,
      `PutObjectCommand imgflow-output/work/${job.jobId}/resize.bundle`,
    ]);
  });

  it('stores renditions that come out identical once, aliased', async () => {
    deps = fakeDeps({ config: { recipe: parseRecipe({ renditions: [{ name: 'a', width: 800 }, { name: 'b', width: 3000 }, { name: 'c', width: 1600 }] }) } });
    job = fakeJob(fakeUpload(deps, 'photos/beach.jpg', photo), { format: 'jpeg', width: 1600, height: 1200 });
    const result = await resize();
    expect(result.aliases).toEqual({ a: 'a', b: 'b', c: 'b' });
    expect([...bundleEntries(result.bundleKey).keys()]).toEqual(['a', 'b']);
  });

  it('leaves the renditions with filters to ApplyFilters', async () => {
    deps = fakeDeps({ config: { recipe: parseRecipe({ renditions: [{ name: 'plain', width: 400 }, { name: 'grey', width: 400, filters: [{ type: 'grayscale' }] }] }) } });
    job = fakeJob(fakeUpload(deps, 'photos/beach.jpg', photo), { format: 'jpeg', width: 1600, height: 1200 });
    const result = await resize();
    expect(result.renditions).toEqual(['plain']);
    expect([...bundleEntries(result.bundleKey).keys()]).toEqual(['plain']);
  });

  it('with no rendition to resize returns at once: no S3 request, no bundle, no placeholder', async () => {
    deps = fakeDeps({ config: { recipe: parseRecipe({ renditions: [{ name: 'grey', width: 400, filters: [{ type: 'grayscale' }] }] }) } });
    job = fakeJob(fakeUpload(deps, 'photos/beach.jpg', photo), { format: 'jpeg', width: 1600, height: 1200 });
    const result = await resize();
    expect(result).toEqual({ step: 'resize', renditions: [], aliases: {}, millis: expect.any(Number) });
    expect(deps.s3.requests).toEqual([]);
  });

  it('lets a corrupt original out as InvalidImageError (a rejection) and writes nothing', async () => {
    const truncated = photo.subarray(0, Math.floor(photo.length / 2));
    job = fakeJob(fakeUpload(deps, 'photos/broken.jpg', truncated), { format: 'jpeg', width: 1600, height: 1200 });
    const error = await resize().catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: 'InvalidImageError', code: 'TRUNCATED' });
    expect((error as Error).message).toMatch(/^TRUNCATED: /);
    expect(deps.s3.requestsOf('PutObjectCommand')).toEqual([]);
  });

  it('lets an original overwritten since validation out as SourceMissingError', async () => {
    deps.s3.seed(job.source.bucket, job.source.key, await photoLike({ width: 64, height: 48, seed: 8 }));
    await expect(resize()).rejects.toMatchObject({ name: 'SourceMissingError', code: 'SOURCE_MISSING' });
  });

  it.each([
    ['reading the original', 's3:GetObjectCommand', awsError('SlowDown', 503)],
    ['writing the bundle', 's3:PutObjectCommand', awsError('InternalError', 500)],
  ])('lets a transient S3 failure %s out as StorageUnavailableError', async (_, target, failure) => {
    deps.faults.fail(target, failure);
    const error = await resize().catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: 'StorageUnavailableError', code: 'STORAGE_UNAVAILABLE' });
    expect((error as Error).message).toMatch(/^STORAGE_UNAVAILABLE: S3 is unavailable/);
    expect(deps.faults.fired.get(target)).toBe(1);
  });
});
