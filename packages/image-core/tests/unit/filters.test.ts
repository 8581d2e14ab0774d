import sharp, { type Sharp, type Stats } from 'sharp';
import { describe, expect, it } from 'vitest';
import {
  type Assets,
  type FilterInput,
  FilterSchema,
  MissingAssetError,
  RecipeError,
  type WorkingImage,
  applyFilters,
  openWorkingImage,
  parseRecipe,
} from '../../src/index.js';
import { photo, similarity } from '../fixtures.js';

async function working(pipeline: Sharp): Promise<WorkingImage> {
  const { data, info } = await pipeline.raw().toBuffer({ resolveWithObject: true });
  return { kind: 'raw', data, width: info.width, height: info.height, channels: info.channels as WorkingImage['channels'] };
}

function run(image: WorkingImage, filters: FilterInput[], assets?: Assets): Promise<WorkingImage> {
  return applyFilters(
    image,
    filters.map((filter) => FilterSchema.parse(filter)),
    assets,
  );
}

const view = (image: WorkingImage) => openWorkingImage(image);

const solid = (colour: string, width = 120, height = 90) =>
  working(sharp({ create: { width, height, channels: 3, background: colour } }));

const picture = (width = 240, height = 180, seed = 7) => working(photo({ width, height, seed }));

async function channelMeans(image: WorkingImage): Promise<number[]> {
  const { channels } = await view(image).stats();
  return channels.map((channel) => channel.mean);
}

function pixel(image: WorkingImage, x: number, y: number): number[] {
  const offset = (y * image.width + x) * image.channels;
  return [...image.data.subarray(offset, offset + image.channels)];
}

/** Bounding box of the pixels that differ between two same-sized images, or undefined if none do. */
function changedBox(a: WorkingImage, b: WorkingImage) {
  expect([b.width, b.height]).toEqual([a.width, a.height]);
  let box: { left: number; top: number; right: number; bottom: number } | undefined;
  for (let y = 0; y < a.height; y += 1) {
    for (let x = 0; x < a.width; x += 1) {
      const colourA = pixel(a, x, y).slice(0, 3);
      const colourB = pixel(b, x, y).slice(0, 3);
      const same = colourA.every((value, c) => value === colourB[c]);
      if (same) continue;
      box = box
        ? { left: Math.min(box.left, x), top: Math.min(box.top, y), right: Math.max(box.right, x), bottom: Math.max(box.bottom, y) }
        : { left: x, top: y, right: x, bottom: y };
    }
  }
  return box;
}

/** Largest difference between the colour channels of any one pixel: 0 for a perfectly grey image. */
function maxChroma(image: WorkingImage): number {
  if (image.channels < 3) return 0;
  let max = 0;
  for (let offset = 0; offset < image.data.length; offset += image.channels) {
    const [r = 0, g = 0, b = 0] = image.data.subarray(offset, offset + 3);
    max = Math.max(max, Math.abs(r - g), Math.abs(g - b), Math.abs(r - b));
  }
  return max;
}

/** Every pixel fully opaque (or no alpha channel at all). */
function opaque(image: WorkingImage): boolean {
  if (image.channels !== 2 && image.channels !== 4) return true;
  for (let offset = image.channels - 1; offset < image.data.length; offset += image.channels) {
    if (image.data[offset] !== 255) return false;
  }
  return true;
}

/** A picture whose quadrants are four distinct colours, so flips and rotations are easy to follow. */
function quadrants(width = 80, height = 60): Promise<WorkingImage> {
  const data = Buffer.alloc(width * height * 3);
  const colours = [
    [255, 0, 0],
    [0, 255, 0],
    [0, 0, 255],
    [255, 255, 0],
  ];
  for (let y = 0; y < height; y += 1) {
    for (let x = 0; x < width; x += 1) {
      const colour = colours[(y < height / 2 ? 0 : 2) + (x < width / 2 ? 0 : 1)] ?? [0, 0, 0];
      data.set(colour, (y * width + x) * 3);
    }
  }
  return Promise.resolve({ kind: 'raw', data, width, height, channels: 3 });
}

