import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RECIPE,
  InvalidOptionError,
  type Recipe,
  type RenderedOutput,
  encodeOutputs,
  outputsNeedOriginal,
  parseRecipe,
  renderBundle,
} from '../../src/index.js';
import { factsOf, photo, photoJpeg, similarity } from '../fixtures.js';

/** What the two branches of the workflow hand the encoder: renditions without filters, and those with. */
async function branches(original: Buffer, recipe: Recipe, info: { width: number; height: number }) {
  const plain = recipe.renditions.filter((rendition) => rendition.filters.length === 0);
  const filtered = recipe.renditions.filter((rendition) => rendition.filters.length > 0);
  const facts = { ...info, icc: false };
  return Promise.all([renderBundle(original, facts, plain, { recipe }), renderBundle(original, facts, filtered, { recipe })]);
}


describe('encodeOutputs', () => {
  it('encodes every rendition × format from the bundles, each looking like the original', async () => {
    const jpeg = await photoJpeg(2400, 1600);
    const bundles = await branches(jpeg, DEFAULT_RECIPE, { width: 2400, height: 1600 });
    const outputs = await encodeOutputs(bundles, factsOf(jpeg, 2400, 1600), { recipe: DEFAULT_RECIPE });
    expect(outputs.map((output) => `${output.rendition}.${output.format} ${output.width}x${output.height}`)).toEqual([
      'sm.avif 320x213',
      'sm.webp 320x213',
      'sm.jpeg 320x213',
      'md.avif 1024x683',
      'md.webp 1024x683',
      'md.jpeg 1024x683',
      'lg.avif 2048x1365',
      'lg.webp 2048x1365',
      'lg.jpeg 2048x1365',
    ]);
    for (const output of outputs) {
      const metadata = await sharp(output.data).metadata();
      expect([metadata.width, metadata.height, metadata.mediaType]).toEqual([output.width, output.height, output.mediaType]);
      expect(output.bytes).toBe(output.data.length);
      expect([output.passthrough, output.animated]).toEqual([false, false]);
      expect(await similarity(output.data, jpeg)).toBeGreaterThan(0.8);
    }
  });

  it('takes renditions from whichever bundle holds them, filters applied', async () => {
    const jpeg = await photoJpeg(800, 600);
    const recipe = parseRecipe({
      formats: ['png'],
      renditions: [
        { name: 'plain', width: 400 },
        { name: 'grey', width: 400, filters: [{ type: 'grayscale' }] },
      ],
    });
    const outputs = await encodeOutputs(await branches(jpeg, recipe, { width: 800, height: 600 }), factsOf(jpeg, 800, 600), { recipe });
    const spread = async (output: RenderedOutput | undefined) => {
      const { channels } = await sharp(output?.data).stats();
      return Math.abs((channels[0]?.mean ?? 0) - (channels[2]?.mean ?? 0));
    };
    const [plain, grey] = outputs;
    expect([plain?.rendition, grey?.rendition]).toEqual(['plain', 'grey']);
    expect(await spread(plain)).toBeGreaterThan(5);
    expect(await spread(grey)).toBeLessThan(1);
    expect(await similarity(plain?.data as Buffer, jpeg)).toBeGreaterThan(0.9);
  });

  it('encodes identical renditions once', async () => {
    const small = await photoJpeg(600, 400);
    const outputs = await encodeOutputs(await branches(small, DEFAULT_RECIPE, { width: 600, height: 400 }), factsOf(small, 600, 400), { recipe: DEFAULT_RECIPE });
    const md = outputs.find((output) => output.rendition === 'md' && output.format === 'webp');
    const lg = outputs.find((output) => output.rendition === 'lg' && output.format === 'webp');
    expect([lg?.width, lg?.height]).toEqual([600, 400]);
    expect(lg?.data).toBe(md?.data);
  });

  it('hands each output to onOutput before it resolves', async () => {
    const jpeg = await photoJpeg(800, 600);
    const seen: string[] = [];
    const outputs = await encodeOutputs(await branches(jpeg, DEFAULT_RECIPE, { width: 800, height: 600 }), factsOf(jpeg, 800, 600), {
      recipe: DEFAULT_RECIPE,
      onOutput: async (output) => {
        seen.push(`${output.rendition}.${output.format}`);
      },
    });
    expect(seen.sort()).toEqual(outputs.map((output) => `${output.rendition}.${output.format}`).sort());
  });

  it('when onOutput fails, lets every other output settle, then rejects with that failure', async () => {
    const jpeg = await photoJpeg(800, 600);
    const settled: string[] = [];
    const failure = new Error('the store is down');
    const error = await encodeOutputs(await branches(jpeg, DEFAULT_RECIPE, { width: 800, height: 600 }), factsOf(jpeg, 800, 600), {
      recipe: DEFAULT_RECIPE,
      onOutput: async (output) => {
        if (output.rendition === 'sm' && output.format === 'jpeg') throw failure;
        settled.push(`${output.rendition}.${output.format}`);
      },
    }).catch((caught: unknown) => caught);
    expect(error).toBe(failure);
    expect(settled).toHaveLength(8);
  });

  it('lets a clean original stand in for an output that re-encoding would only make larger', async () => {
    const tiny = await photo({ width: 320, height: 240 }).jpeg({ quality: 20 }).toBuffer();
    const recipe = parseRecipe({ formats: ['jpeg'], encoding: { jpeg: { quality: 95 } }, renditions: [{ name: 'sm', width: 320 }] });
    const bundles = await branches(tiny, recipe, { width: 320, height: 240 });
    const facts = factsOf(tiny, 320, 240, { clean: true });
    const [kept] = await encodeOutputs(bundles, facts, { recipe });
    expect(kept).toMatchObject({ passthrough: true, bytes: tiny.length, width: 320, height: 240, format: 'jpeg' });
    expect(kept?.data.length).toBe(0);
    const [withOriginal] = await encodeOutputs(bundles, facts, { recipe, original: tiny });
    expect(withOriginal?.data).toBe(tiny);
    const [reencoded] = await encodeOutputs(bundles, { ...facts, clean: false }, { recipe });
    expect(reencoded?.passthrough).toBe(false);
    expect(reencoded?.bytes).toBeGreaterThan(tiny.length);
  });

  it('needs the original to keep copyright, and then writes the rights it reads from it', async () => {
    const tagged = await photo({ width: 400, height: 300 })
      .jpeg({ quality: 90 })
      .withExif({ IFD0: { Copyright: 'ACME 2030', Artist: 'Jo' } })
      .toBuffer();
    const recipe = parseRecipe({ formats: ['jpeg'], metadata: { keep: ['copyright'] }, renditions: [{ name: 'a', width: 200 }] });
    const facts = factsOf(tagged, 400, 300);
    expect(outputsNeedOriginal(recipe, facts)).toBe(true);
    const bundles = await branches(tagged, recipe, { width: 400, height: 300 });
    const error = await encodeOutputs(bundles, facts, { recipe }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect((error as Error).message).toBe("Expected the original's bytes for original but received undefined of type undefined");
    const [output] = await encodeOutputs(bundles, facts, { recipe, original: tagged });
    const exif = (await sharp(output?.data).metadata()).exif?.toString('latin1') ?? '';
    expect(exif).toContain('ACME 2030');
    expect(exif).toContain('Jo');
  });

  it("animates WebP outputs of an animated original when the recipe says 'animate', stills elsewhere", async () => {
    const frames = await photo({ width: 64, height: 3 * 48 }).raw().toBuffer();
    const animated = await sharp(frames, { raw: { width: 64, height: 144, channels: 3, pageHeight: 48 } })
      .webp({ loop: 0 })
      .toBuffer();
    const recipe = parseRecipe({ formats: ['webp', 'jpeg'], animation: 'animate', renditions: [{ name: 'a', width: 32 }] });
    const facts = factsOf(animated, 64, 48, { format: 'webp', frames: 3 });
    expect(outputsNeedOriginal(recipe, facts)).toBe(true);
    expect(outputsNeedOriginal(recipe, { frames: 1 })).toBe(false);
    const [webp, jpeg] = await encodeOutputs(await branches(animated, recipe, { width: 64, height: 48 }), facts, { recipe, original: animated });
    expect(webp).toMatchObject({ animated: true, width: 32, height: 24 });
    expect((await sharp(webp?.data).metadata()).pages).toBe(3);
    expect(jpeg).toMatchObject({ animated: false, width: 32, height: 24 });
  });

  it('refuses bundles that do not hold a rendition of the recipe', async () => {
    const jpeg = await photoJpeg(400, 300);
    const [plain] = await branches(jpeg, DEFAULT_RECIPE, { width: 400, height: 300 });
    const { sm, ...partial } = plain.aliases;
    expect(sm).toBe('sm');
    await expect(encodeOutputs([{ ...plain, aliases: partial }], factsOf(jpeg, 400, 300), { recipe: DEFAULT_RECIPE })).rejects.toThrow(
      'No intermediate holds the rendition "sm"',
    );
  });
});

describe('outputsNeedOriginal', () => {
  it('is false for the default recipe: the bundles are enough', () => {
    expect(outputsNeedOriginal(DEFAULT_RECIPE, { frames: 1 })).toBe(false);
    expect(outputsNeedOriginal(DEFAULT_RECIPE, { frames: 5 })).toBe(false);
  });
});
