import { existsSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp, { type Sharp } from 'sharp';
import { ssim } from 'ssim.js';
import type { OutputFacts } from '../src/index.js';

const here = dirname(fileURLToPath(import.meta.url));

/** ../shared/corpus relative to the repository root, or IMGFLOW_CORPUS_DIR. */
export const CORPUS_DIR = process.env.IMGFLOW_CORPUS_DIR ?? resolve(here, '../../../../shared/corpus');
export const HAS_CORPUS = existsSync(join(CORPUS_DIR, 'README.md'));
export const CORPUS_SKIP_REASON = `real-image corpus not found at ${CORPUS_DIR} (set IMGFLOW_CORPUS_DIR); corpus tests skipped`;

export function corpus(name: string): Promise<Buffer> {
  return readFile(join(CORPUS_DIR, name));
}

// Deterministic pseudo-random numbers: the same generator the sample images use.
import { random } from '@imgflow/samples';

export { random };

export interface PhotoOptions {
  width: number;
  height: number;
  seed?: number;
  alpha?: boolean;
}

/**
 * Raw pixels that look like a photo to an encoder: smooth gradients, a few soft shapes and
 * grain, so compression ratios and timings resemble real pictures rather than flat fills.
 */
export function photoPixels({ width, height, seed = 1, alpha = false }: PhotoOptions): Buffer {
  const next = random(seed);
  const channels = alpha ? 4 : 3;
  const data = Buffer.alloc(width * height * channels);
  const blobs = Array.from({ length: 6 }, () => ({
    x: next() * width,
    y: next() * height,
    r: (0.1 + next() * 0.3) * Math.min(width, height),
    c: [next() * 255, next() * 255, next() * 255],
  }));
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      let r = (x / width) * 200 + 30;
      let g = (y / height) * 180 + 40;
      let b = ((x + y) / (width + height)) * 150 + 60;
      for (const blob of blobs) {
        const d = Math.hypot(x - blob.x, y - blob.y);
        if (d < blob.r) {
          const k = 1 - d / blob.r;
          r = r * (1 - k) + (blob.c[0] ?? 0) * k;
          g = g * (1 - k) + (blob.c[1] ?? 0) * k;
          b = b * (1 - k) + (blob.c[2] ?? 0) * k;
        }
      }
      const grain = (next() - 0.5) * 24;
      const offset = (y * width + x) * channels;
      data[offset] = Math.max(0, Math.min(255, r + grain));
      data[offset + 1] = Math.max(0, Math.min(255, g + grain));
      data[offset + 2] = Math.max(0, Math.min(255, b + grain));
      if (alpha) data[offset + 3] = x < width / 2 ? 255 : 96;
    }
  }
  return data;
}

export function photo(options: PhotoOptions): Sharp {
  const { width, height, alpha = false } = options;
  return sharp(photoPixels(options), { raw: { width, height, channels: alpha ? 4 : 3 } });
}

export function photoJpeg(width: number, height: number, seed = 1): Promise<Buffer> {
  return photo({ width, height, seed }).jpeg({ quality: 90 }).toBuffer();
}

/** A PNG that declares `width`×`height` but is a few hundred bytes: the header is rewritten after encoding. */
export async function pngBomb(width: number, height: number): Promise<Buffer> {
  const png = await sharp({ create: { width: 1, height: 1, channels: 3, background: '#000' } }).png().toBuffer();
  const bomb = Buffer.from(png);
  bomb.writeUInt32BE(width, 16);
  bomb.writeUInt32BE(height, 20);
  // Recompute the IHDR CRC so the header parses cleanly.
  const { crc32 } = await import('node:zlib');
  bomb.writeUInt32BE(crc32(bomb.subarray(12, 29)) >>> 0, 29);
  return bomb;
}

/** Similarity of two images (0–1, mean SSIM) after scaling both to the same small size. */
export async function similarity(a: Buffer | Sharp, b: Buffer | Sharp, size = 256): Promise<number> {
  const toData = async (image: Buffer | Sharp) => {
    const pipeline = Buffer.isBuffer(image) ? sharp(image) : image;
    const { data, info } = await pipeline
      .autoOrient()
      .resize({ width: size, height: size, fit: 'fill' })
      .flatten({ background: '#ffffff' })
      .toColourspace('srgb')
      .ensureAlpha()
      .raw()
      .toBuffer({ resolveWithObject: true });
    return { data: new Uint8ClampedArray(data), width: info.width, height: info.height };
  };
  const [left, right] = await Promise.all([toData(a), toData(b)]);
  return ssim(left, right).mssim;
}

