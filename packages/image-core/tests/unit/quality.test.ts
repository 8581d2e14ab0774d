import sharp, { type Sharp } from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  AUTO_QUALITY,
  type AutoFormat,
  type Encoding,
  type Recipe,
  type RecipeInput,
  type RenderedOutput,
  type WorkingImage,
  RecipeError,
  chooseQualities,
  decodeForRenditions,
  encode,
  encodeOutputs,
  parseRecipe,
  perceptualScore,
  probe,
  render,
  renderBundle,
  renderRendition,
} from '../../src/index.js';
import { factsOf, photo, photoJpeg } from '../fixtures.js';

async function workingOf(pipeline: Sharp): Promise<WorkingImage> {
  const { data, info } = await pipeline.raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  return { kind: 'raw', data, width: info.width, height: info.height, channels: info.channels as WorkingImage['channels'] };
}

/** Grain and soft shapes: every quality step costs it detail. */
const noisyPhoto = (width = 400, height = 300, seed = 3) => workingOf(photo({ width, height, seed }));

/** Four colours in large flat areas with hard edges: a low quality already reproduces it. */
function flatGraphic(width = 400, height = 300): Promise<WorkingImage> {
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}">
    <rect width="100%" height="100%" fill="#3366cc"/>
    <rect x="${width * 0.1}" y="${height * 0.15}" width="${width * 0.4}" height="${height * 0.35}" fill="#ffcc00"/>
    <circle cx="${width * 0.72}" cy="${height * 0.62}" r="${Math.min(width, height) * 0.22}" fill="#cc2222"/>
  </svg>`;
  return workingOf(sharp(Buffer.from(svg)).flatten({ background: '#ffffff' }));
}

/** The search on one image that is both the smallest and the largest rendition. */
const choose = (image: WorkingImage, encoding: Encoding) => chooseQualities({ smallest: image, largest: image }, encoding);

const autoEncoding = (encoding: RecipeInput['encoding']): Encoding => parseRecipe({ renditions: [{ name: 'a', width: 1 }], encoding }).encoding;
const ALL_AUTO = autoEncoding({ jpeg: { quality: 'auto' }, webp: { quality: 'auto' }, avif: { quality: 'auto' } });

function recipeError(input: unknown): string {
  try {
    parseRecipe(input);
  } catch (error) {
    expect(error).toBeInstanceOf(RecipeError);
    return (error as Error).message;
  }
  throw new Error('expected the recipe to be rejected');
}

describe('recipe: auto quality', () => {
  it.each(['jpeg', 'webp', 'avif'] as const)("accepts quality 'auto' for %s, with or without a target", (format) => {
    const bare = parseRecipe({ renditions: [{ name: 'a', width: 10 }], encoding: { [format]: { quality: 'auto' } } });
    expect(bare.encoding[format].quality).toBe('auto');
    expect(bare.encoding[format].target).toBeUndefined();
    const targeted = parseRecipe({ renditions: [{ name: 'a', width: 10 }], encoding: { [format]: { quality: 'auto', target: 0.95 } } });
    expect(targeted.encoding[format]).toMatchObject({ quality: 'auto', target: 0.95 });
  });

  it('keeps the fixed defaults when no quality is given', () => {
    const { encoding } = parseRecipe({ renditions: [{ name: 'a', width: 10 }] });
    expect([encoding.jpeg.quality, encoding.webp.quality, encoding.avif.quality]).toEqual([80, 80, 50]);
  });

  it.each([
    [{ jpeg: { quality: 'auto', target: 0.3 } }, 'recipe.encoding.jpeg.target'],
    [{ webp: { quality: 'auto', target: 1 } }, 'recipe.encoding.webp.target'],
    [{ avif: { quality: 'auto', target: 0.9995 } }, 'recipe.encoding.avif.target'],
  ])('rejects the out-of-range target %j with a message naming the field', (encoding, field) => {
    expect(recipeError({ renditions: [{ name: 'a', width: 10 }], encoding })).toMatch(new RegExp(`^Expected a number [<>]= [0-9.]+ for ${field.replaceAll('.', '\\.')} but received`));
  });

  it("has no 'auto' for PNG, and no other word for a quality", () => {
    expect(recipeError({ renditions: [{ name: 'a', width: 10 }], encoding: { png: { quality: 'auto' } } })).toContain('recipe.encoding.png.quality');
    expect(recipeError({ renditions: [{ name: 'a', width: 10 }], encoding: { jpeg: { quality: 'best' } } })).toContain('recipe.encoding.jpeg.quality');
  });
});

describe('perceptualScore', () => {
  it('is 1 for an image against its own lossless encoding, and clearly lower for a blurred, low-quality one', async () => {
    const image = await noisyPhoto();
    const lossless = await sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } }).png().toBuffer();
    expect(await perceptualScore(image, lossless)).toBeGreaterThanOrEqual(0.999);
    const degraded = await sharp(lossless).blur(3).jpeg({ quality: 10 }).toBuffer();
    const score = await perceptualScore(image, degraded);
    expect(score).toBeLessThan(0.6);
    const fine = await sharp(lossless).jpeg({ quality: 95 }).toBuffer();
    expect(await perceptualScore(image, fine)).toBeGreaterThan(score + 0.2);
  });

  it('refuses an encoding of another size', async () => {
    const image = await noisyPhoto(200, 150);
    const smaller = await sharp(image.data, { raw: { width: 200, height: 150, channels: image.channels } }).resize(100).png().toBuffer();
    await expect(perceptualScore(image, smaller)).rejects.toThrow('Cannot score a 100×75 encoding against a 200×150 reference');
  });
});

describe('chooseQualities', () => {
  it('gives a flat graphic a lower JPEG and WebP quality than a noisy photo for the same target', async () => {
    const [graphic, noisy] = await Promise.all([flatGraphic(), noisyPhoto()]);
    const [flat, busy] = await Promise.all([choose(graphic, ALL_AUTO), choose(noisy, ALL_AUTO)]);
    for (const format of ['jpeg', 'webp'] as const) {
      expect(flat.choices[format]?.quality, format).toBeLessThan(busy.choices[format]?.quality ?? 0);
      expect(flat.choices[format]?.met, format).toBe(true);
    }
  });

  it('replaces every auto quality by the chosen number, and records each choice with the default target', async () => {
    const { encoding, choices } = await choose(await noisyPhoto(), ALL_AUTO);
    for (const format of ['jpeg', 'webp', 'avif'] as const) {
      const choice = choices[format];
      expect(choice, format).toMatchObject({ metric: 'ssim', target: AUTO_QUALITY.targets[format] });
      expect(encoding[format].quality, format).toBe(choice?.quality);
      const range = AUTO_QUALITY.ranges[format];
      expect(choice?.quality).toBeGreaterThanOrEqual(range.min);
      expect(choice?.quality).toBeLessThanOrEqual(range.max);
    }
    // Everything else in the encoding is as the recipe had it.
    expect(encoding.png).toEqual(ALL_AUTO.png);
    expect(encoding.avif.effort).toBe(ALL_AUTO.avif.effort);
  });

  it('meets target + margin whenever it says met, in at most maxTrials encodes per format', async () => {
    const images = await Promise.all([flatGraphic(), noisyPhoto(), noisyPhoto(640, 480, 9)]);
    for (const target of [0.8, 0.9, 0.95]) {
      const encoding = autoEncoding({ jpeg: { quality: 'auto', target }, webp: { quality: 'auto', target }, avif: { quality: 'auto', target } });
      for (const image of images) {
        const { choices } = await choose(image, encoding);
        for (const [format, choice] of Object.entries(choices)) {
          const where = `${format} ${image.width}×${image.height} target ${target}`;
          expect(choice.trials, where).toBeGreaterThanOrEqual(1);
          expect(choice.trials, where).toBeLessThanOrEqual(AUTO_QUALITY.maxTrials);
          expect(choice.target, where).toBe(target);
          if (choice.met) expect(choice.score, where).toBeGreaterThanOrEqual(target + AUTO_QUALITY.margin);
          else expect(choice.score, where).toBeLessThan(target + AUTO_QUALITY.margin);
        }
      }
    }
  });

  it("scores the chosen quality as perceptualScore scores that encode (an image no larger than the proxy is its own proxy)", async () => {
    const image = await noisyPhoto(200, 150);
    const { encoding, choices } = await choose(image, ALL_AUTO);
    for (const format of ['jpeg', 'webp', 'avif'] as const) {
      const encoded = await encode(image, format, { encoding });
      expect(await perceptualScore(image, encoded.data), format).toBe(choices[format]?.score);
    }
  });

  it("keeps the largest rendition's detail: a full-size crop of it meets the target at the quality chosen", async () => {
    const largest = await noisyPhoto(1200, 800, 4);
    const smallest = await workingOf(sharp(largest.data, { raw: { width: 1200, height: 800, channels: largest.channels } }).resize(300));
    const both = await chooseQualities({ smallest, largest }, ALL_AUTO);
    const small = await choose(smallest, ALL_AUTO);
    const side = AUTO_QUALITY.cropSide;
    const crop = await workingOf(
      sharp(largest.data, { raw: { width: 1200, height: 800, channels: largest.channels } }).extract({ left: (1200 - side) / 2, top: (800 - side) / 2, width: side, height: side }),
    );
    for (const format of ['jpeg', 'webp', 'avif'] as const) {
      const choice = both.choices[format];
      expect(choice?.quality, format).toBeGreaterThanOrEqual(small.choices[format]?.quality ?? 101);
      if (!choice?.met) continue;
      const encoded = await encode(crop, format, { encoding: both.encoding });
      expect(await perceptualScore(crop, encoded.data), format).toBeGreaterThanOrEqual(choice.target);
    }
  });

  it('leaves a fixed quality alone: no choice, the number unchanged', async () => {
    const encoding = autoEncoding({ jpeg: { quality: 'auto' }, webp: { quality: 64 } });
    const { encoding: resolved, choices } = await choose(await noisyPhoto(), encoding);
    expect(Object.keys(choices)).toEqual(['jpeg']);
    expect(resolved.webp).toEqual(encoding.webp);
    expect(resolved.avif).toEqual(encoding.avif);
    expect(typeof resolved.jpeg.quality).toBe('number');
  });

  it('searches nothing when no quality is auto', async () => {
    const encoding = autoEncoding({});
    const resolved = await choose(await noisyPhoto(), encoding);
    expect(resolved).toEqual({ encoding, choices: {} });
    expect(resolved.encoding).toBe(encoding);
  });

  it('says met: false for a target out of reach, and uses the highest quality it tried', async () => {
    const encoding = autoEncoding({ avif: { quality: 'auto', target: 0.999 } });
    const { encoding: resolved, choices } = await choose(await noisyPhoto(), encoding);
    const choice = choices.avif;
    expect(choice).toMatchObject({ met: false, target: 0.999 });
    expect(choice?.score).toBeLessThan(0.999);
    expect(resolved.avif.quality).toBe(choice?.quality);
    // The range's maximum, unless the trials ran out on the way up.
    if (choice?.quality !== AUTO_QUALITY.ranges.avif.max) expect(choice?.trials).toBe(AUTO_QUALITY.maxTrials);
    expect(choice?.quality).toBeGreaterThan(AUTO_QUALITY.ranges.avif.seed);
  });

  // QualityChoice.met: "False when even the highest quality of the range scored below the target".
  it.each(['jpeg', 'webp', 'avif'] as const)('says met: false for %s only when the top of the range misses the target too', async (format) => {
    const image = await noisyPhoto(200, 150);
    const range = AUTO_QUALITY.ranges[format];
    const fixed = (quality: number) => autoEncoding({ [format]: { quality } });
    const topScore = await perceptualScore(image, (await encode(image, format, { encoding: fixed(range.max) })).data);
    // The highest target the range's maximum still meets (with the margin).
    const target = Math.floor((topScore - AUTO_QUALITY.margin) * 1000) / 1000;
    const { choices } = await choose(image, autoEncoding({ [format]: { quality: 'auto', target } }));
    expect(choices[format], `target ${target}, q${range.max} scores ${topScore}`).toMatchObject({ met: true });
  });
});

describe("encoding an unresolved 'auto'", () => {
  it.each(['jpeg', 'webp', 'avif'] as const)('%s: fails naming the format and chooseQualities', async (format: AutoFormat) => {
    const image = await noisyPhoto(64, 48);
    const error = await encode(image, format, { encoding: ALL_AUTO }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain(`The ${format} quality is 'auto': chooseQualities() resolves it before encoding`);
    // A defect in the caller, not in the image: no retry can make it pass.
    expect(error).toMatchObject({ name: 'InvalidOptionError', code: 'INVALID_OPTION', permanent: true });
  });

  it('is no obstacle to PNG', async () => {
    const encoded = await encode(await noisyPhoto(64, 48), 'png', { encoding: ALL_AUTO });
    expect(encoded.format).toBe('png');
  });
});

const AUTO_RECIPE: RecipeInput = {
  formats: ['jpeg', 'webp', 'avif'],
  encoding: { jpeg: { quality: 'auto' }, webp: { quality: 'auto', target: 0.95 }, avif: { quality: 44 } },
  renditions: [
    { name: 'md', width: 900 },
    { name: 'sm', width: 320 },
    { name: 'icon', width: 96, height: 96, fit: 'cover', formats: ['png', 'jpeg'] },
  ],
};

/** The pixels of a rendition as render() derives them. */
async function renditionPixels(input: Buffer, recipe: Recipe, name: string): Promise<WorkingImage> {
  const info = await probe(input);
  const decoded = await decodeForRenditions(input, info, recipe.renditions);
  const rendition = recipe.renditions.find((candidate) => candidate.name === name);
  if (!rendition) throw new Error(`no rendition ${name}`);
  return renderRendition(decoded, info, rendition);
}

/** Outputs of an auto recipe: the auto formats carry one choice each, the fixed ones none, and the smallest rendition meets the target. */
async function expectAutoOutputs(outputs: readonly RenderedOutput[], input: Buffer, recipe: Recipe, jpegRenditions = ['md', 'sm', 'icon']): Promise<void> {
  const autoFormats = new Set(['jpeg', 'webp']);
  for (const output of outputs) {
    const where = `${output.rendition}.${output.format}`;
    if (autoFormats.has(output.format)) expect(output.autoQuality, where).toMatchObject({ metric: 'ssim', met: true, quality: expect.any(Number) });
    else expect(output, where).not.toHaveProperty('autoQuality');
  }
  const byFormat = (format: string) => outputs.filter((output) => output.format === format);
  expect(byFormat('jpeg').map((output) => output.rendition)).toEqual(jpegRenditions);
  for (const format of autoFormats) {
    // One choice per image and format, shared by every rendition.
    expect(new Set(byFormat(format).map((output) => JSON.stringify(output.autoQuality))).size, format).toBe(1);
  }
  expect(byFormat('jpeg')[0]?.autoQuality?.target).toBe(AUTO_QUALITY.targets.jpeg);
  expect(byFormat('webp')[0]?.autoQuality?.target).toBe(0.95);
  // The smallest rendition (icon, 96×96) is what the search ran on: its outputs meet the target against its pixels.
  const icon = await renditionPixels(input, recipe, 'icon');
  const sm = await renditionPixels(input, recipe, 'sm');
  for (const output of outputs.filter((candidate) => candidate.autoQuality)) {
    const choice = output.autoQuality;
    if (!choice) continue;
    const encoding = { ...recipe.encoding, [output.format]: { ...recipe.encoding[output.format as AutoFormat], quality: choice.quality } };
    if (output.rendition === 'icon') {
      expect(await perceptualScore(icon, output.data), `icon.${output.format}`).toBeGreaterThanOrEqual(choice.target);
      // Encoded at the chosen quality, byte for byte.
      expect((await encode(icon, output.format, { encoding })).data.equals(output.data), `icon.${output.format}`).toBe(true);
    }
    if (output.rendition === 'sm') expect((await encode(sm, output.format, { encoding })).data.equals(output.data), `sm.${output.format}`).toBe(true);
  }
}

describe('render with auto qualities', () => {
  it('marks every output of an auto format with its choice, encodes at it, and meets the target on the smallest rendition', async () => {
    const jpeg = await photoJpeg(1200, 800, 5);
    const recipe = parseRecipe(AUTO_RECIPE);
    const { outputs } = await render(jpeg, recipe);
    expect(outputs.map((output) => `${output.rendition}.${output.format}`)).toEqual([
      'md.jpeg',
      'md.webp',
      'md.avif',
      'sm.jpeg',
      'sm.webp',
      'sm.avif',
      'icon.png',
      'icon.jpeg',
    ]);
    await expectAutoOutputs(outputs, jpeg, recipe);
  });

  it('chooses a lower JPEG quality for a flat graphic than for a grainy photo', async () => {
    const recipe = parseRecipe({ formats: ['jpeg'], encoding: { jpeg: { quality: 'auto' } }, renditions: [{ name: 'sm', width: 400 }] });
    const pngOf = (image: WorkingImage) => sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } }).png().toBuffer();
    const [flat] = (await render(await pngOf(await flatGraphic(800, 600)), recipe)).outputs;
    // At the rendition's size: a downscale would average the grain away.
    const [busy] = (await render(await pngOf(await noisyPhoto(400, 300, 8)), recipe)).outputs;
    expect(flat?.autoQuality?.quality).toBeLessThan(busy?.autoQuality?.quality ?? 0);
    expect(flat?.bytes).toBeLessThan(busy?.bytes ?? 0);
  });

  it('gives no choice to an output the original stands in for', async () => {
    const tiny = await photo({ width: 320, height: 240 }).jpeg({ quality: 20 }).toBuffer();
    const recipe = parseRecipe({ formats: ['jpeg'], encoding: { jpeg: { quality: 'auto', target: 0.99 } }, renditions: [{ name: 'sm', width: 320 }] });
    const [output] = (await render(tiny, recipe)).outputs;
    expect(output?.passthrough).toBe(true);
    expect(output).not.toHaveProperty('autoQuality');
  });
});

describe('encodeOutputs with auto qualities', () => {

  it('makes the choices render makes, from the bundles, and marks the outputs the same way', async () => {
    const jpeg = await photoJpeg(1200, 800, 5);
    const recipe = parseRecipe({
      ...AUTO_RECIPE,
      // A filtered rendition lives in the other bundle: the smallest is still the one searched.
      renditions: [...(AUTO_RECIPE.renditions ?? []), { name: 'mono', width: 600, filters: [{ type: 'grayscale' }] }],
    });
    const facts = { width: 1200, height: 800, icc: false };
    const plain = recipe.renditions.filter((rendition) => rendition.filters.length === 0);
    const filtered = recipe.renditions.filter((rendition) => rendition.filters.length > 0);
    const bundles = await Promise.all([renderBundle(jpeg, facts, plain, { recipe }), renderBundle(jpeg, facts, filtered, { recipe })]);
    const outputs = await encodeOutputs(bundles, factsOf(jpeg, 1200, 800), { recipe });
    await expectAutoOutputs(outputs, jpeg, recipe, ['md', 'sm', 'icon', 'mono']);
    const rendered = await render(jpeg, recipe);
    const choiceOf = (list: readonly RenderedOutput[], format: string) => list.find((output) => output.format === format)?.autoQuality;
    for (const format of ['jpeg', 'webp']) expect(choiceOf(outputs, format), format).toEqual(choiceOf(rendered.outputs, format));
  });

  it('gives no choice to an output the original stands in for', async () => {
    const tiny = await photo({ width: 320, height: 240 }).jpeg({ quality: 20 }).toBuffer();
    const recipe = parseRecipe({ formats: ['jpeg', 'webp'], encoding: { jpeg: { quality: 'auto', target: 0.99 }, webp: { quality: 'auto' } }, renditions: [{ name: 'sm', width: 320 }] });
    const bundles = [await renderBundle(tiny, { width: 320, height: 240, icc: false }, recipe.renditions, { recipe })];
    const outputs = await encodeOutputs(bundles, factsOf(tiny, 320, 240, { clean: true }), { recipe, original: tiny });
    const jpeg = outputs.find((output) => output.format === 'jpeg');
    expect(jpeg?.passthrough).toBe(true);
    expect(jpeg).not.toHaveProperty('autoQuality');
    // The WebP output is encoded: it keeps its choice.
    expect(outputs.find((output) => output.format === 'webp')?.autoQuality).toMatchObject({ metric: 'ssim' });
  });
});
