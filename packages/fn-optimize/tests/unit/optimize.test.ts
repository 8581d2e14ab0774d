import { performance } from 'node:perf_hooks';
import { DEFAULT_RECIPE, type RecipeInput, parseRecipe, renderBundle, renditionFingerprint, sha256Hex } from '@imgflow/image-core';
import { ImageManifestSchema, type IntermediateResult, type Job, MANIFEST_CACHE_CONTROL } from '@imgflow/pipeline';
import { storeIntermediate } from '@imgflow/pipeline/intermediates';
import { type FakeStepDeps, awsError, fakeDeps, fakeJob, fakeUpload } from '@imgflow/pipeline/testing';
import { photoLike } from '@imgflow/samples';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { createOptimizeHandler } from '../../src/index.js';

let photo: Buffer;

beforeAll(async () => {
  photo = await photoLike({ width: 1200, height: 800, seed: 21 });
});

interface Setup {
  deps: FakeStepDeps;
  job: Job;
  intermediates: IntermediateResult[];
  optimize: () => ReturnType<ReturnType<typeof createOptimizeHandler>>;
}

/** The state OptimizeImage starts from: the upload, its job, and both branches' bundles in the work prefix. */
async function setUp(recipe: RecipeInput | undefined, original = photo, facts: Partial<Job> = {}): Promise<Setup> {
  const deps = fakeDeps(recipe ? { config: { recipe: parseRecipe(recipe) } } : {});
  const metadata = await sharp(original).metadata();
  const job = fakeJob(fakeUpload(deps, 'photos/dunes.jpg', original), { format: metadata.format, width: metadata.width, height: metadata.height, ...facts });
  const { recipe: active } = deps.config;
  const branch = async (step: IntermediateResult['step'], withFilters: boolean) => {
    const renditions = active.renditions.filter((rendition) => rendition.filters.length > 0 === withFilters);
    // As ResizeImage: the resize branch computes the placeholder.
    const rendered = await renderBundle(original, { ...job, icc: false }, renditions, { recipe: active, placeholder: step === 'resize' });
    return storeIntermediate(step, job, rendered, deps, performance.now());
  };
  const intermediates = [await branch('resize', false), await branch('filter', true)];
  deps.s3.requests.length = 0;
  return { deps, job, intermediates, optimize: () => createOptimizeHandler(() => deps)({ job, intermediates }) };
}

