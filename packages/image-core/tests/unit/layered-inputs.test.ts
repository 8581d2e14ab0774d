import sharp, { type Sharp } from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_LIMITS,
  DEFAULT_RECIPE,
  ImageTooLargeError,
  ImageTooSmallError,
  type Recipe,
  type RenderedOutput,
  UnsupportedFormatError,
  encodeOutputs,
  isCleanOriginal,
  parseRecipe,
  render,
  renderBundle,
  validateImage,
} from '../../src/index.js';
import { CORPUS_SKIP_REASON, HAS_CORPUS, corpus, meanColour, photo, similarity, tiffFile } from '../fixtures.js';

/**
 * Multi-page and layered inputs (issue 12): what imgflow does with each, end to end through both
 * public paths: render(), and the pipeline's own split (validateImage, then renderBundle as
 * ResizeImage does, then encodeOutputs as OptimizeImage does). Every input is made here with
 * sharp or by hand, so these tests always run.
 */

const WIDTH = 400;
const HEIGHT = 300;
const RED_ORANGE = { r: 200, g: 60, b: 40 };

/** The default recipe's outputs (sm, md, lg: 320, 1024, 2048 wide, never enlarged), each in AVIF, WebP and JPEG, at the given sizes. */
function defaultOutputs(sm: string, md = sm, lg = md): string[] {
  return [
    ['sm', sm],
    ['md', md],
    ['lg', lg],
  ].flatMap(([rendition, size]) => ['avif', 'webp', 'jpeg'].map((format) => `${rendition} ${format} ${size}`));
}

const DEFAULT_OUTPUTS_400x300 = defaultOutputs('320x240', '400x300');

const ANIMATE: Recipe = { ...DEFAULT_RECIPE, animation: 'animate' };

/** sharp 0.35's withGainMap() (experimental, not in its typings): the primary with its gain map applied, i.e. the HDR picture. */
type GainMapAware = Sharp & { withGainMap(): Sharp };

/** Validate, ResizeImage (renderBundle), OptimizeImage (encodeOutputs): the handlers' calls, without storage. */
async function throughPipeline(input: Buffer, recipe: Recipe): Promise<RenderedOutput[]> {
  const info = await validateImage(input, DEFAULT_LIMITS);
  const facts = { format: info.format, width: info.width, height: info.height, bytes: info.bytes, clean: isCleanOriginal(info), frames: info.frames };
  const rendered = await renderBundle(input, { width: info.width, height: info.height, icc: info.hasIccProfile }, recipe.renditions, {
    recipe,
    placeholder: true,
  });
  return encodeOutputs([rendered], facts, { recipe, original: input });
}

/** The outputs of both paths; each is checked the same way. */
async function bothPaths(input: Buffer, recipe: Recipe = DEFAULT_RECIPE): Promise<RenderedOutput[][]> {
  const [rendered, piped] = await Promise.all([render(input, recipe), throughPipeline(input, recipe)]);
  return [rendered.outputs, piped];
}

function summary(outputs: readonly RenderedOutput[]): string[] {
  return outputs.map((output) => `${output.rendition} ${output.format} ${output.width}x${output.height}`);
}

/** What the bytes of an output say about themselves. */
async function inspect(output: RenderedOutput) {
  const metadata = await sharp(output.data).metadata();
  return { ...metadata, bits: metadata.bitsPerSample ?? (metadata.depth === 'uchar' ? 8 : 16) };
}

/** Mean sRGB colour of a 5×5 square around (x, y), in the output's own pixels. */
async function colourAt(image: Buffer, x: number, y: number): Promise<number[]> {
  const { data, info } = await sharp(image).flatten({ background: '#000000' }).toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
  const sums = [0, 0, 0];
  for (let dy = -2; dy <= 2; dy += 1) {
    for (let dx = -2; dx <= 2; dx += 1) {
      const offset = ((Math.round(y) + dy) * info.width + Math.round(x) + dx) * info.channels;
      for (let channel = 0; channel < 3; channel += 1) sums[channel] = (sums[channel] ?? 0) + (data[offset + channel] ?? 0);
    }
  }
  return sums.map((sum) => sum / 25);
}

