import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { InvalidImageError, isCleanOriginal, parseRecipe, probe, render, trailingBytes } from '../../src/index.js';
import { photo } from '../fixtures.js';

const html = Buffer.from('<html><body><script>alert(document.cookie)</script></body></html>');

describe('polyglots: an image with something appended', () => {
  it('measures what follows the end of each format that can be served as-is, and nothing for a plain file', async () => {
    const base = photo({ width: 96, height: 64 });
    const files: Array<[string, Buffer]> = [
      ['jpeg', await base.clone().jpeg().toBuffer()],
      ['jpeg', await base.clone().jpeg({ progressive: true }).withExif({ IFD0: { Artist: 'x' } }).toBuffer()],
      ['png', await base.clone().png().toBuffer()],
      ['webp', await base.clone().webp().toBuffer()],
      ['avif', await base.clone().avif({ effort: 0 }).toBuffer()],
    ];
    for (const [format, file] of files) {
      expect(trailingBytes(file, format as 'jpeg'), format).toBe(0);
      expect(trailingBytes(Buffer.concat([file, html]), format as 'jpeg'), format).toBe(html.length);
      const info = await probe(Buffer.concat([file, html]));
      expect(info.format).toBe(format);
      expect(info.trailingBytes).toBe(html.length);
    }
  });

  it('is never a clean original, so its bytes never stand in for an output', async () => {
    // The same setup as "keeps the original when re-encoding would only make it larger", plus a trailer.
    const tiny = await photo({ width: 320, height: 240 }).jpeg({ quality: 20 }).toBuffer();
    const polyglot = Buffer.concat([tiny, html]);
    expect(isCleanOriginal(await probe(tiny))).toBe(true);
    expect(isCleanOriginal(await probe(polyglot))).toBe(false);
    const recipe = parseRecipe({ formats: ['jpeg'], encoding: { jpeg: { quality: 95 } }, renditions: [{ name: 'sm', width: 320 }] });
    const [output] = (await render(polyglot, recipe)).outputs;
    expect(output?.passthrough).toBe(false);
    expect(output?.data.includes('<script>')).toBe(false);
    expect((await sharp(output?.data).metadata()).width).toBe(320);
  });
});

describe('a file that starts like an image but whose header is cut off', () => {
  it('is a truncated image (TRUNCATED), not an unknown format, when its header points past the end', async () => {
    // libtiff writes the directory after the pixels: half the file has lost it.
    const tiff = await photo({ width: 640, height: 480 }).tiff({ compression: 'lzw' }).toBuffer();
    const truncated = tiff.subarray(0, Math.floor(tiff.length / 2));
    const error = await probe(truncated).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidImageError);
    expect(error).toMatchObject({ code: 'TRUNCATED', details: { format: 'tiff' }, permanent: true });
    expect((error as Error).message).toBe('The file starts like a TIFF image, but ends before the data its header declares (truncated)');
  });

  it('is a corrupt image (CORRUPT_IMAGE) when nothing says it was cut short', async () => {
    const tiff = await photo({ width: 64, height: 48 }).tiff({ compression: 'lzw' }).toBuffer();
    const broken = Buffer.from(tiff);
    // The directory offset points inside the file, at bytes that are not a directory.
    broken.writeUInt32LE(8, 4);
    broken.fill(0xff, 8, 40);
    const error = await probe(broken).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidImageError);
    expect(error).toMatchObject({ code: 'CORRUPT_IMAGE', details: { format: 'tiff' }, permanent: true });
  });
});