describe('OptimizeImage', () => {
  it('writes every rendition × format under the output prefix with cacheControl, and records each', async () => {
    const { deps, job, optimize } = await setUp(undefined);
    const result = await optimize();
    const expected = DEFAULT_RECIPE.renditions.flatMap((rendition) =>
      DEFAULT_RECIPE.formats.map((format) => `renditions/photos/dunes/${rendition.name}.${format === 'jpeg' ? 'jpg' : format}`),
    );
    expect(result.outputs.map((output) => output.key)).toEqual(expected);
    expect(result.passthrough).toBe(0);
    expect(deps.s3.keys(deps.config.outputBucket, 'renditions/')).toEqual([...expected, 'renditions/photos/dunes/manifest.json'].sort());
    for (const output of result.outputs) {
      const stored = deps.s3.object(deps.config.outputBucket, output.key);
      expect(stored, output.key).toMatchObject({ contentType: `image/${output.format}`, cacheControl: 'public, max-age=31536000, immutable' });
      const metadata = await sharp(stored?.body).metadata();
      expect([metadata.width, metadata.height, stored?.body.length]).toEqual([output.width, output.height, output.bytes]);
    }
    expect(result.outputs.find((output) => output.key.endsWith('lg.webp'))).toMatchObject({ rendition: 'lg', format: 'webp', width: 1200, height: 800 });
    // The bundles are enough: the original is not read again.
    expect(deps.s3.requestsOf('GetObjectCommand').map((request) => request.key)).toEqual([`work/${job.jobId}/resize.bundle`]);
  });

  it('writes the manifest last, beside the outputs: every stored output with its size and the sha256 of its stored bytes', async () => {
    const { deps, job, optimize } = await setUp(undefined);
    const result = await optimize();
    expect(result.manifestKey).toBe('renditions/photos/dunes/manifest.json');
    const puts = deps.s3.requestsOf('PutObjectCommand').map((request) => request.key);
    expect(puts.at(-1)).toBe(result.manifestKey);
    expect(puts.filter((key) => key === result.manifestKey)).toHaveLength(1);
    const stored = deps.s3.object(deps.config.outputBucket, result.manifestKey);
    expect(stored).toMatchObject({ contentType: 'application/json', cacheControl: MANIFEST_CACHE_CONTROL });
    const manifest = ImageManifestSchema.parse(JSON.parse(stored?.body.toString('utf8') ?? ''));
    expect(manifest).toMatchObject({ schema: 'imgflow.manifest/1', jobId: job.jobId, recipe: { fingerprint: job.recipe }, generatedAt: '2030-01-01T00:00:00.000Z' });
    expect(manifest.source).toMatchObject({ bucket: job.source.bucket, key: job.source.key, sha256: job.sha256, width: 1200, height: 800, bytes: job.source.size });
    // The placeholder the resize branch computed.
    expect(manifest.placeholder).toEqual({ kind: 'thumbhash', hash: expect.any(String), dominantColor: expect.stringMatching(/^#[0-9a-f]{6}$/) });
    const listed = manifest.renditions.flatMap((rendition) => rendition.outputs);
    expect(listed.map((output) => output.key)).toEqual(result.outputs.map((output) => output.key));
    for (const output of listed) {
      const body = deps.s3.object(deps.config.outputBucket, output.key)?.body ?? Buffer.alloc(0);
      expect([output.bytes, output.sha256], output.key).toEqual([body.length, sha256Hex(body)]);
    }
    // The records carry the same hashes, and each rendition's fingerprint.
    expect(result.outputs.map((output) => output.sha256)).toEqual(listed.map((output) => output.sha256));
    const fingerprints = DEFAULT_RECIPE.renditions.map((rendition) => renditionFingerprint(DEFAULT_RECIPE, rendition));
    expect(manifest.renditions.map((rendition) => rendition.fingerprint)).toEqual(fingerprints);
    expect(new Set(result.outputs.filter((output) => output.rendition === 'md').map((output) => output.fingerprint))).toEqual(new Set([fingerprints[1]]));
    expect(manifest.pictures).toHaveLength(1);
    expect(manifest.pictures[0]?.img).toMatchObject({ type: 'image/jpeg', src: 'photos/dunes/lg.jpg', width: 1200, height: 800 });
    // The state carries the key and the hashes, never the manifest.
    expect(JSON.stringify(result)).not.toContain('pictures');
  });

  it('removes every output when the manifest cannot be written: no set without its manifest', async () => {
    const { deps, optimize } = await setUp(undefined);
    const send = deps.s3.send.bind(deps.s3);
    deps.s3.send = async (command: unknown) => {
      const input = (command as { input?: { Key?: string } }).input;
      if (command?.constructor.name === 'PutObjectCommand' && input?.Key?.endsWith('/manifest.json')) throw awsError('InternalError', 500);
      return send(command);
    };
    await expect(optimize()).rejects.toMatchObject({ name: 'StorageUnavailableError', code: 'STORAGE_UNAVAILABLE' });
    expect(deps.s3.keys(deps.config.outputBucket, 'renditions/')).toEqual([]);
  });

  it('takes each rendition from the bundle of its branch', async () => {
    const { deps, job, optimize } = await setUp({
      formats: ['png'],
      renditions: [
        { name: 'plain', width: 300 },
        { name: 'grey', width: 300, filters: [{ type: 'grayscale' }] },
      ],
    });
    const result = await optimize();
    expect(result.outputs.map((output) => output.key)).toEqual(['renditions/photos/dunes/plain.png', 'renditions/photos/dunes/grey.png']);
    const spread = async (key: string) => {
      const { channels } = await sharp(deps.s3.object(deps.config.outputBucket, key)?.body).stats();
      return Math.abs((channels[0]?.mean ?? 0) - (channels[2]?.mean ?? 0));
    };
    expect(await spread('renditions/photos/dunes/plain.png')).toBeGreaterThan(5);
    expect(await spread('renditions/photos/dunes/grey.png')).toBeLessThan(1);
    expect(deps.s3.requestsOf('GetObjectCommand').map((request) => request.key)).toEqual([`work/${job.jobId}/resize.bundle`, `work/${job.jobId}/filter.bundle`]);
  });

  it('copies the original server-side where re-encoding would only make it larger', async () => {
    const tiny = await sharp(photo).resize({ width: 320 }).jpeg({ quality: 20 }).toBuffer();
    const { deps, job, optimize } = await setUp({ formats: ['jpeg'], encoding: { jpeg: { quality: 95 } }, renditions: [{ name: 'sm', width: 320 }] }, tiny, {
      clean: true,
      sha256: sha256Hex(tiny),
    });
    const result = await optimize();
    expect(result.passthrough).toBe(1);
    const fingerprint = renditionFingerprint(deps.config.recipe, deps.config.recipe.renditions[0] as never);
    // The copy is the original: its sha256 is the original's.
    expect(result.outputs).toEqual([
      { rendition: 'sm', format: 'jpeg', key: 'renditions/photos/dunes/sm.jpg', width: 320, height: job.height, bytes: tiny.length, sha256: job.sha256, fingerprint },
    ]);
    expect(deps.s3.requestsOf('CopyObjectCommand')).toHaveLength(1);
    // The only PUT is the manifest's.
    expect(deps.s3.requestsOf('PutObjectCommand').map((request) => request.key)).toEqual(['renditions/photos/dunes/manifest.json']);
    const stored = deps.s3.object(deps.config.outputBucket, 'renditions/photos/dunes/sm.jpg');
    expect(stored?.body.equals(tiny)).toBe(true);
    expect(stored).toMatchObject({ contentType: 'image/jpeg', cacheControl: deps.config.cacheControl });
    const manifest = ImageManifestSchema.parse(JSON.parse(deps.s3.object(deps.config.outputBucket, result.manifestKey)?.body.toString('utf8') ?? ''));
    expect(manifest.renditions[0]?.outputs).toEqual([
      { format: 'jpeg', mediaType: 'image/jpeg', key: 'renditions/photos/dunes/sm.jpg', path: 'photos/dunes/sm.jpg', bytes: tiny.length, width: 320, height: job.height, sha256: sha256Hex(tiny) },
    ]);
  });

  it("records how each 'auto' quality was chosen, in the output records and (without the trial count) in the manifest", async () => {
    const { deps, optimize } = await setUp({
      formats: ['avif', 'webp', 'jpeg'],
      encoding: { jpeg: { quality: 'auto' }, webp: { quality: 'auto', target: 0.95 }, avif: { quality: 40 } },
      renditions: [
        { name: 'sm', width: 320 },
        { name: 'md', width: 800 },
        { name: 'grey', width: 400, filters: [{ type: 'grayscale' }] },
      ],
    });
    const result = await optimize();
    expect(result.outputs).toHaveLength(9);
    const choice = (format: string) => result.outputs.find((output) => output.format === format)?.autoQuality;
    expect(choice('jpeg')).toEqual({ quality: expect.any(Number), score: expect.any(Number), target: 0.92, metric: 'ssim', met: expect.any(Boolean), trials: expect.any(Number) });
    expect(choice('webp')).toMatchObject({ target: 0.95, metric: 'ssim' });
    for (const output of result.outputs) {
      if (output.format === 'avif') expect(output, output.key).not.toHaveProperty('autoQuality');
      // One choice per image and format: every rendition of the format has it.
      else expect(output.autoQuality, output.key).toEqual(choice(output.format));
    }
    const manifest = ImageManifestSchema.parse(JSON.parse(deps.s3.object(deps.config.outputBucket, result.manifestKey)?.body.toString('utf8') ?? ''));
    const listed = manifest.renditions.flatMap((rendition) => rendition.outputs);
    expect(listed).toHaveLength(9);
    for (const output of listed) {
      const record = result.outputs.find((candidate) => candidate.key === output.key);
      if (!record?.autoQuality) {
        expect(output, output.key).not.toHaveProperty('autoQuality');
        continue;
      }
      const { trials: _trials, ...chosen } = record.autoQuality;
      expect(output.autoQuality, output.key).toEqual(chosen);
    }
    // The records are what the ledger and the notification carry: plain JSON, nothing lost on the way.
    expect(JSON.parse(JSON.stringify(result.outputs))).toEqual(result.outputs);
  });

  it('reads the original when the recipe keeps copyright, and writes the rights into the outputs', async () => {
    const tagged = await sharp(photo)
      .jpeg({ quality: 90 })
      .withExif({ IFD0: { Copyright: 'Dunes Ltd' } })
      .toBuffer();
    const { deps, job, optimize } = await setUp({ formats: ['jpeg'], metadata: { keep: ['copyright'] }, renditions: [{ name: 'sm', width: 300 }] }, tagged);
    const [output] = (await optimize()).outputs;
    expect(deps.s3.requestsOf('GetObjectCommand').map((request) => request.key)).toContain(job.source.key);
    const exif = (await sharp(deps.s3.object(deps.config.outputBucket, output?.key ?? '')?.body).metadata()).exif;
    expect(exif?.toString('latin1')).toContain('Dunes Ltd');
  });

  it('removes the outputs already written when one write fails, and lets the failure out by name', async () => {
    const { deps, optimize } = await setUp(undefined);
    deps.faults.fail('s3:PutObjectCommand', awsError('InternalError', 500));
    const error = await optimize().catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: 'StorageUnavailableError', code: 'STORAGE_UNAVAILABLE' });
    expect((error as Error).message).toMatch(/^STORAGE_UNAVAILABLE: S3 is unavailable on write of s3:\/\/imgflow-output\/renditions\/photos\/dunes\//);
    // Eight of nine outputs were written, then removed with one DeleteObjects: no partial set is left.
    expect(deps.s3.requestsOf('PutObjectCommand')).toHaveLength(9);
    expect(deps.s3.requestsOf('DeleteObjectsCommand')).toHaveLength(1);
    expect(deps.s3.keys(deps.config.outputBucket, 'renditions/')).toEqual([]);
  });

  it('logs, and still fails with the first error, when the clean-up fails too', async () => {
    const { deps, job, optimize } = await setUp(undefined);
    deps.faults.fail('s3:PutObjectCommand', awsError('AccessDenied', 403));
    deps.faults.fail('s3:DeleteObjectsCommand', awsError('InternalError', 500));
    await expect(optimize()).rejects.toMatchObject({ name: 'AccessDeniedError', code: 'ACCESS_DENIED' });
    expect(deps.logger.entries.find((entry) => entry.message === 'could not remove partial outputs')).toMatchObject({ level: 'ERROR', attributes: { jobId: job.jobId } });
  });

  it('lets a bundle that is gone out as SourceMissingError, and a corrupt one as InvalidImageError', async () => {
    const gone = await setUp(undefined);
    gone.deps.s3.objects.clear();
    await expect(gone.optimize()).rejects.toMatchObject({ name: 'SourceMissingError', code: 'SOURCE_MISSING' });

    const corrupt = await setUp(undefined);
    const [resized] = corrupt.intermediates;
    corrupt.deps.s3.seed(corrupt.deps.config.outputBucket, resized?.bundleKey ?? '', Buffer.from('not a bundle'));
    const error = await corrupt.optimize().catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: 'InvalidImageError', code: 'CORRUPT_IMAGE' });
    expect((error as Error).message).toBe('CORRUPT_IMAGE: The intermediate bundle is not an imgflow bundle');
    expect(corrupt.deps.s3.requestsOf('PutObjectCommand')).toEqual([]);
  });
});
