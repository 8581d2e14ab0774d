import { readFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { type RecipeInput, parseRecipe, renditionFingerprint } from '@imgflow/image-core/contracts';
import { describe, expect, it } from 'vitest';
import {
  ImageManifestSchema,
  MANIFEST_SCHEMA,
  type ManifestInput,
  type OutputRecord,
  buildManifest,
  manifestJsonSchema,
  manifestKey,
  outputKey,
  withFingerprints,
} from '../../src/index.js';
import { fakeJob } from '../../src/testing.js';

const SCHEMA_PATH = new URL('../../../../docs/manifest.schema.json', import.meta.url);

const sha = (text: string) => createHash('sha256').update(text).digest('hex');
const EXTENSIONS = { avif: 'avif', webp: 'webp', jpeg: 'jpg', png: 'png' } as const;

/** A 1200×800 JPEG upload, and the records OptimizeImage would make of a recipe's outputs. */
function setUp(recipeInput: RecipeInput, sizes: Record<string, [number, number]>, overrides: Partial<OutputRecord> & { rendition?: string } = {}): ManifestInput {
  const recipe = parseRecipe(recipeInput);
  const job = fakeJob({ bucket: 'uploads', key: 'photos/dunes.jpg', etag: 'abc', size: 250_000 }, { format: 'jpeg', width: 1200, height: 800, recipe: 'r3c1p3' });
  const outputs = recipe.renditions.flatMap((rendition) =>
    (rendition.formats ?? recipe.formats).map((format): OutputRecord => {
      const [width, height] = sizes[rendition.name] ?? [1, 1];
      const key = outputKey('renditions/', job.stem, rendition.name, { extension: EXTENSIONS[format] });
      return { rendition: rendition.name, format, key, width, height, bytes: width * 10, sha256: sha(key), ...(overrides.rendition === rendition.name ? overrides : {}) };
    }),
  );
  return {
    job,
    outputs,
    recipe,
    placeholder: { kind: 'thumbhash', hash: 'YJqGPQw7sFlslqhFafSE+Q6oJ1h2iHB2Rw==', dominantColor: '#a08060' },
    outputBucket: 'imgflow-output',
    outputPrefix: 'renditions/',
    generatedAt: new Date('2030-01-01T00:00:05.000Z'),
  };
}

const DEFAULT_SIZES: Record<string, [number, number]> = { sm: [320, 213], md: [1024, 683], lg: [1200, 800] };

describe('buildManifest', () => {
  it('is schema-valid and describes the job, the recipe, the placeholder and every output', () => {
    const input = setUp({ renditions: [{ name: 'sm', width: 320 }, { name: 'md', width: 1024 }, { name: 'lg', width: 2048 }] }, DEFAULT_SIZES);
    const manifest = buildManifest(input);
    expect(ImageManifestSchema.parse(manifest)).toEqual(manifest);
    expect(manifest).toMatchObject({
      schema: MANIFEST_SCHEMA,
      jobId: input.job.jobId,
      generatedAt: '2030-01-01T00:00:05.000Z',
      source: { bucket: 'uploads', key: 'photos/dunes.jpg', etag: 'abc', sha256: input.job.sha256, format: 'jpeg', width: 1200, height: 800, bytes: 250_000 },
      recipe: { fingerprint: 'r3c1p3' },
      outputBucket: 'imgflow-output',
      outputPrefix: 'renditions/',
      placeholder: { kind: 'thumbhash', hash: 'YJqGPQw7sFlslqhFafSE+Q6oJ1h2iHB2Rw==', dominantColor: '#a08060' },
    });
    expect(manifest.renditions.map((rendition) => [rendition.name, rendition.width, rendition.height])).toEqual([
      ['sm', 320, 213],
      ['md', 1024, 683],
      ['lg', 1200, 800],
    ]);
    const [sm] = manifest.renditions;
    expect(sm?.fingerprint).toBe(renditionFingerprint(input.recipe, input.recipe.renditions[0] as never));
    expect(sm?.outputs).toEqual([
      { format: 'avif', mediaType: 'image/avif', key: 'renditions/photos/dunes/sm.avif', path: 'photos/dunes/sm.avif', bytes: 3200, width: 320, height: 213, sha256: sha('renditions/photos/dunes/sm.avif') },
      { format: 'webp', mediaType: 'image/webp', key: 'renditions/photos/dunes/sm.webp', path: 'photos/dunes/sm.webp', bytes: 3200, width: 320, height: 213, sha256: sha('renditions/photos/dunes/sm.webp') },
      { format: 'jpeg', mediaType: 'image/jpeg', key: 'renditions/photos/dunes/sm.jpg', path: 'photos/dunes/sm.jpg', bytes: 3200, width: 320, height: 213, sha256: sha('renditions/photos/dunes/sm.jpg') },
    ]);
    // Small enough to fetch before the first paint.
    expect(JSON.stringify(manifest).length).toBeLessThan(4096);
  });

  it('describes a ready <picture>: AVIF, then WebP sources, a JPEG img, srcsets by width relative to the output prefix', () => {
    const manifest = buildManifest(setUp({ renditions: [{ name: 'lg', width: 2048 }, { name: 'sm', width: 320 }, { name: 'md', width: 1024 }] }, DEFAULT_SIZES));
    expect(manifest.pictures).toEqual([
      {
        renditions: ['sm', 'md', 'lg'],
        sources: [
          { type: 'image/avif', srcset: 'photos/dunes/sm.avif 320w, photos/dunes/md.avif 1024w, photos/dunes/lg.avif 1200w' },
          { type: 'image/webp', srcset: 'photos/dunes/sm.webp 320w, photos/dunes/md.webp 1024w, photos/dunes/lg.webp 1200w' },
        ],
        img: {
          type: 'image/jpeg',
          src: 'photos/dunes/lg.jpg',
          srcset: 'photos/dunes/sm.jpg 320w, photos/dunes/md.jpg 1024w, photos/dunes/lg.jpg 1200w',
          width: 1200,
          height: 800,
        },
      },
    ]);
  });

  it('gives a width once when renditions came out the same size, and splits pictures by filters and aspect ratio', () => {
    const manifest = buildManifest(
      setUp(
        {
          formats: ['webp', 'png'],
          renditions: [
            { name: 'md', width: 1024 },
            { name: 'lg', width: 2048 },
            { name: 'square', width: 200, height: 200, fit: 'cover' },
            { name: 'grey', width: 600, filters: [{ type: 'grayscale' }] },
          ],
        },
        { md: [1200, 800], lg: [1200, 800], square: [200, 200], grey: [600, 400] },
      ),
    );
    expect(manifest.pictures.map((picture) => picture.renditions)).toEqual([['md', 'lg'], ['square'], ['grey']]);
    const [main] = manifest.pictures;
    // No JPEG in the recipe: PNG is the img every browser reads.
    expect(main).toEqual({
      renditions: ['md', 'lg'],
      sources: [{ type: 'image/webp', srcset: 'photos/dunes/md.webp 1200w' }],
      img: { type: 'image/png', src: 'photos/dunes/md.png', srcset: 'photos/dunes/md.png 1200w', width: 1200, height: 800 },
    });
  });

  it('lists a pass-through output with the original as it is stored: its size and its sha256', () => {
    const input = setUp({ formats: ['jpeg'], renditions: [{ name: 'lg', width: 2048 }] }, { lg: [1200, 800] });
    const passthrough = { ...input, outputs: input.outputs.map((output) => ({ ...output, bytes: input.job.source.size, sha256: input.job.sha256 })) };
    const manifest = buildManifest(passthrough);
    expect(manifest.renditions[0]?.outputs[0]).toMatchObject({ key: 'renditions/photos/dunes/lg.jpg', bytes: 250_000, sha256: input.job.sha256 });
    expect(manifest.pictures[0]).toMatchObject({ sources: [], img: { src: 'photos/dunes/lg.jpg', srcset: 'photos/dunes/lg.jpg 1200w' } });
  });

  it('leaves out a placeholder the job has none of, and keeps a BlurHash or a bare colour as it is', () => {
    const input = setUp({ formats: ['jpeg'], renditions: [{ name: 'sm', width: 320 }] }, DEFAULT_SIZES);
    const { placeholder: _none, ...without } = input;
    expect(buildManifest(without)).not.toHaveProperty('placeholder');
    expect(buildManifest({ ...input, placeholder: { kind: 'none', dominantColor: '#112233' } }).placeholder).toEqual({ kind: 'none', dominantColor: '#112233' });
    expect(buildManifest({ ...input, placeholder: { kind: 'blurhash', hash: 'LEHV6nWB2yk8pyo0adR*.7kCMdnj', dominantColor: '#112233' } }).placeholder?.kind).toBe('blurhash');
  });

  it('refuses an output without a content hash (a record older than manifests)', () => {
    const input = setUp({ formats: ['jpeg'], renditions: [{ name: 'sm', width: 320 }] }, DEFAULT_SIZES);
    const { sha256: _sha256, ...unhashed } = input.outputs[0] as OutputRecord;
    expect(() => buildManifest({ ...input, outputs: [unhashed] })).toThrow('The output renditions/photos/dunes/sm.jpg has no sha256');
  });

  it('accepts fields a later /1 adds (readers ignore them) but not another schema version', () => {
    const manifest = buildManifest(setUp({ formats: ['jpeg'], renditions: [{ name: 'sm', width: 320 }] }, DEFAULT_SIZES));
    expect(ImageManifestSchema.safeParse({ ...manifest, blurDataUrl: 'data:…' }).success).toBe(true);
    expect(ImageManifestSchema.safeParse({ ...manifest, schema: 'imgflow.manifest/2' }).success).toBe(false);
  });
});

describe('manifest helpers', () => {
  it('keeps the manifest beside the renditions, where no output key can be', () => {
    expect(manifestKey('renditions/', 'photos/dunes')).toBe('renditions/photos/dunes/manifest.json');
    for (const extension of Object.values(EXTENSIONS)) expect(outputKey('renditions/', 'photos/dunes', 'manifest', { extension })).not.toBe(manifestKey('renditions/', 'photos/dunes'));
  });

  it("stamps output records with their rendition's fingerprint", () => {
    const input = setUp({ renditions: [{ name: 'sm', width: 320 }, { name: 'md', width: 1024 }] }, DEFAULT_SIZES);
    const stamped = withFingerprints(input.recipe, input.outputs);
    const [sm, md] = input.recipe.renditions.map((rendition) => renditionFingerprint(input.recipe, rendition));
    expect(stamped.map((output) => output.fingerprint)).toEqual([sm, sm, sm, md, md, md]);
  });

  it('matches its committed JSON Schema (pnpm --filter @imgflow/pipeline schema rewrites it)', () => {
    expect(JSON.parse(readFileSync(SCHEMA_PATH, 'utf8'))).toEqual(manifestJsonSchema());
  });
});

describe('buildManifest: auto quality', () => {
  const choice = { quality: 63, score: 0.9312, target: 0.92, metric: 'ssim' as const, met: true, trials: 3 };

  it("lists an output's auto quality without the search's trial count, and stays schema-valid", () => {
    const input = setUp({ formats: ['jpeg'], encoding: { jpeg: { quality: 'auto' } }, renditions: [{ name: 'sm', width: 320 }] }, DEFAULT_SIZES, { rendition: 'sm', autoQuality: choice });
    const manifest = buildManifest(input);
    expect(ImageManifestSchema.parse(manifest)).toEqual(manifest);
    expect(manifest.renditions[0]?.outputs[0]?.autoQuality).toEqual({ quality: 63, score: 0.9312, target: 0.92, metric: 'ssim', met: true });
  });

  it('keeps a target that was not met, as it was recorded', () => {
    const missed = { ...choice, quality: 95, score: 0.9012, met: false };
    const input = setUp({ formats: ['jpeg'], encoding: { jpeg: { quality: 'auto', target: 0.95 } }, renditions: [{ name: 'sm', width: 320 }] }, DEFAULT_SIZES, { rendition: 'sm', autoQuality: { ...missed, target: 0.95 } });
    const manifest = ImageManifestSchema.parse(buildManifest(input));
    expect(manifest.renditions[0]?.outputs[0]?.autoQuality).toEqual({ quality: 95, score: 0.9012, target: 0.95, metric: 'ssim', met: false });
  });

  it('has no autoQuality key for an output without one', () => {
    const input = setUp({ formats: ['jpeg', 'webp'], renditions: [{ name: 'sm', width: 320 }] }, DEFAULT_SIZES);
    input.outputs = input.outputs.map((output) => (output.format === 'webp' ? { ...output, autoQuality: { ...choice, target: 0.95 } } : output));
    const manifest = buildManifest(input);
    const [jpeg, webp] = manifest.renditions[0]?.outputs ?? [];
    expect(jpeg?.format).toBe('jpeg');
    expect(Object.keys(jpeg ?? {})).not.toContain('autoQuality');
    expect(JSON.parse(JSON.stringify(manifest)).renditions[0].outputs[0]).not.toHaveProperty('autoQuality');
    expect(webp?.autoQuality).toMatchObject({ quality: 63, target: 0.95 });
  });

  it.each([
    ['a quality out of range', { quality: 0 }],
    ['another metric', { metric: 'butteraugli' }],
    ['no met', { met: undefined }],
  ])('refuses a manifest whose autoQuality has %s', (_what, change) => {
    const input = setUp({ formats: ['jpeg'], encoding: { jpeg: { quality: 'auto' } }, renditions: [{ name: 'sm', width: 320 }] }, DEFAULT_SIZES, { rendition: 'sm', autoQuality: choice });
    const manifest = buildManifest(input);
    const [rendition] = manifest.renditions;
    const broken = { ...manifest, renditions: [{ ...rendition, outputs: [{ ...rendition?.outputs[0], autoQuality: { ...rendition?.outputs[0]?.autoQuality, ...change } }] }] };
    expect(ImageManifestSchema.safeParse(broken).success).toBe(false);
  });
});
