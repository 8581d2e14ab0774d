import { crc32 } from 'node:zlib';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { DECODE_FAIL_ON, DEFAULT_RECIPE, type ImageError, decodeForRenditions, validateImage } from '../../src/index.js';
import { jpegSecondMarker, jpegWithJunkAt, photo, photoPixels, tiffFile } from '../fixtures.js';

/**
 * Tolerant decoding: failOn 'error' processes files that only earn a libvips warning (files
 * desktop viewers open), and still refuses truncated or corrupt data, as a rejection.
 */

type Outcome = { ok: true; width: number; height: number } | { ok: false; name: string; code: string; permanent: boolean; message: string };

/** What the pipeline does with the bytes: validation (header), then the one decode of the original. */
async function outcome(bytes: Buffer): Promise<Outcome> {
  try {
    const info = await validateImage(bytes);
    const decoded = await decodeForRenditions(bytes, info, DEFAULT_RECIPE.renditions);
    return { ok: true, width: decoded.width, height: decoded.height };
  } catch (caught) {
    const error = caught as ImageError;
    return { ok: false, name: error.name, code: error.code, permanent: error.permanent, message: error.message };
  }
}

const WIDTH = 96;
const HEIGHT = 64;
let jpeg: Buffer;
let png: Buffer;
let webp: Buffer;
let tiff: Buffer;

beforeAll(async () => {
  const base = photo({ width: WIDTH, height: HEIGHT, seed: 5 });
  jpeg = await base.clone().jpeg({ quality: 90 }).toBuffer();
  png = await base.clone().png().toBuffer();
  webp = await base.clone().webp({ quality: 90 }).toBuffer();
  tiff = tiffFile(WIDTH, HEIGHT, photoPixels({ width: WIDTH, height: HEIGHT, seed: 5 }));
});

const GEOTIFF_TAGS = [
  { tag: 33550, type: 12, values: [0.25, 0.25, 0] },
  { tag: 33922, type: 12, values: [0, 0, 0, 500000, 4649776, 0] },
  { tag: 34735, type: 3, values: [1, 1, 0, 1, 1024, 0, 1, 1] },
  // GeoAsciiParams without its terminating null: libtiff warns and fixes it.
  { tag: 34737, type: 2, values: [...Buffer.from('WGS 84|', 'latin1')] },
  // A private tag libtiff does not know.
  { tag: 65000, type: 4, values: [42] },
] as const;

/** libvips at the strictest level ('warning', sharp's default) refuses the bytes with this message. */
async function refusedOnWarning(bytes: Buffer, message: RegExp): Promise<void> {
  await expect(sharp(bytes, { failOn: 'warning' }).raw().toBuffer()).rejects.toThrow(message);
}

describe('benign warnings are processed', () => {
  it(`decodes with failOn '${DECODE_FAIL_ON}'`, () => {
    expect(DECODE_FAIL_ON).toBe('error');
  });

  it('a JPEG with extraneous bytes before a marker (libjpeg "Corrupt JPEG data: N extraneous bytes before marker")', async () => {
    for (const offset of [jpegSecondMarker(jpeg), jpeg.indexOf(Buffer.from([0xff, 0xda]))]) {
      const bytes = jpegWithJunkAt(jpeg, offset);
      await refusedOnWarning(bytes, /extraneous bytes before marker/);
      expect(await outcome(bytes), `junk at ${offset}`).toEqual({ ok: true, width: WIDTH, height: HEIGHT });
    }
  });

  it('a GeoTIFF: tags libtiff does not know, an ASCII tag without its null (the file that was retried three times)', async () => {
    const geoTiff = tiffFile(WIDTH, HEIGHT, photoPixels({ width: WIDTH, height: HEIGHT, seed: 5 }), GEOTIFF_TAGS);
    await refusedOnWarning(geoTiff, /does not end in null byte/);
    expect(await outcome(geoTiff)).toEqual({ ok: true, width: WIDTH, height: HEIGHT });
  });

  it('a TIFF whose directory entries are out of order', async () => {
    const unsorted = Buffer.from(tiff);
    const [first, second] = [Buffer.from(unsorted.subarray(10, 22)), Buffer.from(unsorted.subarray(22, 34))];
    unsorted.set(second, 10);
    unsorted.set(first, 22);
    await refusedOnWarning(unsorted, /not sorted in ascending order/);
    expect(await outcome(unsorted)).toEqual({ ok: true, width: WIDTH, height: HEIGHT });
  });

  it('a JPEG with bytes after its end (a trailer) and the hand-written TIFF itself', async () => {
    expect(await outcome(Buffer.concat([jpeg, Buffer.from('trailing garbage')]))).toEqual({ ok: true, width: WIDTH, height: HEIGHT });
    expect(await outcome(tiff)).toEqual({ ok: true, width: WIDTH, height: HEIGHT });
  });
});