/** Mean colour of an image, as [r, g, b] in sRGB. */
export async function meanColour(image: Buffer): Promise<[number, number, number]> {
  const { channels } = await sharp(image).toColourspace('srgb').stats();
  return [channels[0]?.mean ?? 0, channels[1]?.mean ?? 0, channels[2]?.mean ?? 0];
}

/** One IFD entry of tiffFile: BYTE 1, ASCII 2, SHORT 3, LONG 4, RATIONAL 5 (values in numerator/denominator pairs), DOUBLE 12. */
export interface TiffTag {
  tag: number;
  type: 1 | 2 | 3 | 4 | 5 | 12;
  values: readonly number[];
}

const TIFF_TYPE_SIZES: Record<TiffTag['type'], number> = { 1: 1, 2: 1, 3: 2, 4: 4, 5: 8, 12: 8 };

/**
 * A baseline little-endian TIFF written by hand, IFD0 first and the strips after it (so a
 * cut in the pixel data leaves the header readable), with any extra tags: a GeoTIFF tag or a
 * private one libtiff does not know, a DNGVersion, …. The pixels are 8-bit samples, interleaved:
 * RGB unless `extra` replaces the PhotometricInterpretation (262), e.g. 5 for CMYK, 8 for CIELAB;
 * the number of samples per pixel follows from the length of `pixels`.
 */
export function tiffFile(width: number, height: number, pixels: Buffer, extra: readonly TiffTag[] = [], rowsPerStrip = 16): Buffer {
  const samples = pixels.length / (width * height);
  const strips = Math.ceil(height / rowsPerStrip);
  const stripBytes = Array.from({ length: strips }, (_, index) => Math.min(rowsPerStrip, height - index * rowsPerStrip) * width * samples);
  const base: TiffTag[] = [
    { tag: 256, type: 4, values: [width] },
    { tag: 257, type: 4, values: [height] },
    { tag: 258, type: 3, values: Array.from({ length: samples }, () => 8) },
    { tag: 259, type: 3, values: [1] },
    { tag: 262, type: 3, values: [2] },
    { tag: 273, type: 4, values: stripBytes.map(() => 0) },
    { tag: 277, type: 3, values: [samples] },
    { tag: 278, type: 4, values: [rowsPerStrip] },
    { tag: 279, type: 4, values: stripBytes },
    { tag: 284, type: 3, values: [1] },
  ];
  // An extra tag replaces a base tag of the same number.
  const tags = [...base.filter((entry) => !extra.some((added) => added.tag === entry.tag)), ...extra].sort((a, b) => a.tag - b.tag);
  const count = (entry: TiffTag) => (entry.type === 5 ? entry.values.length / 2 : entry.values.length);
  const size = (entry: TiffTag) => TIFF_TYPE_SIZES[entry.type] * entry.values.length;
  const ifdSize = 2 + tags.length * 12 + 4;
  let overflow = 8 + ifdSize;
  const overflowOffsets = tags.map((entry) => {
    if (size(entry) <= 4) return undefined;
    const offset = overflow;
    overflow += size(entry) + (size(entry) % 2);
    return offset;
  });
  const pixelsStart = overflow;
  const stripOffsets = stripBytes.map((_, index) => pixelsStart + stripBytes.slice(0, index).reduce((sum, bytes) => sum + bytes, 0));
  const file = Buffer.alloc(pixelsStart + pixels.length);
  file.write('II*\0', 0, 'latin1');
  file.writeUInt32LE(8, 4);
  file.writeUInt16LE(tags.length, 8);
  const writeValues = (entry: TiffTag, at: number) => {
    const values = entry.tag === 273 ? stripOffsets : entry.values;
    values.forEach((value, index) => {
      if (entry.type === 1 || entry.type === 2) file.writeUInt8(value, at + index);
      else if (entry.type === 3) file.writeUInt16LE(value, at + index * 2);
      else if (entry.type === 12) file.writeDoubleLE(value, at + index * 8);
      else file.writeUInt32LE(value, at + index * 4);
    });
  };
  tags.forEach((entry, index) => {
    const at = 10 + index * 12;
    file.writeUInt16LE(entry.tag, at);
    file.writeUInt16LE(entry.type, at + 2);
    file.writeUInt32LE(count(entry), at + 4);
    const offset = overflowOffsets[index];
    if (offset === undefined) writeValues(entry, at + 8);
    else {
      file.writeUInt32LE(offset, at + 8);
      writeValues(entry, offset);
    }
  });
  pixels.copy(file, pixelsStart);
  return file;
}

