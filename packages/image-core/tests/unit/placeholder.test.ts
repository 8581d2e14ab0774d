import { decode as decodeBlurhash, isBlurhashValid } from 'blurhash';
import sharp, { type Sharp } from 'sharp';
import { thumbHashToApproximateAspectRatio, thumbHashToRGBA } from 'thumbhash';
import { describe, expect, it } from 'vitest';
import { type WorkingImage, placeholder } from '../../src/index.js';
import { photo, similarity } from '../fixtures.js';

async function working(pipeline: Sharp): Promise<WorkingImage> {
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  return { kind: 'raw', data, width: info.width, height: info.height, channels: info.channels as WorkingImage['channels'] };
}

const preview = (image: WorkingImage) =>
  sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } });

const rgba = (data: Uint8Array | Uint8ClampedArray, width: number, height: number) =>
  sharp(Buffer.from(data.buffer, data.byteOffset, data.byteLength), { raw: { width, height, channels: 4 } });

/** Left half one colour, right half another: big structure a placeholder must keep. */
function halves(width: number, height: number, left: number[], right: number[]): WorkingImage {
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) data.set(x < width / 2 ? left : right, (y * width + x) * 3);
  }
  return { kind: 'raw', data, width, height, channels: 3 };
}

async function halfMeans(image: Sharp, width: number, height: number) {
  const half = Math.floor(width / 2);
  const mean = async (left: number) => {
    const crop = await image.clone().extract({ left, top: 0, width: half, height }).removeAlpha().png().toBuffer();
    return (await sharp(crop).stats()).channels.map((channel) => channel.mean);
  };
  return { left: await mean(0), right: await mean(width - half) };
}

/** A different 400×300 picture, as a control for similarity thresholds. */
const otherPicture = async () => sharp(await photo({ width: 400, height: 300, seed: 99 }).flop().png().toBuffer());

const HEX = /^#[0-9a-f]{6}$/;

describe('thumbhash', () => {
  it('is base64 of a ThumbHash that decodes to an image like the source', async () => {
    const image = await working(photo({ width: 400, height: 300, seed: 21 }));
    const result = await placeholder(image, 'thumbhash');
    expect(result.kind).toBe('thumbhash');
    expect(result.hash).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    const bytes = Buffer.from(result.hash ?? '', 'base64');
    expect(bytes.toString('base64')).toBe(result.hash);
    expect(bytes.length).toBeGreaterThan(5);
    expect(bytes.length).toBeLessThanOrEqual(40);
    const { w, h, rgba: pixels } = thumbHashToRGBA(bytes);
    // A ThumbHash is a blur: compare it with a blurred source, and check a different picture scores lower.
    const decoded = rgba(pixels, w, h);
    const score = await similarity(decoded.clone(), preview(image).blur(5), 16);
    expect(score).toBeGreaterThan(0.9);
    expect(score).toBeGreaterThan((await similarity(decoded, await otherPicture(), 16)) + 0.2);
    expect(Math.abs(thumbHashToApproximateAspectRatio(bytes) - 4 / 3)).toBeLessThan(0.1);
  });

  it('keeps big structure: red on the left, blue on the right', async () => {
    const image = halves(200, 100, [220, 30, 30], [30, 30, 220]);
    const result = await placeholder(image);
    const { w, h, rgba: pixels } = thumbHashToRGBA(Buffer.from(result.hash ?? '', 'base64'));
    const { left, right } = await halfMeans(rgba(pixels, w, h), w, h);
    expect(left[0] ?? 0).toBeGreaterThan((left[2] ?? 0) + 60);
    expect(right[2] ?? 0).toBeGreaterThan((right[0] ?? 0) + 60);
  });

  it('keeps transparency', async () => {
    const image = await working(sharp({ create: { width: 80, height: 60, channels: 4, background: { r: 200, g: 50, b: 50, alpha: 0.2 } } }));
    const result = await placeholder(image);
    const { rgba: pixels } = thumbHashToRGBA(Buffer.from(result.hash ?? '', 'base64'));
    const alphas = pixels.filter((_, index) => index % 4 === 3);
    expect(Math.max(...alphas)).toBeLessThan(128);
  });

  it('is the default kind', async () => {
    const result = await placeholder(await working(photo({ width: 64, height: 48 })));
    expect(result.kind).toBe('thumbhash');
    expect(result.hash).toBeTruthy();
  });

  it('is the same for the same pixels', async () => {
    const image = await working(photo({ width: 120, height: 90, seed: 4 }));
    const [first, second] = await Promise.all([placeholder(image), placeholder(image)]);
    expect(second).toEqual(first);
  });
});