function expectClose(actual: readonly number[], expected: readonly number[], tolerance: number): void {
  const worst = Math.max(...expected.map((value, channel) => Math.abs((actual[channel] ?? Number.NaN) - value)));
  expect(worst, `[${actual.map(Math.round).join(', ')}] vs [${expected.join(', ')}]`).toBeLessThanOrEqual(tolerance);
}

function solid(colour: { r: number; g: number; b: number }, width = WIDTH, height = HEIGHT) {
  return sharp({ create: { width, height, channels: 3, background: colour } });
}

/** A multi-page TIFF: one page per colour, all WIDTH×HEIGHT (sharp writes pages from a join of frames). */
async function multiPageTiff(colours: readonly string[], width = WIDTH, height = HEIGHT): Promise<Buffer> {
  const pages = await Promise.all(colours.map((background) => sharp({ create: { width, height, channels: 3, background } }).png().toBuffer()));
  return sharp(pages, { join: { animated: true } }).tiff({ compression: 'lzw' }).toBuffer();
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => undefined,
    (error: unknown) => error,
  );
}

describe('multi-page and layered inputs', () => {
  describe('a multi-page TIFF (a scan, a fax) is a document: renditions come from its first page', () => {
    it('with the default recipe: stills of page 1, in every format', async () => {
      const input = await multiPageTiff(['#ff0000', '#0000ff']);
      expect((await sharp(input).metadata()).pages).toBe(2);
      for (const outputs of await bothPaths(input)) {
        expect(summary(outputs)).toEqual(DEFAULT_OUTPUTS_400x300);
        for (const output of outputs) {
          expect(output.animated).toBe(false);
          expect((await inspect(output)).pages ?? 1).toBe(1);
          expectClose(await meanColour(output.data), [255, 0, 0], 6);
        }
      }
    });

    // Fails until probe() counts a TIFF's pages as one frame (see the proposed probe.ts change):
    // today it reports 2 frames, so recipe.animation 'animate' turns the pages into an animated
    // WebP, and a 101-page document is refused as TOO_MANY_FRAMES.
    it("probes as one frame: 'animate' still writes stills, and the page count is no limit", async () => {
      const input = await multiPageTiff(['#ff0000', '#0000ff']);
      expect((await validateImage(input)).frames).toBe(1);
      for (const outputs of await bothPaths(input, ANIMATE)) {
        expect(summary(outputs)).toEqual(DEFAULT_OUTPUTS_400x300);
        for (const output of outputs) {
          expect(output.animated).toBe(false);
          expect((await inspect(output)).pages ?? 1).toBe(1);
          expectClose(await meanColour(output.data), [255, 0, 0], 6);
        }
      }
      const longDocument = await multiPageTiff(Array.from({ length: DEFAULT_LIMITS.maxFrames + 1 }, (_, page) => (page === 0 ? '#00ff00' : '#ffffff')), 16, 16);
      const error = await rejection(validateImage(longDocument));
      expect(error).not.toBeInstanceOf(ImageTooLargeError);
      const { outputs } = await render(longDocument, parseRecipe({ renditions: [{ name: 'o', width: 16 }], formats: ['png'], animation: 'animate' }));
      expectClose(await meanColour(outputs[0]?.data ?? Buffer.alloc(0)), [0, 255, 0], 1);
    });
  });

  it('a JPEG with a gain map (Ultra HDR, ISO 21496-1) is processed as its SDR primary image; the gain map is dropped', async () => {
    // libultrahdr, inside sharp, writes a gain-map JPEG from a brighter-than-SDR (scRGB) image: an
    // SDR primary, then the gain map as a second JPEG listed in an MPF segment.
    const input = await photo({ width: WIDTH, height: HEIGHT }).toColourspace('scrgb').linear(2, 0).jpeg({ quality: 90 }).toBuffer();
    const metadata = await sharp(input).metadata();
    expect(metadata.gainMap?.image.length).toBeGreaterThan(0);
    const info = await validateImage(input);
    expect([info.format, info.width, info.height, info.frames]).toEqual(['jpeg', WIDTH, HEIGHT, 1]);
    // The gain map lies after the primary's end: counted as trailing bytes, so the original is never served as an output.
    expect(info.trailingBytes).toBeGreaterThan(0);
    expect(isCleanOriginal(info)).toBe(false);
    const primary = input.subarray(0, input.length - (info.trailingBytes ?? 0));
    expect((await sharp(primary).metadata()).gainMap).toBeUndefined();
    // libultrahdr tags the primary Display P3: like any tagged original, it is converted to sRGB.
    const [sdr, hdr] = await Promise.all([
      sharp(primary).toColourspace('srgb').png().toBuffer(),
      (sharp(input) as GainMapAware).withGainMap().toColourspace('srgb').png().toBuffer(),
    ]);
    const [sdrMean, hdrMean] = await Promise.all([meanColour(sdr), meanColour(hdr)]);
    // The gain map carries real information: applied, it makes the picture clearly brighter.
    expect(Math.min(...hdrMean.map((value, channel) => value - (sdrMean[channel] ?? 0)))).toBeGreaterThan(20);
    for (const outputs of await bothPaths(input)) {
      expect(summary(outputs)).toEqual(DEFAULT_OUTPUTS_400x300);
      for (const output of outputs) {
        expect(output.passthrough).toBe(false);
        const written = await inspect(output);
        expect(written.gainMap).toBeUndefined();
        expect(written.bits).toBe(8);
        expect(await similarity(output.data, sdr)).toBeGreaterThan(0.9);
        expectClose(await meanColour(output.data), sdrMean, 3);
      }
    }
  });

  it.each([10, 12] as const)('a %i-bit AVIF is processed; every output is 8-bit sRGB', async (bitdepth) => {
    const input = await solid(RED_ORANGE).avif({ bitdepth, quality: 90 }).toBuffer();
    const info = await validateImage(input);
    expect([info.format, info.bitDepth, info.colourSpace]).toEqual(['avif', bitdepth, 'rgb16']);
    for (const outputs of await bothPaths(input)) {
      expect(summary(outputs)).toEqual(DEFAULT_OUTPUTS_400x300);
      for (const output of outputs) {
        const written = await inspect(output);
        expect([written.space, written.bits, written.channels]).toEqual(['srgb', 8, 3]);
        expectClose(await meanColour(output.data), [RED_ORANGE.r, RED_ORANGE.g, RED_ORANGE.b], 5);
      }
    }
  });

  it("a CMYK TIFF without a profile is converted to sRGB with libvips' built-in CMYK profile", async () => {
    // Process inks side by side, 80 px each, written by hand so the ink values are known exactly:
    // paper, cyan, magenta, yellow, black. Expected: how a coated-paper press shows them on screen,
    // rounded. A naive 255×(1−C)(1−K) would make cyan [0, 255, 255]; ink read inverted, black paper.
    const inks = [
      { ink: [0, 0, 0, 0], srgb: [255, 255, 255] },
      { ink: [255, 0, 0, 0], srgb: [0, 160, 225] },
      { ink: [0, 255, 0, 0], srgb: [230, 0, 125] },
      { ink: [0, 0, 255, 0], srgb: [255, 240, 0] },
    ];
    const patch = WIDTH / (inks.length + 1);
    const pixels = Buffer.alloc(WIDTH * HEIGHT * 4);
    for (let offset = 0; offset < pixels.length; offset += 4) {
      const column = Math.floor(((offset / 4) % WIDTH) / patch);
      pixels.set(inks[column]?.ink ?? [0, 0, 0, 255], offset);
    }
    const input = tiffFile(WIDTH, HEIGHT, pixels, [{ tag: 262, type: 3, values: [5] }]);
    const info = await validateImage(input);
    expect([info.format, info.colourSpace, info.channels, info.hasIccProfile]).toEqual(['tiff', 'cmyk', 4, false]);
    for (const outputs of await bothPaths(input)) {
      expect(summary(outputs)).toEqual(DEFAULT_OUTPUTS_400x300);
      for (const output of outputs) {
        const written = await inspect(output);
        expect([written.space, written.channels, written.hasProfile]).toEqual(['srgb', 3, false]);
        const scale = output.width / WIDTH;
        const centre = async (column: number) => colourAt(output.data, (column + 0.5) * patch * scale, output.height / 2);
        for (const [column, { srgb }] of inks.entries()) expectClose(await centre(column), srgb, 30);
        // Full black ink: near black.
        expect(Math.max(...(await centre(inks.length)))).toBeLessThan(40);
      }
    }
  });

  it.each([
    ['16-bit', 'labs'],
    ['float', 'lab'],
  ] as const)('a %s CIELAB TIFF is converted to sRGB', async (_depth, colourSpace) => {
    const input = await solid(RED_ORANGE).toColourspace(colourSpace).tiff({ compression: 'lzw' }).toBuffer();
    const info = await validateImage(input);
    expect([info.format, info.colourSpace, info.hasIccProfile]).toEqual(['tiff', colourSpace, false]);
    for (const outputs of await bothPaths(input)) {
      expect(summary(outputs)).toEqual(DEFAULT_OUTPUTS_400x300);
      for (const output of outputs) {
        const written = await inspect(output);
        expect([written.space, written.bits, written.channels]).toEqual(['srgb', 8, 3]);
        expectClose(await meanColour(output.data), [RED_ORANGE.r, RED_ORANGE.g, RED_ORANGE.b], 5);
      }
    }
  });

  it('an 8-bit CIELAB TIFF (Photoshop Lab mode) is rejected as UNSUPPORTED_VARIANT: the bundled libvips cannot read it', async () => {
    // L* 50, a* +40, b* +30: L scaled to 0–255, a* and b* signed bytes.
    const pixels = Buffer.alloc(64 * 48 * 3);
    for (let offset = 0; offset < pixels.length; offset += 3) pixels.set([128, 40, 30], offset);
    const input = tiffFile(64, 48, pixels, [{ tag: 262, type: 3, values: [8] }]);
    for (const attempt of [() => validateImage(input), () => render(input, DEFAULT_RECIPE)]) {
      const error = await rejection(attempt());
      expect(error).toBeInstanceOf(UnsupportedFormatError);
      expect(error).toMatchObject({ name: 'UnsupportedFormatError', code: 'UNSUPPORTED_VARIANT', permanent: true });
    }
  });

  it('a 16-bit grey PNG is processed: outputs are 8-bit sRGB with R = G = B', async () => {
    // Left half 0xC0C0, right half 0x4040: 192 and 64 on the 8-bit scale.
    const samples = new Uint16Array(WIDTH * HEIGHT).map((_, index) => (index % WIDTH < WIDTH / 2 ? 0xc0c0 : 0x4040));
    const input = await sharp(samples, { raw: { width: WIDTH, height: HEIGHT, channels: 1 } }).toColourspace('grey16').png().toBuffer();
    const info = await validateImage(input);
    expect([info.format, info.colourSpace, info.bitDepth, info.channels]).toEqual(['png', 'grey16', 16, 1]);
    for (const outputs of await bothPaths(input)) {
      expect(summary(outputs)).toEqual(DEFAULT_OUTPUTS_400x300);
      for (const output of outputs) {
        const written = await inspect(output);
        expect([written.space, written.bits, written.channels]).toEqual(['srgb', 8, 3]);
        for (const [x, level] of [
          [output.width / 4, 192],
          [(output.width * 3) / 4, 64],
        ] as const) {
          expectClose(await colourAt(output.data, x, output.height / 2), [level, level, level], 3);
        }
      }
    }
  });

  it('a fully transparent PNG is processed: AVIF, WebP and PNG keep the transparency, JPEG gets the rendition background', async () => {
    const input = await sharp(Buffer.alloc(WIDTH * HEIGHT * 4), { raw: { width: WIDTH, height: HEIGHT, channels: 4 } }).png().toBuffer();
    const info = await validateImage(input);
    expect([info.format, info.hasAlpha, info.channels]).toEqual(['png', true, 4]);
    for (const outputs of await bothPaths(input)) {
      expect(summary(outputs)).toEqual(DEFAULT_OUTPUTS_400x300);
      for (const output of outputs) {
        const written = await inspect(output);
        const stats = await sharp(output.data).stats();
        if (output.format === 'jpeg') {
          expect([written.hasAlpha, written.channels]).toEqual([false, 3]);
          expectClose(await meanColour(output.data), [255, 255, 255], 1);
        } else {
          expect([written.hasAlpha, written.channels]).toEqual([true, 4]);
          expect(stats.channels[3]?.max).toBe(0);
        }
      }
    }
    const onBlue = parseRecipe({ renditions: [{ name: 'o', width: 200, background: '#336699' }], formats: ['png', 'jpeg'] });
    for (const outputs of await bothPaths(input, onBlue)) {
      expect(summary(outputs)).toEqual(['o png 200x150', 'o jpeg 200x150']);
      const [png, jpeg] = outputs as [RenderedOutput, RenderedOutput];
      expect((await sharp(png.data).stats()).channels[3]?.max).toBe(0);
      expectClose(await meanColour(jpeg.data), [0x33, 0x66, 0x99], 2);
    }
  });

  it.each([
    [7, 7],
    [1, 1],
    [2000, 7],
    [7, 2000],
  ])('a %i×%i image, below the 8×8 minimum, is rejected as TOO_SMALL', async (width, height) => {
    const input = await solid(RED_ORANGE, width, height).png().toBuffer();
    for (const attempt of [() => validateImage(input), () => render(input, DEFAULT_RECIPE)]) {
      const error = await rejection(attempt());
      expect(error).toBeInstanceOf(ImageTooSmallError);
      expect(error).toMatchObject({
        name: 'ImageTooSmallError',
        code: 'TOO_SMALL',
        kind: 'reject',
        permanent: true,
        details: { width, height, minWidth: 8, minHeight: 8 },
      });
    }
  });

  it('an 8×8 image, the minimum, is processed', async () => {
    const input = await solid(RED_ORANGE, 8, 8).png().toBuffer();
    for (const outputs of await bothPaths(input)) {
      expect(summary(outputs)).toEqual(defaultOutputs('8x8'));
    }
  });
});

