import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LIMITS,
  ImageTooLargeError,
  ImageTooSmallError,
  InvalidOptionError,
  UnsupportedFormatError,
  checkLimits,
  probe,
  resolveLimits,
  validateImage,
} from '../../src/index.js';
import { photo, photoJpeg, pngBomb } from '../fixtures.js';

async function rejection(promise: Promise<unknown>): Promise<Record<string, unknown>> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, 'expected a rejection').toBeDefined();
  return error as Record<string, unknown>;
}

describe('limits', () => {
  it('documents defaults far below libvips own 268 MP', () => {
    expect(DEFAULT_LIMITS).toEqual({
      acceptedFormats: ['jpeg', 'png', 'webp', 'avif', 'gif', 'tiff'],
      maxBytes: 50 * 1024 * 1024,
      maxPixels: 50_000_000,
      maxFrames: 100,
      maxTotalPixels: 200_000_000,
      minWidth: 8,
      minHeight: 8,
      timeoutSeconds: 30,
    });
  });

  it('accepts a normal photo and returns its probe', async () => {
    const info = await validateImage(await photoJpeg(800, 600));
    expect(info).toMatchObject({ format: 'jpeg', width: 800, height: 600 });
  });

  it('rejects a decompression bomb from its header', async () => {
    const error = await rejection(validateImage(await pngBomb(60_000, 60_000)));
    expect(error).toBeInstanceOf(ImageTooLargeError);
    expect(error).toMatchObject({ code: 'TOO_MANY_PIXELS', permanent: true });
    expect(error.message).toBe('The image declares 60000×60000 (3600.0 MP); the limit is 50.0 MP');
  });

  it('rejects by bytes before parsing', async () => {
    const jpeg = await photoJpeg(200, 200);
    const error = await rejection(validateImage(jpeg, resolveLimits({ maxBytes: 100 })));
    expect(error).toMatchObject({ code: 'TOO_MANY_BYTES', name: 'ImageTooLargeError' });
    expect(error.message).toBe(`The file is ${jpeg.length} bytes; the limit is 100 bytes`);
  });

  it('refuses SVG and PDF by default, naming the format', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30"></svg>');
    const error = await rejection(validateImage(svg));
    expect(error).toBeInstanceOf(UnsupportedFormatError);
    expect(error).toMatchObject({ code: 'FORMAT_NOT_ALLOWED' });
    expect(error.message).toBe('SVG input is not accepted; accepted formats: jpeg, png, webp, avif, gif, tiff');
    const pdf = await rejection(validateImage(Buffer.from('%PDF-1.4\n1 0 obj <<>> endobj\n')));
    expect(pdf).toMatchObject({ code: 'FORMAT_NOT_ALLOWED' });
    expect(pdf.message).toMatch(/^PDF input is not accepted/);
  });

  it('accepts SVG when a deployment opts in', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30"></svg>');
    const limits = resolveLimits({ acceptedFormats: [...DEFAULT_LIMITS.acceptedFormats, 'svg'] });
    expect((await validateImage(svg, limits)).format).toBe('svg');
  });

  it('rejects too many frames and too many pixels across frames', async () => {
    const frames = 12;
    const raw = await photo({ width: 20, height: 20 * frames }).raw().toBuffer();
    const animated = await sharp(raw, { raw: { width: 20, height: 20 * frames, channels: 3, pageHeight: 20 } })
      .gif()
      .toBuffer();
    const tooMany = await rejection(validateImage(animated, resolveLimits({ maxFrames: 10 })));
    expect(tooMany).toMatchObject({ code: 'TOO_MANY_FRAMES' });
    expect(tooMany.message).toBe('The animation has 12 frames; the limit is 10');
    const tooBig = await rejection(validateImage(animated, resolveLimits({ maxTotalPixels: 4000 })));
    expect(tooBig).toMatchObject({ code: 'TOO_MANY_PIXELS' });
  });

  it('rejects images below the minimum size', async () => {
    const tiny = await sharp({ create: { width: 4, height: 30, channels: 3, background: '#888' } }).png().toBuffer();
    const error = await rejection(validateImage(tiny));
    expect(error).toBeInstanceOf(ImageTooSmallError);
    expect(error.message).toBe('The image is 4×30; the minimum is 8×8');
  });

  it('checks limits on a probe alone (no bytes needed)', async () => {
    const info = await probe(await photoJpeg(100, 100));
    expect(() => checkLimits(info, resolveLimits({ maxPixels: 9_999 }))).toThrow(ImageTooLargeError);
    expect(() => checkLimits(info, resolveLimits({ acceptedFormats: ['png'] }))).toThrow(UnsupportedFormatError);
    expect(() => checkLimits(info)).not.toThrow();
  });

  it('names a bad limit in the house message shape', () => {
    expect(() => resolveLimits({ maxPixels: -5 })).toThrow(InvalidOptionError);
    expect(() => resolveLimits({ maxPixels: -5 })).toThrow('Expected a number > 0 for limits.maxPixels but received -5 of type number');
    expect(() => resolveLimits({ acceptedFormats: ['bmp' as 'png'] })).toThrow(
      'Expected one of "jpeg", "png", "webp", "avif", "gif", "tiff", "heic", "svg", "pdf" for limits.acceptedFormats[0] but received "bmp" of type string',
    );
  });
});
