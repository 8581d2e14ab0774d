import sharp from 'sharp';
import { describe, expect, it } from 'vitest';
import { InvalidImageError, UnsupportedFormatError, probe, sha256Hex } from '../../src/index.js';
import { photo, photoJpeg, pngBomb } from '../fixtures.js';

describe('probe', () => {
  it('reads format, size, channels and identity from a JPEG header', async () => {
    const jpeg = await photoJpeg(640, 480);
    const info = await probe(jpeg);
    expect(info).toMatchObject({
      format: 'jpeg',
      width: 640,
      height: 480,
      frames: 1,
      hasAlpha: false,
      colourSpace: 'srgb',
      bitDepth: 8,
      channels: 3,
      orientation: 1,
      bytes: jpeg.length,
      sha256: sha256Hex(jpeg),
    });
    expect(info.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('sniffs the format from the bytes for every readable format', async () => {
    const base = photo({ width: 64, height: 48, alpha: true });
    const cases: Array<[string, Promise<Buffer>]> = [
      ['png', base.clone().png().toBuffer()],
      ['webp', base.clone().webp().toBuffer()],
      ['avif', base.clone().avif({ effort: 0 }).toBuffer()],
      ['gif', base.clone().gif().toBuffer()],
      ['tiff', base.clone().tiff().toBuffer()],
    ];
    for (const [format, bytes] of cases) {
      const info = await probe(await bytes);
      expect(info.format, format).toBe(format);
      expect([info.width, info.height]).toEqual([64, 48]);
    }
  });

  it('reports displayed dimensions after EXIF orientation', async () => {
    const rotated = await photo({ width: 300, height: 200 }).jpeg().withMetadata({ orientation: 6 }).toBuffer();
    const info = await probe(rotated);
    expect(info).toMatchObject({ orientation: 6, width: 200, height: 300, storedWidth: 300, storedHeight: 200 });
  });

  it('reports alpha, 16-bit depth, ICC profile and frames', async () => {
    const png16 = await photo({ width: 32, height: 32, alpha: true }).toColourspace('rgb16').png().toBuffer();
    expect(await probe(png16)).toMatchObject({ hasAlpha: true, bitDepth: 16, channels: 4 });
    const withProfile = await photo({ width: 32, height: 32 }).withIccProfile('p3').jpeg().toBuffer();
    expect((await probe(withProfile)).hasIccProfile).toBe(true);
    const frames = await sharp(await photo({ width: 16, height: 48 }).png().toBuffer())
      .gif()
      .toBuffer()
      .then((gif) => sharp(gif, { animated: true }).toBuffer());
    expect((await probe(frames)).frames).toBe(1);
    const animated = await sharp(await photo({ width: 16, height: 48 }).raw().toBuffer(), {
      raw: { width: 16, height: 48, channels: 3, pageHeight: 16 },
    })
      .webp({ loop: 0 })
      .toBuffer();
    expect((await probe(animated)).frames).toBe(3);
  });

  it('does not decode pixels: a header declaring 10 gigapixels probes instantly and without error', async () => {
    const bomb = await pngBomb(100_000, 100_000);
    const info = await probe(bomb);
    expect(info).toMatchObject({ format: 'png', width: 100_000, height: 100_000 });
    expect(bomb.length).toBeLessThan(200);
  });

  it('rejects an empty file as EMPTY_FILE', async () => {
    const error = await probe(Buffer.alloc(0)).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidImageError);
    expect(error).toMatchObject({ code: 'EMPTY_FILE', name: 'InvalidImageError', permanent: true });
  });

  it('rejects random bytes and HTML named like an image as UNKNOWN_FORMAT', async () => {
    for (const bytes of [Buffer.from('<html><body>hi</body></html>'), Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 7919) % 251))]) {
      const error = await probe(bytes).catch((caught: unknown) => caught);
      expect(error).toBeInstanceOf(UnsupportedFormatError);
      expect(error).toMatchObject({ code: 'UNKNOWN_FORMAT' });
    }
  });

  it('names PDF even though it cannot decode it', async () => {
    expect((await probe(Buffer.from('%PDF-1.7\n%âãÏÓ\n1 0 obj\n<<>>\nendobj\n'))).format).toBe('pdf');
  });

  it('reads a HEIC header through libvips: a bare ftyp box is a HEIC cut short, not an unknown format', async () => {
    const heic = Buffer.concat([Buffer.from([0, 0, 0, 24]), Buffer.from('ftypheic'), Buffer.alloc(16)]);
    const error = await probe(heic).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidImageError);
    expect(error).toMatchObject({ code: 'TRUNCATED', details: { format: 'heic' } });
  });

  it('recognises SVG by its content', async () => {
    const svg = Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30"><rect width="40" height="30"/></svg>');
    expect(await probe(svg)).toMatchObject({ format: 'svg', width: 40, height: 30 });
  });

  it('rejects a corrupt header as CORRUPT_IMAGE', async () => {
    const jpeg = await photoJpeg(64, 64);
    const broken = Buffer.concat([jpeg.subarray(0, 4), Buffer.alloc(64, 0xff)]);
    const error = await probe(broken).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidImageError);
    expect(error).toMatchObject({ code: 'CORRUPT_IMAGE' });
  });
});
