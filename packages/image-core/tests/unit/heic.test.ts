import { readFileSync } from 'node:fs';
import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LIMITS,
  DEFAULT_RECIPE,
  ImageTooLargeError,
  InvalidImageError,
  UnsupportedFormatError,
  parseRecipe,
  render,
  resolveLimits,
  validateImage,
} from '../../src/index.js';
import { openHeic, withIccChunk } from '../../src/heic.js';

// Made by tests/fixtures/heic/make-fixtures.mjs with heif-enc (libheif 1.15.1, x265).
const fixture = (name: string): Buffer => readFileSync(new URL(`../fixtures/heic/${name}`, import.meta.url));
const HEIC_ON = resolveLimits({ acceptedFormats: ['jpeg', 'png', 'heic'] });
const RECIPE = parseRecipe({
  renditions: [{ name: 'full', width: 96 }],
  formats: ['jpeg', 'webp', 'png'],
});

async function pixel(image: Buffer, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(image).ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  const at = (y * info.width + x) * 4;
  return Array.from(data.subarray(at, at + 4));
}

function output(result: Awaited<ReturnType<typeof render>>, format: string) {
  const found = result.outputs.find((candidate) => candidate.format === format);
  if (!found) throw new Error(`no ${format} output`);
  return found;
}

function near(actual: number[], expected: number[], tolerance: number): void {
  for (const [index, value] of expected.entries()) {
    expect(Math.abs((actual[index] ?? -1) - value), `channel ${index}: ${actual} vs ${expected}`).toBeLessThanOrEqual(tolerance);
  }
}

describe('HEIC input', () => {
  it('is refused by default, naming HEIC and how to opt in', async () => {
    const error = await validateImage(fixture('upright.heic')).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(UnsupportedFormatError);
    expect(error).toMatchObject({ code: 'FORMAT_NOT_ALLOWED' });
    expect((error as Error).message).toMatch(/HEIC input is not accepted.*add heic to limits\.acceptedFormats/);
    expect(DEFAULT_LIMITS.acceptedFormats).not.toContain('heic');
  });

  it('reads the header through libvips when accepted: format, upright size, depth, profile', async () => {
    expect(await validateImage(fixture('upright.heic'), HEIC_ON)).toMatchObject({ format: 'heic', width: 96, height: 64, orientation: 1, bitDepth: 8 });
    // Stored 64×96 with an irot box: the header reports the size libheif will decode.
    expect(await validateImage(fixture('rotated.heic'), HEIC_ON)).toMatchObject({ width: 96, height: 64, storedWidth: 96, orientation: 1 });
    expect(await validateImage(fixture('ten-bit.heic'), HEIC_ON)).toMatchObject({ bitDepth: 10 });
    expect(await validateImage(fixture('p3.heic'), HEIC_ON)).toMatchObject({ hasIccProfile: true });
  });

  it('checks the limits on the header, before any decode', async () => {
    const heic = Buffer.from(fixture('upright.heic'));
    // The primary image's ispe property (full box: size, type, version/flags, width, height).
    const ispe = heic.indexOf('ispe', 0, 'latin1') - 4;
    heic.writeUInt32BE(40_000, ispe + 12);
    heic.writeUInt32BE(30_000, ispe + 16);
    const error = await validateImage(heic, HEIC_ON).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(ImageTooLargeError);
    expect(error).toMatchObject({ code: 'TOO_MANY_PIXELS' });
  });

  it('renders upright from an irot box, and does not apply the EXIF orientation on top', async () => {
    const heic = fixture('rotated.heic');
    const result = await render(heic, RECIPE, { limits: HEIC_ON });
    const jpeg = output(result, 'jpeg');
    expect([jpeg.width, jpeg.height]).toEqual([96, 64]);
    // The red block is in the top-left corner, the field elsewhere.
    near(await pixel(jpeg.data, 4, 4), [220, 20, 20], 30);
    near(await pixel(jpeg.data, 90, 58), [30, 160, 200], 30);
  });

  it('converts a Display P3 HEIC to sRGB through its profile', async () => {
    // sRGB pure green, stored as Display P3 values (117, 251, 76): without the profile it would come out dull.
    const result = await render(fixture('p3.heic'), RECIPE, { limits: HEIC_ON });
    near(await pixel(output(result, 'png').data, 10, 10), [0, 255, 0], 12);
  });

  it('keeps transparency where the output format has it', async () => {
    const result = await render(fixture('alpha.heic'), RECIPE, { limits: HEIC_ON });
    near(await pixel(output(result, 'png').data, 5, 5), [200, 40, 40, 128], 12);
    expect((await sharp(output(result, 'webp').data).metadata()).hasAlpha).toBe(true);
  });

  it('processes a 10-bit HEIC into 8-bit outputs', async () => {
    const result = await render(fixture('ten-bit.heic'), RECIPE, { limits: HEIC_ON });
    const png = await sharp(output(result, 'png').data).metadata();
    expect(png.bitsPerSample).toBe(8);
    near(await pixel(output(result, 'png').data, 4, 4), [220, 20, 20], 20);
  });

  it('renders every rendition of the default recipe', async () => {
    const result = await render(fixture('upright.heic'), DEFAULT_RECIPE, { limits: HEIC_ON });
    expect(new Set(result.outputs.map((candidate) => candidate.format))).toEqual(new Set(['avif', 'webp', 'jpeg']));
    expect(result.info.format).toBe('heic');
  });

  it('rejects a HEIC cut short as TRUNCATED, never as a retry', async () => {
    const heic = fixture('upright.heic');
    const error = await render(heic.subarray(0, heic.length - 60), RECIPE, { limits: HEIC_ON }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidImageError);
    expect(error).toMatchObject({ code: 'TRUNCATED', kind: 'reject' });
  });

  it('rejects a HEIC whose image does not match its header as CORRUPT_IMAGE', async () => {
    const error = await openHeic(fixture('upright.heic'), { width: 95, height: 64 }, {}).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidImageError);
    expect(error).toMatchObject({ code: 'CORRUPT_IMAGE' });
  });

  it('writes the iCCP chunk where the PNG spec wants it, readable by libvips', async () => {
    const png = await sharp({ create: { width: 4, height: 4, channels: 3, background: '#808080' } }).png().toBuffer();
    const icc = (await sharp(await sharp(png).withIccProfile('p3').png().toBuffer()).metadata()).icc;
    if (!icc) throw new Error('sharp attached no profile');
    const tagged = withIccChunk(png, icc);
    expect(tagged.toString('latin1', 37, 41)).toBe('iCCP');
    expect((await sharp(tagged).metadata()).icc?.equals(icc)).toBe(true);
  });
});