describe('grayscale', () => {
  it('makes every pixel grey', async () => {
    const input = await picture();
    expect(maxChroma(input)).toBeGreaterThan(50);
    const output = await run(input, [{ type: 'grayscale' }]);
    expect([output.width, output.height]).toEqual([input.width, input.height]);
    expect(maxChroma(output)).toBeLessThanOrEqual(1);
    // sharp's own greyscale, captured first: a greyscale() pipeline cannot be handed to similarity().
    const reference = await working(view(input).grayscale());
    expect(await similarity(view(output), view(reference))).toBeGreaterThan(0.98);
  });

  // filters.ts promises three channels, but sharp's raw output of a greyscale() pipeline is
  // band 0 only: the working image comes back with one channel.
  it('keeps three channels so later steps see the same layout', async () => {
    const output = await run(await picture(), [{ type: 'grayscale' }]);
    expect(output.channels).toBe(3);
  });

  // Same cause: the single band kept is grey, so the alpha channel is dropped and a
  // transparent image turns opaque.
  it('keeps the alpha channel of an RGBA image', async () => {
    const input = await working(photo({ width: 64, height: 48, alpha: true }));
    const output = await run(input, [{ type: 'grayscale' }]);
    expect(output.channels).toBe(4);
    expect(pixel(output, 0, 0)[3]).toBe(255);
    expect(pixel(output, 63, 0)[3]).toBe(96);
  });
});

describe('sepia', () => {
  it('warms a grey image: red above blue', async () => {
    const output = await run(await solid('#808080'), [{ type: 'sepia' }]);
    const [r = 0, g = 0, b = 0] = await channelMeans(output);
    expect(r).toBeGreaterThan(b + 30);
    expect(r).toBeGreaterThan(g);
    expect(g).toBeGreaterThan(b);
  });

  it('at intensity 0 leaves the image as it was', async () => {
    const input = await picture();
    const output = await run(input, [{ type: 'sepia', intensity: 0 }]);
    expect(await similarity(view(output), view(input))).toBeGreaterThan(0.99);
  });

  it('half intensity is between none and full', async () => {
    const input = await solid('#808080');
    const [half] = await Promise.all([run(input, [{ type: 'sepia', intensity: 0.5 }])]);
    const full = await run(input, [{ type: 'sepia', intensity: 1 }]);
    const [rHalf = 0, , bHalf = 0] = await channelMeans(half);
    const [rFull = 0, , bFull = 0] = await channelMeans(full);
    expect(rHalf - bHalf).toBeGreaterThan(5);
    expect(rHalf - bHalf).toBeLessThan(rFull - bFull);
  });
});

describe('blur', () => {
  it('removes fine detail, like sharp blur with the same sigma', async () => {
    const input = await picture();
    const output = await run(input, [{ type: 'blur', sigma: 3 }]);
    const [before, after] = await Promise.all([view(input).stats(), view(output).stats()]);
    expect(after.sharpness).toBeLessThan(before.sharpness / 2);
    expect(await similarity(view(output), view(input))).toBeLessThan(0.9);
    expect(await similarity(view(output), view(input).blur(3))).toBeGreaterThan(0.98);
  });

  it('defaults to sigma 2', async () => {
    expect(FilterSchema.parse({ type: 'blur' })).toEqual({ type: 'blur', sigma: 2 });
  });
});

describe('sharpen', () => {
  it('adds edge contrast, like sharp sharpen with the same sigma', async () => {
    const input = await working(photo({ width: 240, height: 180, seed: 7 }).blur(2));
    const output = await run(input, [{ type: 'sharpen', sigma: 1.5 }]);
    const [before, after] = await Promise.all([view(input).stats(), view(output).stats()]);
    expect(after.sharpness).toBeGreaterThan(before.sharpness);
    expect(await similarity(view(output), view(input).sharpen({ sigma: 1.5 }))).toBeGreaterThan(0.98);
  });
});

