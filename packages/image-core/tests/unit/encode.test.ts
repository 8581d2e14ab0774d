import exifReader from 'exif-reader';
import sharp, { type Region, type Sharp, type Stats } from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  type EncodedImage,
  type Encoding,
  EncodingSchema,
  type OutputFormat,
  type WorkingImage,
  encode,
  readRights,
} from '../../src/index.js';
import { photo, similarity } from '../fixtures.js';

async function working(pipeline: Sharp): Promise<WorkingImage> {
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  return { kind: 'raw', data, width: info.width, height: info.height, channels: info.channels as WorkingImage['channels'] };
}

/** Encoding settings as a recipe would give them, with overrides per format. */
function encoding(overrides: Record<string, unknown> = {}): Encoding {
  return EncodingSchema.parse(overrides);
}

const rawPreview = (image: WorkingImage) =>
  sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } });

/** stats() reads the input, not the pipeline: crop to a buffer first. */
async function regionStats(image: Sharp, region: Region): Promise<Stats> {
  return sharp(await image.extract(region).png().toBuffer()).stats();
}

/** A flat graphic with four colours: what a palette PNG is for. */
function flatGraphic(width = 160, height = 120): Promise<WorkingImage> {
  const colours = [
    [230, 57, 70],
    [241, 250, 238],
    [69, 123, 157],
    [29, 53, 87],
  ];
  const data = Buffer.alloc(width * height * 3);
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      data.set(colours[(Math.floor(x / 20) + Math.floor(y / 20)) % 4] ?? [0, 0, 0], (y * width + x) * 3);
    }
  }
  return Promise.resolve({ kind: 'raw', data, width, height, channels: 3 });
}

let picture: WorkingImage;
let transparent: WorkingImage;

beforeAll(async () => {
  [picture, transparent] = await Promise.all([
    working(photo({ width: 320, height: 240, seed: 11 })),
    working(photo({ width: 320, height: 240, seed: 11, alpha: true })),
  ]);
});

describe.each<{ format: OutputFormat; sharpFormat: string; mediaType: string; extension: string; minSimilarity: number }>([
  { format: 'jpeg', sharpFormat: 'jpeg', mediaType: 'image/jpeg', extension: 'jpg', minSimilarity: 0.9 },
  { format: 'webp', sharpFormat: 'webp', mediaType: 'image/webp', extension: 'webp', minSimilarity: 0.9 },
  { format: 'avif', sharpFormat: 'heif', mediaType: 'image/avif', extension: 'avif', minSimilarity: 0.9 },
  { format: 'png', sharpFormat: 'png', mediaType: 'image/png', extension: 'png', minSimilarity: 0.97 },
])('$format', ({ format, sharpFormat, mediaType, extension, minSimilarity }) => {
  let output: EncodedImage;

  beforeAll(async () => {
    output = await encode(picture, format, { encoding: encoding() });
  });

  it('decodes as the format, at the same size', async () => {
    const metadata = await sharp(output.data).metadata();
    expect(metadata.format).toBe(sharpFormat);
    expect([metadata.width, metadata.height]).toEqual([320, 240]);
    expect([output.width, output.height]).toEqual([320, 240]);
  });

  it('describes itself', () => {
    expect(output).toMatchObject({ format, mediaType, extension, bytes: output.data.length });
  });

  it('looks like the source', async () => {
    // Compared at 128 px: lossy encoders at default quality smooth the fixture's per-pixel grain,
    // which is not what "looks like" is about.
    expect(await similarity(output.data, rawPreview(picture), 128)).toBeGreaterThan(minSimilarity);
  });

  it('has no EXIF, XMP or IPTC', async () => {
    const metadata = await sharp(output.data).metadata();
    expect(metadata.exif).toBeUndefined();
    expect(metadata.xmp).toBeUndefined();
    expect(metadata.iptc).toBeUndefined();
  });
});

