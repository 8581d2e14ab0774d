import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RECIPE,
  ImageTooLargeError,
  InvalidImageError,
  decodeForRenditions,
  parseRecipe,
  probe,
  render,
  renderRendition,
  type DecodeCounter,
} from '../../src/index.js';
import { photo, photoJpeg, pngBomb, similarity } from '../fixtures.js';

describe('render', () => {
  it('produces every rendition × format of the default recipe from one decode', async () => {
    const jpeg = await photoJpeg(2400, 1600);
    const counter: DecodeCounter = { originalDecodes: 0 };
    const result = await render(jpeg, DEFAULT_RECIPE, { counter });
    expect(counter.originalDecodes).toBe(1);
    expect(result.outputs.map((output) => `${output.rendition}.${output.format} ${output.width}x${output.height}`)).toEqual([
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
    for (const output of result.outputs) {
      const metadata = await sharp(output.data).metadata();
      expect(metadata.width).toBe(output.width);
      expect(metadata.height).toBe(output.height);
      expect(metadata.mediaType).toBe(output.mediaType);
      expect(output.bytes).toBe(output.data.length);
      expect(await similarity(output.data, jpeg)).toBeGreaterThan(0.8);
    }
    expect(result.placeholder.kind).toBe('thumbhash');
    expect(result.placeholder.dominantColor).toMatch(/^#[0-9a-f]{6}$/);
  });

  it('loses no quality to the shared decode: as close to a reference as a direct resize is', async () => {
    const lossless = await photo({ width: 1500, height: 1000, seed: 7 }).png().toBuffer();
    const jpeg = await sharp(lossless).jpeg({ quality: 90 }).toBuffer();
    const recipe = parseRecipe({ renditions: [{ name: 'a', width: 300 }, { name: 'b', width: 750 }], formats: ['png'] });
    const result = await render(jpeg, recipe);
    for (const output of result.outputs) {
      const size = Math.min(256, output.width);
      const reference = await sharp(lossless).resize({ width: output.width, kernel: 'lanczos3' }).png().toBuffer();
      const direct = await sharp(jpeg).resize({ width: output.width }).png().toBuffer();
      const ours = await similarity(output.data, reference, size);
      expect(ours).toBeGreaterThan(0.9);
      expect(ours).toBeGreaterThanOrEqual((await similarity(direct, reference, size)) - 0.01);
    }
  });

  it('encodes identical renditions once and never enlarges by default', async () => {
    const small = await photoJpeg(600, 400);
    const result = await render(small, DEFAULT_RECIPE);
    const md = result.outputs.find((output) => output.rendition === 'md' && output.format === 'webp');
    const lg = result.outputs.find((output) => output.rendition === 'lg' && output.format === 'webp');
    expect([md?.width, md?.height]).toEqual([600, 400]);
    expect(lg?.data).toBe(md?.data);
  });

  it('crops with cover, letterboxes with contain and upscales only when asked', async () => {
    const jpeg = await photoJpeg(600, 300);
    const recipe = parseRecipe({
      formats: ['png'],
      renditions: [
        { name: 'square', width: 300, height: 300, fit: 'cover' },
        { name: 'box', width: 300, height: 300, fit: 'contain', background: '#ff0000' },
        { name: 'big', width: 1200, enlarge: true },
      ],
    });
    const { outputs } = await render(jpeg, recipe);
    const byName = new Map(outputs.map((output) => [output.rendition, output]));
    expect([byName.get('square')?.width, byName.get('square')?.height]).toEqual([300, 300]);
    expect([byName.get('big')?.width, byName.get('big')?.height]).toEqual([1200, 600]);
    const box = byName.get('box');
    expect([box?.width, box?.height]).toEqual([300, 300]);
    const { data } = await sharp(box?.data).raw().toBuffer({ resolveWithObject: true });
    expect([data[0], data[1], data[2]]).toEqual([255, 0, 0]);
  });

  it('applies a rendition filters and leaves the others untouched', async () => {
    const jpeg = await photoJpeg(800, 600);
    const recipe = parseRecipe({
      formats: ['png'],
      renditions: [
        { name: 'plain', width: 400 },
        { name: 'grey', width: 400, filters: [{ type: 'grayscale' }] },
      ],
    });
    const { outputs } = await render(jpeg, recipe);
    const stats = await Promise.all(outputs.map((output) => sharp(output.data).stats()));
    const spread = (index: number) => {
      const channels = stats[index]?.channels ?? [];
      return Math.abs((channels[0]?.mean ?? 0) - (channels[2]?.mean ?? 0));
    };
    expect(spread(0)).toBeGreaterThan(5);
    expect(spread(1)).toBeLessThan(1);
  });

  it('keeps the original when re-encoding would only make it larger', async () => {
    const tiny = await photo({ width: 320, height: 240 }).jpeg({ quality: 20 }).toBuffer();
    const recipe = parseRecipe({ formats: ['jpeg'], encoding: { jpeg: { quality: 95 } }, renditions: [{ name: 'sm', width: 320 }] });
    const [output] = (await render(tiny, recipe)).outputs;
    expect(output?.passthrough).toBe(true);
    expect(output?.bytes).toBe(tiny.length);
  });

  it('re-encodes when the original carries metadata that must be stripped, even if larger', async () => {
    const tagged = await photo({ width: 320, height: 240 })
      .jpeg({ quality: 20 })
      .withExif({ IFD0: { Copyright: 'ACME' } })
      .toBuffer();
    const recipe = parseRecipe({ formats: ['jpeg'], encoding: { jpeg: { quality: 95 } }, renditions: [{ name: 'sm', width: 320 }] });
    const [output] = (await render(tagged, recipe)).outputs;
    expect(output?.passthrough).toBe(false);
    expect((await sharp(output?.data).metadata()).exif).toBeUndefined();
  });

  it('refuses a bomb before decoding and a truncated file while decoding, with named errors', async () => {
    await expect(render(await pngBomb(20_000, 20_000), DEFAULT_RECIPE)).rejects.toBeInstanceOf(ImageTooLargeError);
    const jpeg = await photoJpeg(1200, 900);
    const truncated = jpeg.subarray(0, Math.floor(jpeg.length / 2));
    const error = await render(truncated, DEFAULT_RECIPE).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidImageError);
    expect(error).toMatchObject({ code: 'TRUNCATED', permanent: true });
  });

  it('exposes the steps so a pipeline can split them: decode once, then derive renditions', async () => {
    const jpeg = await photoJpeg(2000, 1000);
    const info = await probe(jpeg);
    const recipe = parseRecipe({ renditions: [{ name: 'a', width: 500 }, { name: 'b', width: 1000 }] });
    const decoded = await decodeForRenditions(jpeg, info, recipe.renditions);
    expect([decoded.kind, decoded.width, decoded.height, decoded.channels]).toEqual(['raw', 1000, 500, 3]);
    const [first] = recipe.renditions;
    if (!first) throw new Error('no rendition');
    const a = await renderRendition(decoded, info, first);
    expect([a.width, a.height]).toEqual([500, 250]);
  });
});

describe('render with metadata kept', () => {
  it("keeps the input's ICC profile through resize and filters when the recipe keeps icc, and converts to sRGB otherwise", async () => {
    const p3 = await photo({ width: 400, height: 300 }).withIccProfile('p3').jpeg({ quality: 90 }).toBuffer();
    const inputIcc = (await sharp(p3).metadata()).icc;
    const kept = parseRecipe({
      formats: ['webp'],
      metadata: { keep: ['icc'] },
      renditions: [{ name: 'a', width: 200, filters: [{ type: 'sharpen' }] }],
    });
    const [withProfile] = (await render(p3, kept)).outputs;
    const keptMeta = await sharp(withProfile?.data).metadata();
    expect(keptMeta.icc?.equals(inputIcc as Buffer)).toBe(true);
    expect(keptMeta.width).toBe(200);
    const [converted] = (await render(p3, parseRecipe({ formats: ['webp'], renditions: [{ name: 'a', width: 200 }] }))).outputs;
    expect((await sharp(converted?.data).metadata()).icc).toBeUndefined();
  });
});