describe('modulate', () => {
  it('brightness 2 makes the image brighter', async () => {
    const input = await solid('#404040');
    const output = await run(input, [{ type: 'modulate', brightness: 2 }]);
    const [before = 0] = await channelMeans(input);
    const [after = 0] = await channelMeans(output);
    expect(after).toBeGreaterThan(before + 30);
  });

  it('saturation 0 makes the image grey', async () => {
    const output = await run(await picture(), [{ type: 'modulate', saturation: 0 }]);
    expect(maxChroma(output)).toBeLessThanOrEqual(2);
  });

  it('hue 180 rotates red towards cyan', async () => {
    const output = await run(await solid('#c03020'), [{ type: 'modulate', hue: 180 }]);
    const [r = 0, g = 0, b = 0] = await channelMeans(output);
    expect(r).toBeLessThan(g);
    expect(r).toBeLessThan(b);
  });

  it('defaults leave the image as it was', async () => {
    const input = await picture();
    const output = await run(input, [{ type: 'modulate' }]);
    expect(await similarity(view(output), view(input))).toBeGreaterThan(0.99);
  });
});

describe('tint', () => {
  it('colours a grey image with the tint', async () => {
    const output = await run(await solid('#808080'), [{ type: 'tint', color: '#ff0000' }]);
    const [r = 0, g = 0, b = 0] = await channelMeans(output);
    expect(r).toBeGreaterThan(g + 30);
    expect(r).toBeGreaterThan(b + 30);
  });
});

describe('gamma', () => {
  it('accepts values from 1 to 3, defaulting to 2.2', () => {
    expect(FilterSchema.parse({ type: 'gamma' })).toEqual({ type: 'gamma', value: 2.2 });
    expect(() => FilterSchema.parse({ type: 'gamma', value: 0.5 })).toThrow();
  });

  // sharp's gamma() darkens before a resize and brightens after it by the same factor; with no
  // resize in between the two cancel, so the filter does not change the image at all.
  it('changes the mid-tones (gamma 3 differs from gamma 1)', async () => {
    const input = await solid('#808080');
    const [one, three] = await Promise.all([run(input, [{ type: 'gamma', value: 1 }]), run(input, [{ type: 'gamma', value: 3 }])]);
    const [meanOne = 0] = await channelMeans(one);
    const [meanThree = 0] = await channelMeans(three);
    expect(Math.abs(meanThree - meanOne)).toBeGreaterThan(10);
  });
});

describe('normalize', () => {
  it("stretches a low-contrast image's range to the full scale", async () => {
    const input = await working(photo({ width: 200, height: 150, seed: 3 }).linear(0.2, 100));
    const before = await view(input).stats();
    expect(before.channels[0]?.max ?? 0).toBeLessThan(160);
    expect(before.channels[0]?.min ?? 0).toBeGreaterThan(90);
    const after = await view(await run(input, [{ type: 'normalize' }])).stats();
    const range = (stats: Stats) => (stats.channels[0]?.max ?? 0) - (stats.channels[0]?.min ?? 0);
    expect(range(after)).toBeGreaterThan(200);
  });
});

describe('negate', () => {
  it('inverts every colour channel', async () => {
    const input = await picture();
    const output = await run(input, [{ type: 'negate' }]);
    const before = await channelMeans(input);
    const after = await channelMeans(output);
    for (const [index, mean] of before.entries()) expect(after[index]).toBeCloseTo(255 - mean, 0);
    expect(pixel(output, 10, 10)).toEqual(pixel(input, 10, 10).map((value) => 255 - value));
  });

  it('leaves alpha alone', async () => {
    const input = await working(photo({ width: 64, height: 48, alpha: true }));
    const output = await run(input, [{ type: 'negate' }]);
    expect(pixel(output, 63, 47)[3]).toBe(96);
    expect(pixel(output, 0, 47)[3]).toBe(255);
  });
});

describe('median', () => {
  it('removes isolated specks', async () => {
    const input = await solid('#808080', 60, 60);
    for (const [x, y] of [
      [10, 10],
      [30, 40],
      [50, 20],
    ] as const) {
      input.data.fill(255, (y * 60 + x) * 3, (y * 60 + x) * 3 + 3);
    }
    const output = await run(input, [{ type: 'median' }]);
    const stats = await view(output).stats();
    expect(stats.channels[0]?.max).toBe(128);
    expect(stats.channels[0]?.min).toBe(128);
  });
});