describe('jpeg', () => {
  it('is progressive by default', async () => {
    const output = await encode(picture, 'jpeg', { encoding: encoding() });
    expect((await sharp(output.data).metadata()).isProgressive).toBe(true);
  });

  it('is baseline with progressive false and mozjpeg false', async () => {
    const output = await encode(picture, 'jpeg', { encoding: encoding({ jpeg: { progressive: false, mozjpeg: false } }) });
    expect((await sharp(output.data).metadata()).isProgressive).toBe(false);
  });

  // sharp's mozjpeg preset turns on optimiseScans, which forces progressive: with the default
  // mozjpeg: true the recipe's progressive: false is silently ignored.
  it('is baseline when the recipe says progressive false (mozjpeg left at its default)', async () => {
    const output = await encode(picture, 'jpeg', { encoding: encoding({ jpeg: { progressive: false } }) });
    expect((await sharp(output.data).metadata()).isProgressive).toBe(false);
  });

  it('flattens transparency onto the background colour', async () => {
    const output = await encode(transparent, 'jpeg', { encoding: encoding(), background: '#00ff00' });
    const metadata = await sharp(output.data).metadata();
    expect(metadata.channels).toBe(3);
    expect(metadata.hasAlpha).toBe(false);
    // The right half is 96/255 opaque: mostly background, so much greener and less red than the source there.
    const region = { left: 240, top: 0, width: 80, height: 240 };
    const [flattened, source] = await Promise.all([
      regionStats(sharp(output.data), region),
      regionStats(rawPreview(transparent).removeAlpha(), region),
    ]);
    expect(flattened.channels[1]?.mean ?? 0).toBeGreaterThan((source.channels[1]?.mean ?? 0) + 50);
    expect(flattened.channels[1]?.mean ?? 0).toBeGreaterThan(190);
    expect(flattened.channels[0]?.mean ?? 0).toBeLessThan((source.channels[0]?.mean ?? 0) - 60);
    // The left half is opaque and keeps its own colours.
    const left = { left: 0, top: 0, width: 120, height: 240 };
    expect(await similarity(sharp(output.data).extract(left), rawPreview(transparent).extract(left).removeAlpha(), 128)).toBeGreaterThan(0.9);
  });

  it('flattens onto white when no background is given', async () => {
    const clear = await working(sharp({ create: { width: 40, height: 30, channels: 4, background: { r: 0, g: 0, b: 0, alpha: 0 } } }));
    const output = await encode(clear, 'jpeg', { encoding: encoding() });
    const { channels } = await sharp(output.data).stats();
    for (const channel of channels) expect(channel.mean).toBeGreaterThan(250);
  });
});

describe('alpha', () => {
  it.each<OutputFormat>(['webp', 'png', 'avif'])('%s keeps the alpha channel', async (format) => {
    const output = await encode(transparent, format, { encoding: encoding() });
    const metadata = await sharp(output.data).metadata();
    expect(metadata.hasAlpha).toBe(true);
    const { channels } = await regionStats(sharp(output.data), { left: 240, top: 0, width: 80, height: 240 });
    expect(channels[3]?.mean ?? 0).toBeGreaterThan(80);
    expect(channels[3]?.mean ?? 0).toBeLessThan(112);
  });
});

describe('quality', () => {
  it.each<OutputFormat>(['jpeg', 'webp', 'avif'])('lower %s quality gives fewer bytes', async (format) => {
    const [high, low] = await Promise.all([
      encode(picture, format, { encoding: encoding({ [format]: { quality: 90 } }) }),
      encode(picture, format, { encoding: encoding({ [format]: { quality: 20 } }) }),
    ]);
    expect(low.bytes).toBeLessThan(high.bytes);
    expect(await similarity(high.data, rawPreview(picture))).toBeGreaterThan(await similarity(low.data, rawPreview(picture)));
  });

  it('lossless webp reproduces the pixels', async () => {
    const output = await encode(picture, 'webp', { encoding: encoding({ webp: { lossless: true } }) });
    const { data } = await sharp(output.data).raw().toBuffer({ resolveWithObject: true });
    expect(data.equals(picture.data)).toBe(true);
  });
});

