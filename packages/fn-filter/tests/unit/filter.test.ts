import { type RecipeInput, type WorkingImage, openWorkingImage, parseRecipe, unpackBundle } from '@imgflow/image-core';
import type { Job } from '@imgflow/pipeline';
import { type FakeStepDeps, awsError, fakeDeps, fakeJob, fakeUpload } from '@imgflow/pipeline/testing';
import { photoLike } from '@imgflow/samples';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { createFilterHandler } from '../../src/index.js';

let photo: Buffer;
let logo: Buffer;

beforeAll(async () => {
  photo = await photoLike({ width: 1200, height: 900, seed: 11 });
  logo = await sharp({ create: { width: 100, height: 100, channels: 3, background: '#ff0000' } }).png().toBuffer();
});

/** Fake deps running `recipe`, with the photo uploaded and its job as validation would have made it. */
function setUp(recipe: RecipeInput, original = photo): { deps: FakeStepDeps; job: Job; filter: () => ReturnType<ReturnType<typeof createFilterHandler>> } {
  const deps = fakeDeps({ config: { recipe: parseRecipe(recipe) } });
  const job = fakeJob(fakeUpload(deps, 'photos/lake.jpg', original), { format: 'jpeg', width: 1200, height: 900 });
  return { deps, job, filter: () => createFilterHandler(() => deps)({ job }) };
}

function bundleEntries(deps: FakeStepDeps, key: string | undefined): Map<string, WorkingImage> {
  const stored = key ? deps.s3.object(deps.config.outputBucket, key) : undefined;
  if (!stored) throw new Error(`no bundle at ${key}`);
  return new Map(unpackBundle(stored.body).map((entry) => [entry.name, entry.image]));
}

async function pixel(image: WorkingImage, left: number, top: number): Promise<number[]> {
  const { data } = await openWorkingImage(image).extract({ left, top, width: 1, height: 1 }).raw().toBuffer({ resolveWithObject: true });
  return [...data];
}

describe('ApplyFilters', () => {
  it('writes one bundle of the filtered renditions to the work key, and the result references it', async () => {
    const { deps, job, filter } = setUp({
      renditions: [
        { name: 'plain', width: 600 },
        { name: 'grey', width: 600, filters: [{ type: 'grayscale' }] },
        { name: 'marked', width: 400, filters: [{ type: 'watermark', image: 'brand/logo-a.png', opacity: 1, position: 'northwest' }] },
      ],
    });
    deps.s3.seed(deps.config.outputBucket, 'assets/brand/logo-a.png', logo);
    const result = await filter();
    expect(result).toMatchObject({
      step: 'filter',
      bundleKey: `work/${job.jobId}/filter.bundle`,
      renditions: ['grey', 'marked'],
      aliases: { grey: 'grey', marked: 'marked' },
    });
    // ResizeImage decodes too (it has 'plain'): the placeholder comes from there.
    expect(result.placeholder).toBeUndefined();
    const entries = bundleEntries(deps, result.bundleKey);
    const [grey, marked] = [entries.get('grey'), entries.get('marked')];
    if (!grey || !marked) throw new Error('missing entries');
    expect([grey.width, grey.height, marked.width, marked.height]).toEqual([600, 450, 400, 300]);
    const { channels } = await openWorkingImage(grey).stats();
    expect(Math.abs((channels[0]?.mean ?? 0) - (channels[2]?.mean ?? 0))).toBeLessThan(1);
    // The watermark: 80 px wide (0.2 of 400) at a 6 px margin (0.02 of 300), fully opaque red.
    expect(await pixel(marked, 40, 40)).toEqual([255, 0, 0]);
    expect(deps.s3.requests.map((request) => `${request.command} ${request.key}`)).toEqual([
      'GetObjectCommand assets/brand/logo-a.png',
      'GetObjectCommand photos/lake.jpg',
      `PutObjectCommand work/${job.jobId}/filter.bundle`,
    ]);
  });

  it('computes the placeholder when every rendition has filters (ResizeImage then does nothing)', async () => {
    const { filter } = setUp({ renditions: [{ name: 'sepia', width: 300, filters: [{ type: 'sepia' }] }] });
    expect((await filter()).placeholder).toMatchObject({ kind: 'thumbhash' });
  });

  it('reads a watermark once per container, however many jobs use it', async () => {
    const recipe: RecipeInput = { renditions: [{ name: 'marked', width: 300, filters: [{ type: 'watermark', image: 'logo-b.png' }] }] };
    const first = setUp(recipe);
    first.deps.s3.seed(first.deps.config.outputBucket, 'assets/logo-b.png', logo);
    await first.filter();
    await first.filter();
    expect(first.deps.s3.requestsOf('GetObjectCommand').filter((request) => request.key === 'assets/logo-b.png')).toHaveLength(1);
  });

  it('with no rendition to filter returns at once: no S3 request, no bundle', async () => {
    const { deps, filter } = setUp({ renditions: [{ name: 'plain', width: 300 }] });
    expect(await filter()).toEqual({ step: 'filter', renditions: [], aliases: {}, millis: expect.any(Number) });
    expect(deps.s3.requests).toEqual([]);
  });

  it('fails with MissingAssetError naming where the watermark should be, before reading the original', async () => {
    const { deps, filter } = setUp({ renditions: [{ name: 'marked', width: 300, filters: [{ type: 'watermark', image: 'missing.png' }] }] });
    const error = await filter().catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: 'MissingAssetError', code: 'MISSING_ASSET' });
    expect((error as Error).message).toBe('MISSING_ASSET: The watermark "missing.png" is not at s3://imgflow-output/assets/missing.png');
    expect(deps.s3.requests.map((request) => request.key)).toEqual(['assets/missing.png']);
  });

  it('lets a corrupt original out as InvalidImageError (a rejection) and writes nothing', async () => {
    const { deps, filter } = setUp({ renditions: [{ name: 'grey', width: 300, filters: [{ type: 'grayscale' }] }] }, photo.subarray(0, photo.length / 2));
    await expect(filter()).rejects.toMatchObject({ name: 'InvalidImageError', code: 'TRUNCATED' });
    expect(deps.s3.requestsOf('PutObjectCommand')).toEqual([]);
  });

  it('lets a transient S3 failure out as StorageUnavailableError', async () => {
    const { deps, filter } = setUp({ renditions: [{ name: 'grey', width: 300, filters: [{ type: 'grayscale' }] }] });
    deps.faults.fail('s3:PutObjectCommand', awsError('SlowDown', 503));
    await expect(filter()).rejects.toMatchObject({ name: 'StorageUnavailableError', code: 'STORAGE_UNAVAILABLE' });
  });

  it('lets a denied asset read out as AccessDeniedError, not as a missing asset', async () => {
    const { deps, filter } = setUp({ renditions: [{ name: 'marked', width: 300, filters: [{ type: 'watermark', image: 'logo-c.png' }] }] });
    deps.s3.seed(deps.config.outputBucket, 'assets/logo-c.png', logo);
    deps.faults.fail('s3:GetObjectCommand', awsError('AccessDenied', 403));
    await expect(filter()).rejects.toMatchObject({ name: 'AccessDeniedError' });
  });
});