if (!HAS_CORPUS) console.warn(CORPUS_SKIP_REASON);

describe.skipIf(!HAS_CORPUS)('layered inputs from the real-image corpus, default recipe', () => {
  it.each([
    ['16-bit-grey-alpha.png', 'grey16', ['109x96', '109x96', '109x96'], true],
    ['alpha-layer-1-fill.png', 'srgb', ['320x240', '1024x768', '2048x1536'], true],
    ['Flag_of_the_Netherlands-16bit.png', 'rgb16', ['320x213', '900x600', '900x600'], false],
    ['Channel_digital_image_CMYK_color.jpg', 'cmyk', ['320x213', '500x333', '500x333'], false],
    // A 1-bit fax TIFF (CCITT Group 3): a document page.
    ['G31D.TIF', 'b-w', ['320x422', '1024x1350', '2048x2700'], false],
  ] as const)('%s (%s) gives 8-bit sRGB in every format and size, alpha wherever the format has it', async (file, space, sizes, alpha) => {
    const input = await corpus(file);
    const { info, outputs } = await render(input, DEFAULT_RECIPE);
    expect([info.colourSpace, info.frames]).toEqual([space, 1]);
    expect(summary(outputs)).toEqual(defaultOutputs(sizes[0], sizes[1], sizes[2]));
    for (const output of outputs) {
      const written = await inspect(output);
      expect([written.space, written.bits, written.hasAlpha]).toEqual(['srgb', 8, alpha && output.format !== 'jpeg']);
    }
  });
});
