import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { photoLike } from '../../src/index.js';

describe('photoLike', () => {
  it('makes an image of the asked size and format', async () => {
    for (const format of ['jpeg', 'png', 'webp'] as const) {
      const metadata = await sharp(await photoLike({ width: 320, height: 200, format })).metadata();
      expect([metadata.format, metadata.width, metadata.height]).toEqual([format, 320, 200]);
    }
  });

  it('is deterministic for a seed and different across seeds', async () => {
    const a = await sharp(await photoLike({ width: 200, height: 150, seed: 3, format: 'png' })).raw().toBuffer();
    const b = await sharp(await photoLike({ width: 200, height: 150, seed: 3, format: 'png' })).raw().toBuffer();
    const c = await sharp(await photoLike({ width: 200, height: 150, seed: 4, format: 'png' })).raw().toBuffer();
    expect(a.equals(b)).toBe(true);
    expect(a.equals(c)).toBe(false);
  });

  it('looks like a photo to an encoder: grain and texture, not a flat fill', async () => {
    const jpeg = await photoLike({ width: 1000, height: 750 });
    const { channels } = await sharp(jpeg).stats();
    expect(channels.every((channel) => channel.stdev > 10)).toBe(true);
    // A real 0.75 MP photo at q90 is ~100–400 KB; a flat fill would be a few KB.
    expect(jpeg.length).toBeGreaterThan(60_000);
  });

  it('can carry an EXIF orientation', async () => {
    const metadata = await sharp(await photoLike({ width: 300, height: 200, orientation: 6 })).metadata();
    expect(metadata.orientation).toBe(6);
  });
});