describe('blurhash', () => {
  it.each([
    { width: 400, height: 300, x: 4, y: 3 },
    { width: 300, height: 400, x: 3, y: 4 },
    { width: 200, height: 200, x: 4, y: 4 },
    { width: 400, height: 100, x: 4, y: 1 },
  ])('is a valid $x×$y-component hash for a $width×$height image', async ({ width, height, x, y }) => {
    const image = await working(photo({ width, height, seed: 8 }));
    const result = await placeholder(image, 'blurhash');
    expect(result.kind).toBe('blurhash');
    const hash = result.hash ?? '';
    expect(isBlurhashValid(hash)).toEqual({ result: true });
    expect(hash).toHaveLength(4 + 2 * x * y);
  });

  it('decodes to an image like the source', async () => {
    const image = await working(photo({ width: 400, height: 300, seed: 21 }));
    const result = await placeholder(image, 'blurhash');
    const decoded = rgba(decodeBlurhash(result.hash ?? '', 32, 24), 32, 24);
    const score = await similarity(decoded.clone(), preview(image).blur(20), 16);
    expect(score).toBeGreaterThan(0.8);
    expect(score).toBeGreaterThan((await similarity(decoded, await otherPicture(), 16)) + 0.2);
  });

  it('keeps big structure: red on the left, blue on the right', async () => {
    const result = await placeholder(halves(200, 100, [220, 30, 30], [30, 30, 220]), 'blurhash');
    const pixels = decodeBlurhash(result.hash ?? '', 40, 20);
    const { left, right } = await halfMeans(rgba(pixels, 40, 20), 40, 20);
    expect(left[0] ?? 0).toBeGreaterThan((left[2] ?? 0) + 60);
    expect(right[2] ?? 0).toBeGreaterThan((right[0] ?? 0) + 60);
  });
});

describe('dominantColor', () => {
  it('is #rrggbb close to the colour that fills most of the image', async () => {
    const base = sharp({ create: { width: 200, height: 150, channels: 3, background: '#3366cc' } });
    const speck = await sharp({ create: { width: 30, height: 30, channels: 3, background: '#ffee00' } }).png().toBuffer();
    const image = await working(base.composite([{ input: speck, left: 10, top: 10 }]));
    for (const kind of ['thumbhash', 'blurhash', 'none'] as const) {
      const { dominantColor } = await placeholder(image, kind);
      expect(dominantColor).toMatch(HEX);
      const [r, g, b] = [1, 3, 5].map((start) => Number.parseInt(dominantColor.slice(start, start + 2), 16));
      // libvips bins colours in steps of 16 before picking the most common.
      expect(Math.abs((r ?? 0) - 0x33)).toBeLessThanOrEqual(16);
      expect(Math.abs((g ?? 0) - 0x66)).toBeLessThanOrEqual(16);
      expect(Math.abs((b ?? 0) - 0xcc)).toBeLessThanOrEqual(16);
    }
  });

  it('follows the image: a red image has a red dominant colour', async () => {
    const { dominantColor } = await placeholder(await working(sharp({ create: { width: 64, height: 64, channels: 3, background: '#e01010' } })));
    expect(dominantColor).toMatch(/^#[d-f][0-9a-f][0-2][0-9a-f][0-2][0-9a-f]$/);
  });

  it('works for a greyscale (one-channel) image', async () => {
    const grey = await working(sharp({ create: { width: 64, height: 64, channels: 3, background: '#808080' } }).extractChannel(0));
    expect(grey.channels).toBe(1);
    const result = await placeholder(grey);
    expect(result.dominantColor).toMatch(/^#([0-9a-f]{2})\1\1$/);
    expect(result.hash).toBeTruthy();
  });
});

describe("'none'", () => {
  it('has a dominant colour and no hash', async () => {
    const result = await placeholder(await working(photo({ width: 64, height: 48 })), 'none');
    expect(result.kind).toBe('none');
    expect(result).not.toHaveProperty('hash');
    expect(result.dominantColor).toMatch(HEX);
  });
});