/** A JPEG with `junk` (no 0xFF in it) inserted before the marker at `markerOffset`: libjpeg's "Corrupt JPEG data: N extraneous bytes before marker", a warning. */
export function jpegWithJunkAt(jpeg: Buffer, markerOffset: number, junk = Buffer.from('junk!', 'latin1')): Buffer {
  return Buffer.concat([jpeg.subarray(0, markerOffset), junk, jpeg.subarray(markerOffset)]);
}

/** The offset of the segment after SOI and the first marker segment (APP0 or DQT). */
export function jpegSecondMarker(jpeg: Buffer): number {
  return 4 + jpeg.readUInt16BE(4);
}

const SVG_BODY = '<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30"><rect width="40" height="30"/></svg>';
const PROLOG = '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n';
const SVG11_DOCTYPE = '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n';

const utf16 = (text: string, bigEndian: boolean, bom = true) => {
  const bytes = Buffer.from(`${bom ? '\uFEFF' : ''}${text}`, 'utf16le');
  if (bigEndian) bytes.swap16();
  return bytes;
};

/** Every spelling of SVG the sniffer must recognise, named by what makes it tricky. */
export const SVG_SPELLINGS: ReadonlyArray<[string, Buffer]> = [
  ['bare <svg>', Buffer.from(SVG_BODY)],
  ['XML prolog', Buffer.from(`${PROLOG}${SVG_BODY}`)],
  ['prolog and SVG 1.1 DOCTYPE', Buffer.from(`${PROLOG}${SVG11_DOCTYPE}${SVG_BODY}`)],
  [
    'DOCTYPE with an internal entity subset (XXE, entity expansion)',
    Buffer.from(`${PROLOG}<!DOCTYPE svg [\n  <!ENTITY lol "lol">\n  <!ENTITY lol2 "&lol;&lol;&lol;&lol;">\n  <!ENTITY xxe SYSTEM "file:///etc/passwd">\n]>\n<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30"><text>&xxe;&lol2;</text></svg>`),
  ],
  [
    'a DOCTYPE named otherwise, with "]>" quoted and a comment in its subset, then <svg>',
    Buffer.from(`<!DOCTYPE x [ <!ENTITY a "]>"> <!-- ]> ' --> <!ENTITY b 'y'> ]>${SVG_BODY}`),
  ],
  ['leading comment (an editor banner)', Buffer.from(`<!-- Generator: Adobe Illustrator 27.0.0, SVG Export Plug-In -->\n${SVG_BODY}`)],
  ['prolog, comment and stylesheet processing instruction', Buffer.from(`${PROLOG}<!-- c --><?xml-stylesheet href="a.css"?>\n${SVG_BODY}`)],
  ['leading whitespace and newlines', Buffer.from(`\r\n\t  \n${SVG_BODY}`)],
  ['UTF-8 byte-order mark', Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(`${PROLOG}${SVG_BODY}`)])],
  ['UTF-16LE with BOM', utf16(`${PROLOG}${SVG_BODY}`, false)],
  ['UTF-16BE with BOM', utf16(`${PROLOG}${SVG_BODY}`, true)],
  ['UTF-16LE without BOM', utf16(`${PROLOG}${SVG_BODY}`, false, false)],
  ['namespaced root <svg:svg>', Buffer.from('<svg:svg xmlns:svg="http://www.w3.org/2000/svg" width="40" height="30"/>')],
  ['upper-case <SVG>', Buffer.from('<SVG width="40" height="30"></SVG>')],
  ['gzip-compressed SVGZ', gzipSync(Buffer.from(`${PROLOG}${SVG11_DOCTYPE}${SVG_BODY}`))],
  ['SVGZ of a BOM, comments and whitespace', gzipSync(Buffer.from(`\uFEFF  <!-- x -->\n${SVG_BODY}`))],
];

/** What encodeOutputs knows of an original, as validation would have read it (a JPEG, not clean, one frame). */
export const factsOf = (original: Buffer, width: number, height: number, overrides: Partial<OutputFacts> = {}): OutputFacts => ({
  format: 'jpeg',
  width,
  height,
  bytes: original.length,
  clean: false,
  frames: 1,
  ...overrides,
});
