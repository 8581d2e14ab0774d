import { describe, expect, it } from 'vitest';
import { DEFAULT_RECIPE, RecipeError, formatsFor, parseRecipe, parseRecipeJson, recipeFingerprint, renditionFingerprint } from '../../src/index.js';

function messageOf(input: unknown): string {
  try {
    parseRecipe(input);
  } catch (error) {
    expect(error).toBeInstanceOf(RecipeError);
    expect(error).toMatchObject({ code: 'INVALID_RECIPE', permanent: true, name: 'RecipeError' });
    return (error as Error).message;
  }
  throw new Error('expected the recipe to be rejected');
}

describe('recipe', () => {
  it('ships a default: 320/1024/2048 wide in AVIF, WebP and JPEG', () => {
    expect(DEFAULT_RECIPE.renditions.map((rendition) => [rendition.name, rendition.width, rendition.fit])).toEqual([
      ['sm', 320, 'inside'],
      ['md', 1024, 'inside'],
      ['lg', 2048, 'inside'],
    ]);
    expect(DEFAULT_RECIPE.formats).toEqual(['avif', 'webp', 'jpeg']);
    expect(DEFAULT_RECIPE.encoding.avif).toEqual({ quality: 50, effort: 2, chromaSubsampling: '4:2:0' });
    expect(DEFAULT_RECIPE.metadata.keep).toEqual([]);
    expect(DEFAULT_RECIPE.animation).toBe('first-frame');
  });

  it('fills defaults for renditions and filters', () => {
    const recipe = parseRecipe({
      renditions: [{ name: 'thumb', width: 200, height: 200, fit: 'cover', filters: [{ type: 'blur' }, { type: 'text', text: '© ACME' }] }],
    });
    const [thumb] = recipe.renditions;
    expect(thumb).toMatchObject({ position: 'centre', enlarge: false, background: '#ffffff' });
    expect(thumb?.filters).toEqual([
      { type: 'blur', sigma: 2 },
      { type: 'text', text: '© ACME', position: 'southeast', opacity: 0.6, size: 0.05, color: '#ffffff', font: 'sans-serif' },
    ]);
    expect(thumb && formatsFor(recipe, thumb)).toEqual(['avif', 'webp', 'jpeg']);
  });

  it('lets a rendition override the formats', () => {
    const recipe = parseRecipe({ renditions: [{ name: 'og', width: 1200, height: 630, fit: 'cover', formats: ['jpeg'] }] });
    expect(recipe.renditions[0] && formatsFor(recipe, recipe.renditions[0])).toEqual(['jpeg']);
  });

  it.each([
    [{}, 'Expected a value of type array for recipe.renditions but received undefined of type undefined'],
    [{ renditions: [] }, 'Expected at least 1 item(s) for recipe.renditions but received [] of type array'],
    [{ renditions: [{ name: 'a', width: 0 }] }, 'Expected a number >= 1 for recipe.renditions[0].width but received 0 of type number'],
    [{ renditions: [{ name: 'a', width: 10.5 }] }, 'Expected an integer for recipe.renditions[0].width but received 10.5 of type number'],
    [{ renditions: [{ name: 'a', width: '100' }] }, 'Expected a value of type number for recipe.renditions[0].width but received "100" of type string'],
    [
      { renditions: [{ name: 'a', width: 10, fit: 'zoom' }] },
      'Expected one of "cover", "contain", "inside", "outside", "fill" for recipe.renditions[0].fit but received "zoom" of type string',
    ],
    [
      { renditions: [{ name: '../etc', width: 10 }] },
      'Expected a string matching /^[a-z0-9][a-z0-9_-]{0,39}$/ for recipe.renditions[0].name but received "../etc" of type string',
    ],
    [{ renditions: [{ name: 'a' }] }, 'Expected a width, a height or both for recipe.renditions[0]'],
    [
      { renditions: [{ name: 'a', width: 1 }], formats: ['gif'] },
      'Expected one of "avif", "webp", "jpeg", "png" for recipe.formats[0] but received "gif" of type string',
    ],
    [
      { renditions: [{ name: 'a', width: 1, filters: [{ type: 'vignette' }] }] },
      'Expected one of "grayscale", "sepia", "blur", "sharpen", "modulate", "tint", "gamma", "normalize", "negate", "median", "rotate", "flip", "flop", "text", "watermark" for recipe.renditions[0].filters[0].type but received "vignette" of type string',
    ],
    [
      { renditions: [{ name: 'a', width: 1, filters: [{ type: 'blur', sigma: 1000 }] }] },
      'Expected a number <= 100 for recipe.renditions[0].filters[0].sigma but received 1000 of type number',
    ],
    [
      { renditions: [{ name: 'a', width: 1, filters: [{ type: 'tint', color: 'red' }] }] },
      'Expected a string matching /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$/ for recipe.renditions[0].filters[0].color but received "red" of type string',
    ],
    [{ renditions: [{ name: 'a', width: 1 }], encoding: { avif: { effort: 12 } } }, 'Expected a number <= 9 for recipe.encoding.avif.effort but received 12 of type number'],
    [{ renditions: [{ name: 'a', width: 1 }], colour: 'x' }, 'Expected only known properties (unknown: colour) for recipe but received an object with "colour"'],
    [
      { renditions: [{ name: 'a', width: 1 }, { name: 'a', width: 2 }] },
      'Expected a unique name but received "a" twice for recipe.renditions[1].name',
    ],
    [{ renditions: [{ name: 'a', width: 1 }], formats: ['jpeg', 'jpeg'] }, 'Expected each format once for recipe.formats'],
    [
      { renditions: [{ name: 'a', width: 1 }], metadata: { keep: ['gps'] } },
      'Expected one of "copyright", "icc" for recipe.metadata.keep[0] but received "gps" of type string',
    ],
  ])('rejects %j with a message naming the field', (input, message) => {
    expect(messageOf(input)).toBe(message);
  });

  it('keeps every issue in details, not only the first', () => {
    try {
      parseRecipe({ renditions: [{ name: 'A', width: -1 }] });
      expect.unreachable();
    } catch (error) {
      expect((error as RecipeError).details.issues).toHaveLength(2);
    }
  });

  it('parses JSON text and reports a syntax error as a RecipeError', () => {
    expect(parseRecipeJson('{"renditions":[{"name":"a","width":5}]}').renditions).toHaveLength(1);
    expect(() => parseRecipeJson('{"renditions": [')).toThrow(RecipeError);
    expect(() => parseRecipeJson('{"renditions": [')).toThrow(/^The recipe is not valid JSON: /);
  });

  it('fingerprints the normalised recipe: same outputs, same fingerprint', () => {
    const a = parseRecipe({ renditions: [{ name: 'a', width: 5 }] });
    const b = parseRecipe({ formats: ['avif', 'webp', 'jpeg'], renditions: [{ width: 5, name: 'a', fit: 'inside' }] });
    const c = parseRecipe({ renditions: [{ name: 'a', width: 6 }] });
    expect(recipeFingerprint(a)).toBe(recipeFingerprint(b));
    expect(recipeFingerprint(a)).not.toBe(recipeFingerprint(c));
    expect(recipeFingerprint(a)).toMatch(/^[0-9a-f]{16}$/);
  });

  describe('renditionFingerprint', () => {
    const base = {
      renditions: [
        { name: 'sm', width: 320 },
        { name: 'md', width: 1024 },
        { name: 'icon', width: 64, height: 64, fit: 'cover' as const, formats: ['png' as const] },
      ],
      formats: ['avif' as const, 'webp' as const, 'jpeg' as const],
    };
    const prints = (input: Parameters<typeof parseRecipe>[0]) => {
      const recipe = parseRecipe(input);
      return Object.fromEntries(recipe.renditions.map((rendition) => [rendition.name, renditionFingerprint(recipe, rendition)]));
    };

    it('is a short hex hash, distinct for different renditions, and ignores the rendition name', () => {
      const before = prints(base);
      expect(before.sm).toMatch(/^[0-9a-f]{16}$/);
      expect(new Set(Object.values(before)).size).toBe(3);
      const renamed = prints({ ...base, renditions: [{ name: 'small', width: 320 }] });
      expect(renamed.small).toBe(before.sm);
    });

    it("changes with a rendition's geometry for that rendition only", () => {
      const before = prints(base);
      const after = prints({ ...base, renditions: [{ name: 'sm', width: 360 }, ...base.renditions.slice(1)] });
      expect(after.sm).not.toBe(before.sm);
      expect(after.md).toBe(before.md);
      expect(after.icon).toBe(before.icon);
    });

    it('changes with the encoding of a format only for the renditions written in it', () => {
      const before = prints(base);
      const after = prints({ ...base, encoding: { webp: { quality: 70 } } });
      expect(after.sm).not.toBe(before.sm);
      expect(after.md).not.toBe(before.md);
      expect(after.icon).toBe(before.icon);
      // PNG settings: only the PNG rendition.
      const png = prints({ ...base, encoding: { png: { compressionLevel: 6 } } });
      expect([png.sm, png.md]).toEqual([before.sm, before.md]);
      expect(png.icon).not.toBe(before.icon);
    });

    it('changes with the formats, metadata and version; animation only where a format can animate; not with the placeholder', () => {
      const before = prints(base);
      expect(prints({ ...base, formats: ['avif', 'jpeg'] }).sm).not.toBe(before.sm);
      expect(prints({ ...base, metadata: { keep: ['icc'] } }).icon).not.toBe(before.icon);
      expect(prints({ ...base, version: '2' }).icon).not.toBe(before.icon);
      const animated = prints({ ...base, animation: 'animate' });
      expect(animated.sm).not.toBe(before.sm);
      expect(animated.icon).toBe(before.icon);
      expect(prints({ ...base, placeholder: 'blurhash' })).toEqual(before);
      // Adding a rendition leaves the others alone.
      expect(prints({ ...base, renditions: [...base.renditions, { name: 'xl', width: 4096 }] })).toMatchObject(before);
    });

    it('does not depend on key order or on spelling out defaults', () => {
      const a = prints(base);
      const b = prints({
        formats: ['avif', 'webp', 'jpeg'],
        encoding: { webp: { lossless: false, effort: 4, quality: 80 } },
        renditions: [
          { width: 320, fit: 'inside', name: 'sm', filters: [] },
          { enlarge: false, name: 'md', width: 1024 },
          { formats: ['png'], fit: 'cover', height: 64, width: 64, name: 'icon' },
        ],
      });
      expect(b).toEqual(a);
      const recipe = parseRecipe(base);
      const [sm] = recipe.renditions;
      if (!sm) throw new Error('no rendition');
      const reordered = Object.fromEntries(Object.entries(sm).reverse()) as typeof sm;
      expect(renditionFingerprint(recipe, reordered)).toBe(a.sm);
      // A format override equal to the recipe's formats is the same definition.
      expect(prints({ ...base, renditions: [{ name: 'sm', width: 320, formats: ['avif', 'webp', 'jpeg'] }] }).sm).toBe(a.sm);
    });
  });
});
