import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import sharp from 'sharp';

export interface SampleOptions {
  width: number;
  height: number;
  /** Same seed, same picture. */
  seed?: number;
  format?: 'jpeg' | 'png' | 'webp';
  /** Adds an EXIF orientation tag (the pixels are stored rotated accordingly). */
  orientation?: number;
}

/** Deterministic pseudo-random numbers (mulberry32). */
export function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const hex = (value: number) =>
  Math.round(value * 255)
    .toString(16)
    .padStart(2, '0');
const colour = (next: () => number) => `#${hex(next())}${hex(next())}${hex(next())}`;

/**
 * A photo-like image: a sky-to-ground gradient, soft shapes, fine texture and sensor grain,
 * so encoders and decoders work as hard as on a real picture (a flat fill compresses to
 * nothing and would flatter every figure). Built with libvips operations, so a 24 MP sample
 * takes well under a second.
 */
export async function photoLike(options: SampleOptions): Promise<Buffer> {
  const { width, height, seed = 1, format = 'jpeg' } = options;
  const next = random(seed);
  // The scene is drawn small and scaled up (smooth, like out-of-focus light); the grain is a
  // seeded tile repeated over the full size. Both keep a 24 MP sample well under a second.
  const sceneWidth = Math.max(1, Math.ceil(width / 4));
  const sceneHeight = Math.max(1, Math.ceil(height / 4));
  const shapes = Array.from({ length: 14 }, () => {
    const x = Math.round(next() * sceneWidth);
    const y = Math.round(next() * sceneHeight);
    const r = Math.max(1, Math.round((0.04 + next() * 0.22) * Math.min(sceneWidth, sceneHeight)));
    return `<circle cx="${x}" cy="${y}" r="${r}" fill="${colour(next)}" fill-opacity="${(0.35 + next() * 0.5).toFixed(2)}"/>`;
  }).join('');
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${sceneWidth}" height="${sceneHeight}">
    <defs><linearGradient id="g" x1="0" y1="0" x2="${next().toFixed(2)}" y2="1">
      <stop offset="0" stop-color="${colour(next)}"/><stop offset="0.55" stop-color="${colour(next)}"/><stop offset="1" stop-color="${colour(next)}"/>
    </linearGradient></defs>
    <rect width="100%" height="100%" fill="url(#g)"/>${shapes}</svg>`;
  const scene = await sharp(Buffer.from(svg)).removeAlpha().raw().toBuffer();
  const tileSize = Math.min(251, width, height);
  const grain = Buffer.alloc(tileSize * tileSize * 3);
  for (let index = 0; index < grain.length; index += 1) grain[index] = 128 + Math.round((next() + next() + next() - 1.5) * 24);
  const base = await sharp(scene, { raw: { width: sceneWidth, height: sceneHeight, channels: 3 } })
    .resize({ width, height, fit: 'fill', kernel: 'cubic' })
    .raw()
    .toBuffer();
  // composite() adds an alpha band: drop it before the pixels are reused.
  const textured = await sharp(
    await sharp(base, { raw: { width, height, channels: 3 } })
      .composite([{ input: grain, raw: { width: tileSize, height: tileSize, channels: 3 }, tile: true, blend: 'soft-light' }])
      .raw()
      .toBuffer(),
    { raw: { width, height, channels: 4 } },
  )
    .removeAlpha()
    .raw()
    .toBuffer();
  let image = sharp(textured, { raw: { width, height, channels: 3 } });
  if (options.orientation && options.orientation !== 1) {
    image = sharp(await image.png({ compressionLevel: 0 }).toBuffer()).withMetadata({ orientation: options.orientation });
  }
  switch (format) {
    case 'png':
      return image.png({ compressionLevel: 6 }).toBuffer();
    case 'webp':
      return image.webp({ quality: 90 }).toBuffer();
    default:
      return image.jpeg({ quality: 90, chromaSubsampling: '4:2:0' }).toBuffer();
  }
}

export interface SampleFile {
  name: string;
  width: number;
  height: number;
  format: 'jpeg' | 'png' | 'webp';
}

/** The demo set: a few sizes and formats, one portrait, all photo-like. */
export const DEMO_SAMPLES: readonly SampleFile[] = [
  { name: 'harbour.jpg', width: 3000, height: 2000, format: 'jpeg' },
  { name: 'meadow.jpg', width: 4000, height: 3000, format: 'jpeg' },
  { name: 'portrait.jpg', width: 1600, height: 2400, format: 'jpeg' },
  { name: 'poster.png', width: 1200, height: 900, format: 'png' },
  { name: 'sunset.webp', width: 2048, height: 1152, format: 'webp' },
];

/** Writes sample images into a folder; returns their paths. */
export async function writeSamples(dir: string, samples: readonly SampleFile[] = DEMO_SAMPLES): Promise<string[]> {
  await mkdir(dir, { recursive: true });
  const paths: string[] = [];
  for (const [index, sample] of samples.entries()) {
    const path = join(dir, sample.name);
    await writeFile(path, await photoLike({ ...sample, seed: index + 1 }));
    paths.push(path);
  }
  return paths;
}
