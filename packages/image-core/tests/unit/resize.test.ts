import { describe, expect, it } from 'vitest';
import { parseRecipe, renditionSize, requiredScale, sharedDecodeSize, type Rendition } from '../../src/index.js';

function rendition(input: Record<string, unknown>): Rendition {
  const [parsed] = parseRecipe({ renditions: [{ name: 'r', ...input }] }).renditions;
  if (!parsed) throw new Error('no rendition');
  return parsed;
}

const landscape = { width: 4000, height: 3000 };

describe('resize geometry', () => {
  it.each([
    [{ width: 320 }, { width: 320, height: 240 }],
    [{ height: 300 }, { width: 400, height: 300 }],
    [{ width: 500, height: 500, fit: 'inside' }, { width: 500, height: 375 }],
    [{ width: 500, height: 500, fit: 'outside' }, { width: 667, height: 500 }],
    [{ width: 500, height: 500, fit: 'cover' }, { width: 500, height: 500 }],
    [{ width: 500, height: 500, fit: 'contain' }, { width: 500, height: 500 }],
    [{ width: 500, height: 100, fit: 'fill' }, { width: 500, height: 100 }],
    [{ width: 8000 }, { width: 4000, height: 3000 }],
    [{ width: 8000, enlarge: true }, { width: 8000, height: 6000 }],
    [{ width: 5000, height: 5000, fit: 'cover' }, { width: 4000, height: 3000 }],
    [{ width: 5000, height: 2000, fit: 'cover' }, { width: 4000, height: 2000 }],
    [{ width: 5000, height: 5000, fit: 'contain' }, { width: 4000, height: 3000 }],
  ])('%j of a 4000×3000 original is %j', (input, expected) => {
    expect(renditionSize(landscape, rendition(input))).toEqual(expected);
  });

  it('needs the larger axis scale for cover and the smaller for inside', () => {
    expect(requiredScale(landscape, rendition({ width: 300, height: 300, fit: 'cover' }))).toBeCloseTo(0.1);
    expect(requiredScale(landscape, rendition({ width: 300, height: 300, fit: 'inside' }))).toBeCloseTo(0.075);
  });

  it('decodes once at the size the largest rendition needs, never below it', () => {
    const renditions = [rendition({ width: 320 }), rendition({ width: 2048 }), rendition({ width: 300, height: 300, fit: 'cover' })];
    const shared = sharedDecodeSize(landscape, renditions);
    expect(shared).toEqual({ width: 2048, height: 1536 });
    for (const each of renditions) {
      const target = renditionSize(landscape, each);
      expect(shared.width).toBeGreaterThanOrEqual(Math.min(target.width, landscape.width));
      expect(shared.height).toBeGreaterThanOrEqual(Math.min(target.height, landscape.height));
    }
  });

  it('decodes the largest rendition at exactly its size, so it needs no second resize', () => {
    for (const source of [{ width: 3001, height: 1999 }, { width: 258, height: 222 }, { width: 4000, height: 2999 }]) {
      for (const width of [129, 256, 1000]) {
        const largest = rendition({ width });
        expect(sharedDecodeSize(source, [rendition({ width: 64 }), largest])).toEqual(renditionSize(source, largest));
      }
    }
  });

  it('keeps the original size when any rendition needs it', () => {
    expect(sharedDecodeSize(landscape, [rendition({ width: 320 }), rendition({ width: 6000, enlarge: true })])).toEqual(landscape);
  });
});
