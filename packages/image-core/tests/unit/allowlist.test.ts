import sharp from 'sharp';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import {
  DEFAULT_LIMITS,
  UnsupportedFormatError,
  applyFilters,
  blockedLoaders,
  guardLoaders,
  probe,
  resolveLimits,
  validateImage,
} from '../../src/index.js';
import { SVG_SPELLINGS, photoJpeg } from '../fixtures.js';

// Every sharp() call image-core makes goes through this spy (the real sharp behind it), so a
// test can prove which bytes were handed to libvips at all.
vi.mock('sharp', async (importOriginal) => {
  const actual = await importOriginal<typeof import('sharp')>();
  const real = actual.default as unknown as (...args: unknown[]) => unknown;
  const spy = vi.fn((...args: unknown[]) => real(...args));
  Object.assign(spy, real);
  return { ...actual, default: spy };
});

const sharpCalls = () => vi.mocked(sharp).mock.calls;
const handed = (bytes: Buffer) => sharpCalls().some(([input]) => Buffer.isBuffer(input) && input.equals(bytes));

async function rejection(promise: Promise<unknown>): Promise<UnsupportedFormatError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(UnsupportedFormatError);
  return error as UnsupportedFormatError;
}

describe('allowlist before any parser', () => {
  beforeEach(() => {
    vi.mocked(sharp).mockClear();
  });

  it.each(SVG_SPELLINGS)('with SVG off, an SVG spelled as %s never reaches libvips and is FORMAT_NOT_ALLOWED naming SVG', async (_, svg) => {
    guardLoaders(DEFAULT_LIMITS.acceptedFormats);
    const error = await rejection(validateImage(svg));
    expect(error).toMatchObject({ name: 'UnsupportedFormatError', code: 'FORMAT_NOT_ALLOWED', permanent: true, details: { format: 'svg' } });
    expect(error.message).toBe('SVG input is not accepted; accepted formats: jpeg, png, webp, avif, gif, tiff');
    expect(sharpCalls()).toHaveLength(0);
    expect(handed(svg)).toBe(false);
  });

  it('refuses every recognised format the limits do not accept, naming it, without calling sharp', async () => {
    const limits = resolveLimits({ acceptedFormats: ['jpeg'] });
    const png = await sharp({ create: { width: 16, height: 16, channels: 3, background: '#000' } }).png().toBuffer();
    const cases: Array<[Buffer, string, string]> = [
      [png, 'png', 'PNG'],
      [Buffer.from('%PDF-1.7\n1 0 obj <<>> endobj\n'), 'pdf', 'PDF'],
      [Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypheicmif1heic', 'latin1'), Buffer.alloc(16)]), 'heic', 'HEIC'],
      [Buffer.concat([Buffer.from('8BPS\0\x01', 'latin1'), Buffer.alloc(32)]), 'psd', 'PSD'],
      [Buffer.from([0xff, 0x0a, 0xfa, 0x7f, 0x01, 0x90]), 'jxl', 'JPEG XL'],
      [Buffer.from('FUJIFILMCCD-RAW 0201FF383501', 'latin1'), 'raf', 'RAF (Fujifilm RAW)'],
    ];
    vi.mocked(sharp).mockClear();
    for (const [bytes, format, name] of cases) {
      const error = await rejection(validateImage(bytes, limits));
      expect(error, format).toMatchObject({ code: 'FORMAT_NOT_ALLOWED', details: { format } });
      const optIn = format === 'heic' ? ' (HEIC is opt-in: add heic to limits.acceptedFormats; README, "HEIC input", says what to consider first)' : '';
      expect(error.message).toBe(`${name} input is not accepted; accepted formats: jpeg${optIn}`);
    }
    expect(sharpCalls()).toHaveLength(0);
  });

  it('refuses a format imgflow never reads even from probe with every input format allowed', async () => {
    const jp2 = Buffer.from([0, 0, 0, 12, 0x6a, 0x50, 0x20, 0x20, 0x0d, 0x0a, 0x87, 0x0a, 0, 0, 0, 0]);
    const error = await rejection(probe(jp2));
    expect(error).toMatchObject({ code: 'FORMAT_NOT_ALLOWED', details: { format: 'jp2' } });
    expect(error.message).toMatch(/^JPEG 2000 input is not accepted; accepted formats: /);
    expect(sharpCalls()).toHaveLength(0);
  });

  it('gives bytes no signature names UNKNOWN_FORMAT without calling sharp', async () => {
    for (const bytes of [Buffer.from('<html><body>hi</body></html>'), Buffer.from('P6\n4 4\n255\n'), Buffer.from('#!/bin/sh\n')]) {
      const error = await rejection(validateImage(bytes));
      expect(error).toMatchObject({ code: 'UNKNOWN_FORMAT' });
    }
    expect(sharpCalls()).toHaveLength(0);
  });

  it('hands an accepted format to libvips', async () => {
    const jpeg = await photoJpeg(32, 32);
    vi.mocked(sharp).mockClear();
    expect((await validateImage(jpeg)).format).toBe('jpeg');
    expect(handed(jpeg)).toBe(true);
  });
});

describe('guardLoaders: the loaders of refused formats are blocked behind the sniffer', () => {
  const svg = SVG_SPELLINGS[0]?.[1] as Buffer;

  it('blocks SVG, PDF and the loaders imgflow never uses, and the heif loader only when neither AVIF nor HEIC is accepted', () => {
    const byDefault = blockedLoaders(DEFAULT_LIMITS.acceptedFormats);
    expect(byDefault).toEqual(expect.arrayContaining(['VipsForeignLoadSvg', 'VipsForeignLoadPdf', 'VipsForeignLoadJp2k', 'VipsForeignLoadJxl', 'VipsForeignLoadMagick']));
    // AVIF is accepted by default and goes through the heif loader: it cannot be blocked.
    expect(byDefault).not.toContain('VipsForeignLoadHeif');
    expect(blockedLoaders(['jpeg', 'png'])).toContain('VipsForeignLoadHeif');
    expect(blockedLoaders([...DEFAULT_LIMITS.acceptedFormats, 'svg'])).not.toContain('VipsForeignLoadSvg');
    for (const loader of ['VipsForeignLoadJpeg', 'VipsForeignLoadPng', 'VipsForeignLoadWebp', 'VipsForeignLoadNsgif', 'VipsForeignLoadTiff']) {
      expect(blockedLoaders(['svg'])).not.toContain(loader);
    }
  });

  it('makes libvips itself refuse an SVG once its loader is blocked (a sniffer bug cannot reach librsvg)', async () => {
    guardLoaders(DEFAULT_LIMITS.acceptedFormats);
    await expect(sharp(svg).metadata()).rejects.toThrow(/unsupported image format/i);
    for (const [, spelling] of SVG_SPELLINGS) await expect(sharp(spelling).metadata()).rejects.toThrow();
  });

  it('unblocks the SVG loader for a deployment that accepts SVG, and blocks it again when the limits say so', async () => {
    const withSvg = resolveLimits({ acceptedFormats: [...DEFAULT_LIMITS.acceptedFormats, 'svg'] });
    expect(guardLoaders(withSvg.acceptedFormats)).not.toContain('VipsForeignLoadSvg');
    expect(await validateImage(svg, withSvg)).toMatchObject({ format: 'svg', width: 40, height: 30 });
    guardLoaders(DEFAULT_LIMITS.acceptedFormats);
    await expect(sharp(svg).metadata()).rejects.toThrow(/unsupported image format/i);
  });

  it('still draws the text watermark with the SVG loader blocked (sharp text input, not SVG)', async () => {
    guardLoaders(DEFAULT_LIMITS.acceptedFormats);
    const data = Buffer.alloc(200 * 100 * 3, 0x40);
    const image = { kind: 'raw' as const, data, width: 200, height: 100, channels: 3 as const };
    const output = await applyFilters(image, [{ type: 'text', text: '<b>imgflow</b> & co', position: 'southeast', opacity: 1, size: 0.2, color: '#ffffff', font: 'sans-serif' }]);
    expect(output.data.equals(data)).toBe(false);
  });
});
