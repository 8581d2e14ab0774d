import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import sharp, { type Sharp } from 'sharp';
import { ssim } from 'ssim.js';

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