describe('png palette', () => {
  it("'auto' picks the palette for a flat four-colour graphic", async () => {
    const graphic = await flatGraphic();
    const [auto, truecolour, palette] = await Promise.all([
      encode(graphic, 'png', { encoding: encoding() }),
      encode(graphic, 'png', { encoding: encoding({ png: { palette: false } }) }),
      encode(graphic, 'png', { encoding: encoding({ png: { palette: true } }) }),
    ]);
    expect(palette.bytes).toBeLessThan(truecolour.bytes);
    expect(auto.palette).toBe(true);
    expect(auto.bytes).toBeLessThan(truecolour.bytes);
    expect((await sharp(auto.data).metadata()).isPalette).toBe(true);
    // Four colours survive quantisation exactly.
    const { data } = await sharp(auto.data).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    expect(data.equals(graphic.data)).toBe(true);
  });

  it("'auto' stays lossless for a photo with thousands of colours, even though a quantised palette would be smaller", async () => {
    const [auto, truecolour, palette] = await Promise.all([
      encode(picture, 'png', { encoding: encoding() }),
      encode(picture, 'png', { encoding: encoding({ png: { palette: false } }) }),
      encode(picture, 'png', { encoding: encoding({ png: { palette: true } }) }),
    ]);
    expect(truecolour.palette).toBe(false);
    expect(palette.palette).toBe(true);
    expect(palette.bytes).toBeLessThan(truecolour.bytes);
    expect(auto.palette).toBe(false);
    expect(auto.bytes).toBe(truecolour.bytes);
    const { data } = await sharp(auto.data).raw().toBuffer({ resolveWithObject: true });
    expect(data.equals(picture.data)).toBe(true);
  });

  it("'auto' never keeps a palette file larger than the truecolour one", async () => {
    // Few colours, but noisy: the palette is lossless but need not be smaller.
    const next = (() => {
      let state = 42;
      return () => {
        state = (state * 1103515245 + 12345) % 2147483648;
        return state / 2147483648;
      };
    })();
    const data = Buffer.alloc(200 * 150 * 3);
    for (let index = 0; index < data.length; index += 1) data[index] = Math.floor(next() * 6) * 51;
    const image: WorkingImage = { kind: 'raw', data, width: 200, height: 150, channels: 3 };
    const [auto, truecolour] = await Promise.all([
      encode(image, 'png', { encoding: encoding() }),
      encode(image, 'png', { encoding: encoding({ png: { palette: false } }) }),
    ]);
    expect(auto.bytes).toBeLessThanOrEqual(truecolour.bytes);
    const decoded = await sharp(auto.data).removeAlpha().raw().toBuffer();
    expect(decoded.equals(data)).toBe(true);
  });

  it('palette true quantises a photo: fewer bytes, still similar', async () => {
    const output = await encode(picture, 'png', { encoding: encoding({ png: { palette: true } }) });
    expect((await sharp(output.data).metadata()).isPalette).toBe(true);
    expect(await similarity(output.data, rawPreview(picture))).toBeGreaterThan(0.85);
  });

  it('palette false is lossless', async () => {
    const output = await encode(picture, 'png', { encoding: encoding({ png: { palette: false } }) });
    const { data } = await sharp(output.data).raw().toBuffer({ resolveWithObject: true });
    expect(data.equals(picture.data)).toBe(true);
  });
});

