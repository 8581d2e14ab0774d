import exifReader from 'exif-reader';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_RECIPE,
  type DecodeCounter,
  InvalidImageError,
  type RecipeInput,
  type RenderResult,
  parseRecipe,
  probe,
  render,
} from '../../src/index.js';
import { CORPUS_SKIP_REASON, HAS_CORPUS, corpus, meanColour, similarity } from '../fixtures.js';

if (!HAS_CORPUS) console.warn(CORPUS_SKIP_REASON);

const recipe = (input: Omit<RecipeInput, 'renditions'> & { width?: number; renditions?: RecipeInput['renditions'] }) => {
  const { width = 300, renditions = [{ name: 'o', width }], ...rest } = input;
  return parseRecipe({ renditions, ...rest });
};

function only(result: RenderResult, format: string) {
  const output = result.outputs.find((candidate) => candidate.format === format);
  if (!output) throw new Error(`no ${format} output among ${result.outputs.map((candidate) => candidate.format).join(', ')}`);
  return output;
}

describe.skipIf(!HAS_CORPUS)('real images from the corpus', () => {
  describe('EXIF orientation', () => {
    const orientations = [1, 2, 3, 4, 5, 6, 7, 8] as const;
    const outputs = new Map<number, Buffer>();

    beforeAll(async () => {
      const oriented = recipe({ formats: ['jpeg'] });
      await Promise.all(
        orientations.map(async (orientation) => {
          const result = await render(await corpus(`Landscape_${orientation}.jpg`), oriented);
          outputs.set(orientation, only(result, 'jpeg').data);
        }),
      );
    });

    it.each(orientations)('Landscape_%i.jpg probes as 600×450 upright', async (orientation) => {
      const info = await probe(await corpus(`Landscape_${orientation}.jpg`));
      expect(info.orientation).toBe(orientation);
      expect([info.width, info.height]).toEqual([600, 450]);
      expect([info.storedWidth, info.storedHeight]).toEqual(orientation >= 5 ? [450, 600] : [600, 450]);
    });

    it.each(orientations)('Landscape_%i.jpg renders 300×225, upright like Landscape_1', async (orientation) => {
      const data = outputs.get(orientation) as Buffer;
      const metadata = await sharp(data).metadata();
      expect([metadata.width, metadata.height]).toEqual([300, 225]);
      // No orientation tag left for a viewer to apply a second time.
      expect(metadata.orientation ?? 1).toBe(1);
      expect(await similarity(data, outputs.get(1) as Buffer)).toBeGreaterThan(0.9);
    });

    it('the similarity threshold tells a mirrored picture apart', async () => {
      const upright = outputs.get(1) as Buffer;
      expect(await similarity(upright, sharp(upright).flop())).toBeLessThan(0.9);
      expect(await similarity(upright, sharp(upright).flip())).toBeLessThan(0.9);
    });

    it('Portrait_6.jpg comes out portrait', async () => {
      const result = await render(await corpus('Portrait_6.jpg'), recipe({ formats: ['jpeg'] }));
      expect([result.info.width, result.info.height]).toEqual([450, 600]);
      const output = only(result, 'jpeg');
      expect([output.width, output.height]).toEqual([300, 400]);
      const reference = await sharp(await corpus('Portrait_6.jpg')).autoOrient().resize({ width: 300 }).png().toBuffer();
      expect(await similarity(output.data, reference)).toBeGreaterThan(0.9);
    });
  });

  describe('colour spaces', () => {
    it('CMYK JPEG comes out sRGB and looks right', async () => {
      const input = await corpus('Channel_digital_image_CMYK_color.jpg');
      expect((await probe(input)).colourSpace).toBe('cmyk');
      const result = await render(input, recipe({ width: 500, formats: ['jpeg', 'png'] }));
      const reference = await sharp(input).toColourspace('srgb').png().toBuffer();
      for (const output of result.outputs) {
        const metadata = await sharp(output.data).metadata();
        expect(metadata.space).toBe('srgb');
        expect(metadata.channels).toBe(3);
        expect([output.width, output.height]).toEqual([500, 333]);
        expect(await similarity(output.data, reference)).toBeGreaterThan(0.95);
      }
      const [jpegMean, referenceMean] = await Promise.all([meanColour(only(result, 'jpeg').data), meanColour(reference)]);
      for (const [channel, value] of jpegMean.entries()) expect(Math.abs(value - (referenceMean[channel] ?? 0))).toBeLessThan(4);
    });

    it('Display P3 PNG comes out sRGB with the same colours', async () => {
      const input = await corpus('p3.png');
      expect((await probe(input)).hasIccProfile).toBe(true);
      const result = await render(input, recipe({ formats: ['png', 'webp'] }));
      const reference = await sharp(input).toColourspace('srgb').png().toBuffer();
      for (const output of result.outputs) {
        const metadata = await sharp(output.data).metadata();
        expect(metadata.space).toBe('srgb');
        expect(metadata.hasProfile).toBe(false);
        expect([output.width, output.height]).toEqual([8, 8]);
        expect(await similarity(output.data, reference)).toBeGreaterThan(0.95);
      }
      const [pngMean, webpMean, referenceMean] = await Promise.all([
        meanColour(only(result, 'png').data),
        meanColour(only(result, 'webp').data),
        meanColour(reference),
      ]);
      // The picture is a saturated P3 red, which sRGB clips to pure red.
      expect(referenceMean).toEqual([255, 0, 0]);
      for (const [channel, value] of pngMean.entries()) expect(Math.abs(value - (referenceMean[channel] ?? 0))).toBeLessThan(2);
      for (const [channel, value] of webpMean.entries()) expect(Math.abs(value - (referenceMean[channel] ?? 0))).toBeLessThan(6);
    });
  });

  describe('16-bit and alpha', () => {
    it.each([
      { file: '16-bit-grey-alpha.png', width: 109, height: 96, alpha: true },
      { file: 'with-alpha.png', width: 256, height: 192, alpha: true },
      { file: 'alpha-layer-1-fill.png', width: 300, height: 225, alpha: true },
      { file: 'Flag_of_the_Netherlands-16bit.png', width: 300, height: 200, alpha: false },
    ])('$file survives: right size, alpha kept in webp/png, similar to the source', async ({ file, width, height, alpha }) => {
      const input = await corpus(file);
      const result = await render(input, recipe({ formats: ['webp', 'png', 'jpeg'] }));
      const reference = await sharp(input).resize({ width }).png().toBuffer();
      for (const output of result.outputs) {
        const metadata = await sharp(output.data).metadata();
        expect([output.width, output.height]).toEqual([width, height]);
        expect([metadata.width, metadata.height]).toEqual([width, height]);
        expect(metadata.depth).toBe('uchar');
        expect(metadata.hasAlpha).toBe(alpha && output.format !== 'jpeg');
        expect(await similarity(output.data, reference)).toBeGreaterThan(0.9);
      }
    });

    it.each(['with-alpha.png', '16-bit-grey-alpha.png'])('%s keeps its alpha values at full size in the png output', async (file) => {
      const input = await corpus(file);
      const { width } = await probe(input);
      const result = await render(input, recipe({ width, formats: ['png'] }));
      const [source, output] = await Promise.all([sharp(input).stats(), sharp(only(result, 'png').data).stats()]);
      const sourceAlpha = source.channels.at(-1);
      const outputAlpha = output.channels.at(-1);
      expect(sourceAlpha?.min ?? 255).toBeLessThan(255);
      // 16-bit alpha is scaled to 8 bits: compare on the 8-bit scale.
      const scale = (source.channels.at(-1)?.max ?? 0) > 255 ? 257 : 1;
      expect(Math.abs((outputAlpha?.min ?? 0) - (sourceAlpha?.min ?? 0) / scale)).toBeLessThanOrEqual(1);
      expect(Math.abs((outputAlpha?.mean ?? 0) - (sourceAlpha?.mean ?? 0) / scale)).toBeLessThan(1);
    });
  });

  describe('animation', () => {
    it.each(['animated-loop-3.gif', 'animated-loop-3.webp'])('%s probes as many frames', async (file) => {
      const info = await probe(await corpus(file));
      expect(info.frames).toBeGreaterThan(1);
      expect([info.width, info.height]).toEqual([370, 285]);
    });

    it.each(['animated-loop-3.gif', 'animated-loop-3.webp'])("%s with 'first-frame' gives stills", async (file) => {
      const input = await corpus(file);
      const result = await render(input, recipe({ width: 200, formats: ['webp', 'jpeg', 'png'] }));
      expect(result.outputs).toHaveLength(3);
      for (const output of result.outputs) {
        const metadata = await sharp(output.data).metadata();
        expect(metadata.pages ?? 1).toBe(1);
        expect(output.animated).toBe(false);
        expect([output.width, output.height]).toEqual([200, 154]);
      }
      const firstFrame = await sharp(input).resize({ width: 200 }).png().toBuffer();
      expect(await similarity(only(result, 'png').data, firstFrame)).toBeGreaterThan(0.9);
    });

    it.each(['animated-loop-3.gif', 'animated-loop-3.webp'])("%s with 'animate' gives an animated webp and a still jpeg", async (file) => {
      const input = await corpus(file);
      const info = await probe(input);
      const result = await render(input, recipe({ width: 200, formats: ['webp', 'jpeg'], animation: 'animate' }));
      const webp = only(result, 'webp');
      const webpMeta = await sharp(webp.data).metadata();
      expect(webp.animated).toBe(true);
      expect(webpMeta.format).toBe('webp');
      expect(webpMeta.pages).toBe(info.frames);
      expect([webp.width, webp.height]).toEqual([200, 154]);
      const jpeg = only(result, 'jpeg');
      expect(jpeg.animated).toBe(false);
      expect((await sharp(jpeg.data).metadata()).pages ?? 1).toBe(1);
      expect([jpeg.width, jpeg.height]).toEqual([200, 154]);
      // Frame 1 of the animation looks like the first frame of the source.
      const firstFrame = await sharp(input).resize({ width: 200 }).png().toBuffer();
      expect(await similarity(webp.data, firstFrame)).toBeGreaterThan(0.9);
    });
  });

  describe('broken files', () => {
    // Both end early (corrupt-header.jpg is the first 1 KiB of a JPEG, cut inside its EXIF):
    // libjpeg reports a premature end, so the reason is TRUNCATED.
    it.each(['corrupt-header.jpg', 'truncated.jpg'])(
      '%s is rejected with InvalidImageError TRUNCATED',
      async (file) => {
        const error = await render(await corpus(file), recipe({ formats: ['jpeg'] })).then(
          () => undefined,
          (caught: unknown) => caught,
        );
        expect(error).toBeInstanceOf(InvalidImageError);
        expect(error).toMatchObject({ name: 'InvalidImageError', code: 'TRUNCATED', permanent: true });
      },
      15_000,
    );
  });

  describe('other input formats', () => {
    it.each([
      { file: '4.webp', format: 'webp', width: 256, height: 193 },
      { file: 'pitm.avif', format: 'avif', width: 256, height: 50 },
      { file: 'G31D.TIF', format: 'tiff', width: 256, height: 337 },
      // A resampling test card (it shows a different picture when resized badly): halve it, the
      // size its author intended, so the comparison with one sharp resize is fair.
      { file: 'gamma_dalai_lama_gray.jpg', format: 'jpeg', width: 129, height: 111 },
      { file: 'concert.jpg', format: 'jpeg', width: 256, height: 171 },
    ])('$file decodes and renders', async ({ file, format, width, height }) => {
      const input = await corpus(file);
      const info = await probe(input);
      expect(info.format).toBe(format);
      expect(info.frames).toBe(1);
      const result = await render(input, recipe({ width, formats: ['webp', 'jpeg'] }));
      const reference = await sharp(input).resize({ width }).png().toBuffer();
      for (const output of result.outputs) {
        expect([output.width, output.height]).toEqual([width, height]);
        const metadata = await sharp(output.data).metadata();
        expect([metadata.width, metadata.height]).toEqual([width, height]);
        expect(await similarity(output.data, reference)).toBeGreaterThan(0.9);
      }
    });

    it('a one-channel greyscale JPEG comes out grey', async () => {
      const input = await corpus('concert.jpg');
      expect((await probe(input)).channels).toBe(1);
      const result = await render(input, recipe({ width: 256, formats: ['png'] }));
      const { data, info } = await sharp(only(result, 'png').data).toColourspace('srgb').raw().toBuffer({ resolveWithObject: true });
      let chroma = 0;
      for (let offset = 0; offset < data.length; offset += info.channels) {
        chroma = Math.max(chroma, Math.abs((data[offset] ?? 0) - (data[offset + 1] ?? 0)), Math.abs((data[offset + 1] ?? 0) - (data[offset + 2] ?? 0)));
      }
      expect(chroma).toBeLessThanOrEqual(1);
    });
  });

  describe('real photos with the default recipe', () => {
    it.each([
      { file: '2569067123_aca715a2ee_o.jpg', width: 2725, height: 2225 },
      { file: 'flowers.jpeg', width: 1920, height: 1080 },
      { file: 'concert.jpg', width: 400, height: 267 },
    ])('$file: every named output, at min(target, original) width, from one decode', async ({ file, width, height }) => {
      const input = await corpus(file);
      const counter: DecodeCounter = { originalDecodes: 0 };
      const result = await render(input, DEFAULT_RECIPE, { counter });
      expect(counter.originalDecodes).toBe(1);
      expect([result.info.width, result.info.height]).toEqual([width, height]);
      expect(result.outputs).toHaveLength(DEFAULT_RECIPE.renditions.length * DEFAULT_RECIPE.formats.length);
      for (const rendition of DEFAULT_RECIPE.renditions) {
        for (const format of DEFAULT_RECIPE.formats) {
          const output = result.outputs.find((candidate) => candidate.rendition === rendition.name && candidate.format === format);
          expect(output, `${rendition.name}.${format}`).toBeDefined();
          if (!output) continue;
          const expectedWidth = Math.min(rendition.width ?? width, width);
          const metadata = await sharp(output.data).metadata();
          expect(output.width).toBe(expectedWidth);
          expect(metadata.width).toBe(expectedWidth);
          expect(Math.abs((metadata.height ?? 0) - (height * expectedWidth) / width)).toBeLessThanOrEqual(1);
          expect(metadata.format).toBe(format === 'avif' ? 'heif' : format);
          expect(output.bytes).toBe(output.data.length);
        }
      }
      const small = result.outputs.find((candidate) => candidate.rendition === 'sm' && candidate.format === 'jpeg');
      const reference = await sharp(input).resize({ width: 320 }).png().toBuffer();
      expect(await similarity(small?.data as Buffer, reference)).toBeGreaterThan(0.9);
      expect(result.placeholder.kind).toBe('thumbhash');
    });

    it('flowers.jpeg outputs carry none of its EXIF', async () => {
      const input = await corpus('flowers.jpeg');
      expect((await probe(input)).hasExif).toBe(true);
      const result = await render(input, recipe({ width: 320, formats: ['avif', 'webp', 'jpeg', 'png'] }));
      for (const output of result.outputs) {
        const metadata = await sharp(output.data).metadata();
        expect(metadata.exif, output.format).toBeUndefined();
        expect(metadata.xmp, output.format).toBeUndefined();
      }
    });

    it('flowers.jpeg with GPS added: outputs carry no GPS, and keep copyright only when asked', async () => {
      const tagged = await sharp(await corpus('flowers.jpeg'))
        .keepMetadata()
        .withExifMerge({ IFD0: { Copyright: 'ACME' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '51/1 30/1 0/1' } })
        .jpeg({ quality: 90 })
        .toBuffer();
      const sourceTags = exifReader((await sharp(tagged).metadata()).exif as Buffer);
      expect(sourceTags.GPSInfo?.GPSLatitude).toEqual([51, 30, 0]);
      const [plain, keeping] = await Promise.all([
        render(tagged, recipe({ width: 320, formats: ['jpeg', 'webp'] })),
        render(tagged, recipe({ width: 320, formats: ['jpeg', 'webp'], metadata: { keep: ['copyright'] } })),
      ]);
      for (const output of plain.outputs) {
        expect((await sharp(output.data).metadata()).exif).toBeUndefined();
      }
      for (const output of keeping.outputs) {
        const tags = exifReader((await sharp(output.data).metadata()).exif as Buffer);
        expect(tags.Image?.Copyright).toBe('ACME');
        expect(tags.GPSInfo?.GPSLatitude).toBeUndefined();
      }
    });
  });
});