describe('truncated and corrupt data is a rejection, never a retry', () => {
  it.each([
    ['JPEG', () => jpeg, [0.05, 0.3, 0.5, 0.9, -2]],
    ['PNG', () => png, [0.05, 0.3, 0.5, 0.9, -12, -2]],
    ['WebP', () => webp, [0.05, 0.3, 0.5, 0.9, -2]],
    ['TIFF', () => tiff, [0.05, 0.3, 0.5, 0.9, -2]],
  ] as const)('%s cut at several points (fractions of its length, or bytes short) is TRUNCATED', async (_, file, cuts) => {
    for (const at of cuts) {
      const size = at < 0 ? file().length + at : Math.floor(file().length * at);
      const result = await outcome(file().subarray(0, size));
      expect(result, `cut at ${size} of ${file().length}`).toMatchObject({ ok: false, name: 'InvalidImageError', code: 'TRUNCATED', permanent: true });
    }
  });

  it('a PNG that lacks only its IEND chunk is TRUNCATED from its structure, though libpng would decode it', async () => {
    const short = png.subarray(0, png.length - 12);
    await expect(sharp(short, { failOn: DECODE_FAIL_ON }).raw().toBuffer()).resolves.toBeInstanceOf(Buffer);
    expect(await outcome(short)).toMatchObject({ ok: false, code: 'TRUNCATED', message: 'The PNG file ends before the data its structure declares (truncated)' });
  });

  it("a TIFF whose strips are cut off, which 'truncated' would publish with the missing rows blank", async () => {
    const short = tiff.subarray(0, Math.floor(tiff.length / 2));
    await expect(sharp(short, { failOn: 'truncated' }).raw().toBuffer()).resolves.toBeInstanceOf(Buffer);
    expect(await outcome(short)).toMatchObject({ ok: false, code: 'TRUNCATED' });
  });

  it('a PNG or TIFF cut inside its header is TRUNCATED: its structure ends before IHDR or the directory does', async () => {
    for (const [name, bytes] of [
      ['PNG after the signature', png.subarray(0, 8)],
      ['PNG mid-IHDR', png.subarray(0, 20)],
      ['TIFF mid-directory', tiff.subarray(0, 40)],
    ] as const) {
      expect(await outcome(bytes), name).toMatchObject({ ok: false, name: 'InvalidImageError', code: 'TRUNCATED', permanent: true });
    }
  });

  it('a complete PNG whose IDAT holds a broken zlib stream is CORRUPT_IMAGE, though libpng says "read error" as for a cut file', async () => {
    const broken = Buffer.from(png);
    const idat = broken.indexOf('IDAT', 8, 'latin1') - 4;
    const length = broken.readUInt32BE(idat);
    broken.fill(0x5a, idat + 8 + 2, idat + 8 + Math.min(length, 200));
    broken.writeUInt32BE(crc32(broken.subarray(idat + 4, idat + 8 + length)) >>> 0, idat + 8 + length);
    await expect(sharp(broken, { failOn: DECODE_FAIL_ON }).raw().toBuffer()).rejects.toThrow(/read error/);
    expect(await outcome(broken)).toMatchObject({ ok: false, name: 'InvalidImageError', code: 'CORRUPT_IMAGE', permanent: true });
  });

  it('a JPEG whose Huffman table is invalid (a decoder error) is CORRUPT_IMAGE', async () => {
    const damaged = Buffer.from(jpeg);
    const dht = damaged.indexOf(Buffer.from([0xff, 0xc4]));
    damaged[dht + 4] = 0x37;
    const result = await outcome(damaged);
    expect(result).toMatchObject({ ok: false, name: 'InvalidImageError', code: 'CORRUPT_IMAGE', permanent: true });
    expect(result.ok === false && result.message).toMatch(/Bogus DHT index/);
  });
});