describe('metadata', () => {
  let tagged: Buffer;

  beforeAll(async () => {
    tagged = await photo({ width: 320, height: 240, seed: 5 })
      .withExif({
        IFD0: { Copyright: 'ACME', Artist: 'Jo' },
        IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '51/1 30/1 0/1' },
      })
      .jpeg()
      .toBuffer();
  });

  it('the source really carries Copyright, Artist and GPS', async () => {
    const { exif } = await sharp(tagged).metadata();
    expect(exif).toBeDefined();
    const tags = exifReader(exif as Buffer);
    expect(tags.Image?.Copyright).toBe('ACME');
    expect(tags.GPSInfo?.GPSLatitudeRef).toBe('N');
    expect(tags.GPSInfo?.GPSLatitude).toEqual([51, 30, 0]);
  });

  it('readRights takes Copyright and Artist only', async () => {
    const { exif } = await sharp(tagged).metadata();
    expect(readRights(exif)).toEqual({ copyright: 'ACME', artist: 'Jo' });
  });

  it('readRights of no or malformed EXIF is empty, not an error', () => {
    expect(readRights(undefined)).toEqual({});
    expect(readRights(Buffer.from('not exif at all'))).toEqual({});
  });

  // An encoded working image (as a 'tiff'-kind image is) that still holds the source's EXIF and
  // GPS: encode must drop them on its own. libvips' TIFF writer has no EXIF block, so PNG carries it.
  async function withSourceMetadata(): Promise<WorkingImage> {
    const { data, info } = await sharp(tagged).keepMetadata().png().toBuffer({ resolveWithObject: true });
    expect((await sharp(data).metadata()).exif).toBeDefined();
    return { kind: 'tiff', data, width: info.width, height: info.height, channels: info.channels as WorkingImage['channels'] };
  }

  it.each<OutputFormat>(['jpeg', 'webp', 'avif', 'png'])('%s drops all EXIF by default, even when the working image has it', async (format) => {
    const output = await encode(await withSourceMetadata(), format, { encoding: encoding() });
    const metadata = await sharp(output.data).metadata();
    expect(metadata.exif).toBeUndefined();
    expect(metadata.xmp).toBeUndefined();
    expect(await similarity(output.data, tagged)).toBeGreaterThan(0.9);
  });

  it.each<OutputFormat>(['jpeg', 'webp', 'avif', 'png'])("%s with keep ['copyright'] writes Copyright and Artist but no GPS", async (format) => {
    const { exif } = await sharp(tagged).metadata();
    const rights = readRights(exif);
    const output = await encode(await withSourceMetadata(), format, { encoding: encoding(), keep: ['copyright'], rights });
    const written = (await sharp(output.data).metadata()).exif;
    expect(written).toBeDefined();
    const tags = exifReader(written as Buffer);
    expect(tags.Image?.Copyright).toBe('ACME');
    expect(tags.Image?.Artist).toBe('Jo');
    expect(tags.GPSInfo?.GPSLatitude).toBeUndefined();
    expect(tags.GPSInfo?.GPSLatitudeRef).toBeUndefined();
  });

  it("keep ['copyright'] with no rights found writes no EXIF", async () => {
    const output = await encode(picture, 'jpeg', { encoding: encoding(), keep: ['copyright'], rights: {} });
    expect((await sharp(output.data).metadata()).exif).toBeUndefined();
  });

  it('rights are not written unless the recipe keeps them', async () => {
    const output = await encode(picture, 'jpeg', { encoding: encoding(), keep: [], rights: { copyright: 'ACME' } });
    expect((await sharp(output.data).metadata()).exif).toBeUndefined();
  });

  it("keep ['icc'] carries the working image's profile; otherwise none is written", async () => {
    const { data, info } = await photo({ width: 64, height: 48 }).withIccProfile('p3').tiff({ compression: 'none' }).toBuffer({ resolveWithObject: true });
    const image: WorkingImage = { kind: 'tiff', data, width: info.width, height: info.height, channels: 3 };
    const [kept, dropped] = await Promise.all([
      encode(image, 'jpeg', { encoding: encoding(), keep: ['icc'] }),
      encode(picture, 'jpeg', { encoding: encoding() }),
    ]);
    const [keptMeta, sourceMeta] = await Promise.all([sharp(kept.data).metadata(), sharp(data).metadata()]);
    expect(keptMeta.hasProfile).toBe(true);
    expect(sourceMeta.icc).toBeDefined();
    expect(keptMeta.icc?.equals(sourceMeta.icc as Buffer)).toBe(true);
    expect((await sharp(dropped.data).metadata()).hasProfile).toBe(false);
  });
});