describe('rotate', () => {
  it('by 90 swaps width and height and turns the picture clockwise', async () => {
    const input = await quadrants();
    const output = await run(input, [{ type: 'rotate', angle: 90 }]);
    expect([output.width, output.height]).toEqual([60, 80]);
    // The bottom-left quadrant (blue) ends up top-left after a clockwise quarter turn.
    expect(pixel(output, 2, 2)).toEqual([0, 0, 255]);
    expect(await similarity(view(output), view(input).rotate(90))).toBeGreaterThan(0.99);
  });

  it('by 45 fills the corners with the background', async () => {
    const output = await run(await quadrants(), [{ type: 'rotate', angle: 45, background: '#00ff00' }]);
    expect(output.width).toBeGreaterThan(80);
    expect(pixel(output, 0, 0)).toEqual([0, 255, 0]);
  });
});

describe('flip and flop', () => {
  it('flip mirrors top to bottom', async () => {
    const input = await quadrants();
    expect(pixel(input, 0, 0)).toEqual([255, 0, 0]);
    const output = await run(input, [{ type: 'flip' }]);
    expect(pixel(output, 0, 0)).toEqual([0, 0, 255]);
    expect(pixel(output, 0, 59)).toEqual([255, 0, 0]);
  });

  it('flop mirrors left to right', async () => {
    const output = await run(await quadrants(), [{ type: 'flop' }]);
    expect(pixel(output, 0, 0)).toEqual([0, 255, 0]);
    expect(pixel(output, 79, 0)).toEqual([255, 0, 0]);
  });
});

describe('filter order', () => {
  it('applies filters in the order given', async () => {
    const input = await picture(200, 120);
    const [rotateThenFlop, flopThenRotate] = await Promise.all([
      run(input, [{ type: 'rotate', angle: 90 }, { type: 'flop' }]),
      run(input, [{ type: 'flop' }, { type: 'rotate', angle: 90 }]),
    ]);
    expect(await similarity(view(rotateThenFlop), view(flopThenRotate))).toBeLessThan(0.8);
    // References built one step at a time, each step its own sharp pipeline.
    const rotated = await working(view(input).rotate(90));
    const flopped = await working(view(input).flop());
    const [rotatedFlopped, floppedRotated] = await Promise.all([working(view(rotated).flop()), working(view(flopped).rotate(90))]);
    expect(await similarity(view(rotateThenFlop), view(rotatedFlopped))).toBeGreaterThan(0.99);
    expect(await similarity(view(flopThenRotate), view(floppedRotated))).toBeGreaterThan(0.99);
  });

  it('no filters returns the image unchanged', async () => {
    const input = await picture();
    expect(await applyFilters(input, [])).toBe(input);
  });
});

describe('text watermark', () => {
  const grey = () => solid('#404040', 400, 300);

  it('draws in the requested corner and nowhere near the opposite one', async () => {
    const input = await grey();
    const output = await run(input, [{ type: 'text', text: 'imgflow ©', position: 'southeast', opacity: 1, size: 0.1 }]);
    expect(opaque(output)).toBe(true);
    const box = changedBox(input, output);
    expect(box).toBeDefined();
    expect(box?.left).toBeGreaterThan(200);
    expect(box?.top).toBeGreaterThan(150);
    const [r = 0] = await channelMeans(output);
    expect(r).toBeGreaterThan(0x40);
  });

  it('northwest draws top-left', async () => {
    const input = await grey();
    const output = await run(input, [{ type: 'text', text: 'imgflow', position: 'northwest', opacity: 1, size: 0.1 }]);
    const box = changedBox(input, output);
    expect(box).toBeDefined();
    expect(box?.right).toBeLessThan(200);
    expect(box?.bottom).toBeLessThan(150);
  });

  it('opacity 0 changes nothing', async () => {
    const input = await grey();
    const output = await run(input, [{ type: 'text', text: 'imgflow', opacity: 0, size: 0.2 }]);
    expect(changedBox(input, output)).toBeUndefined();
  });

  it('escapes markup in the text instead of breaking the SVG', async () => {
    const input = await grey();
    const output = await run(input, [{ type: 'text', text: '<b>&"\'</b>', opacity: 1, size: 0.1 }]);
    expect(changedBox(input, output)).toBeDefined();
  });
});

describe('image watermark', () => {
  const logo = () => sharp({ create: { width: 100, height: 100, channels: 3, background: '#ff0000' } }).png().toBuffer();

  it('places the asset at the requested corner, scaled and with the margin', async () => {
    const input = await solid('#404040', 400, 300);
    const assets = new Map([['logo', await logo()]]);
    const output = await run(input, [{ type: 'watermark', image: 'logo', position: 'northwest', opacity: 0.5 }], assets);
    // scale 0.2 of 400 px → 80 px; margin 0.02 of the shorter side (300) → 6 px.
    expect(changedBox(input, output)).toEqual({ left: 6, top: 6, right: 85, bottom: 85 });
    expect(opaque(output)).toBe(true);
    const [r = 0, g = 0] = pixel(output, 40, 40);
    expect(r).toBeGreaterThan(g + 60);
    expect(pixel(output, 390, 290).slice(0, 3)).toEqual([0x40, 0x40, 0x40]);
  });

  it('southeast places it bottom-right', async () => {
    const input = await solid('#404040', 400, 300);
    const assets = new Map([['logo', await logo()]]);
    const output = await run(input, [{ type: 'watermark', image: 'logo' }], assets);
    expect(changedBox(input, output)).toEqual({ left: 314, top: 214, right: 393, bottom: 293 });
  });

  it('opacity 0 changes nothing', async () => {
    const input = await solid('#404040', 400, 300);
    const assets = new Map([['logo', await logo()]]);
    const output = await run(input, [{ type: 'watermark', image: 'logo', opacity: 0 }], assets);
    expect(changedBox(input, output)).toBeUndefined();
  });

  it('a missing asset throws MissingAssetError naming it', async () => {
    const input = await solid('#404040');
    const error = await run(input, [{ type: 'watermark', image: 'brand/logo.png' }], new Map()).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(MissingAssetError);
    expect(error).toMatchObject({ code: 'MISSING_ASSET', name: 'MissingAssetError', permanent: true });
    expect((error as Error).message).toBe('The watermark image "brand/logo.png" was not supplied');
  });
});

describe('invalid filters in a recipe', () => {
  const recipeWith = (filter: unknown) => ({ renditions: [{ name: 'sm', width: 100, filters: [filter] }] });
  const thrown = (fn: () => unknown): unknown => {
    try {
      fn();
    } catch (caught) {
      return caught;
    }
    throw new Error('expected a throw');
  };

  it('parses defaults for filters given in a recipe', () => {
    const recipe = parseRecipe(recipeWith({ type: 'sepia' }));
    expect(recipe.renditions[0]?.filters).toEqual([{ type: 'sepia', intensity: 1 }]);
  });

  it('an out-of-range value names the field in the house message shape', () => {
    const error = thrown(() => parseRecipe(recipeWith({ type: 'blur', sigma: 1000 })));
    expect(error).toBeInstanceOf(RecipeError);
    expect(error).toMatchObject({ name: 'RecipeError', code: 'INVALID_RECIPE' });
    expect((error as Error).message).toBe(
      'Expected a number <= 100 for recipe.renditions[0].filters[0].sigma but received 1000 of type number',
    );
  });

  it('a value below the minimum names the field too', () => {
    expect((thrown(() => parseRecipe(recipeWith({ type: 'median', size: 0 }))) as Error).message).toBe(
      'Expected a number >= 1 for recipe.renditions[0].filters[0].size but received 0 of type number',
    );
  });

  it('an unknown filter type is a RecipeError listing the known types', () => {
    const error = thrown(() => parseRecipe(recipeWith({ type: 'posterize' })));
    expect(error).toBeInstanceOf(RecipeError);
    expect(error).toMatchObject({ code: 'INVALID_RECIPE' });
    expect((error as Error).message).toMatch(/^Expected one of "grayscale", "sepia", .*"watermark" for recipe\.renditions\[0\]\.filters\[0\]\.type but received /);
  });

  // The message names the field `.type` but shows the whole filter object as the value received
  // (zod reports the union's input): `received {"type":"posterize"} of type object`.
  it('an unknown filter type reports the type it received', () => {
    const error = thrown(() => parseRecipe(recipeWith({ type: 'posterize' })));
    expect((error as Error).message).toMatch(/ for recipe\.renditions\[0\]\.filters\[0\]\.type but received "posterize" of type string$/);
  });

  it('an unknown property on a filter is refused', () => {
    expect(() => parseRecipe(recipeWith({ type: 'blur', radius: 3 }))).toThrow(
      'Expected only known properties (unknown: radius) for recipe.renditions[0].filters[0] but received an object with "radius"',
    );
  });
});
