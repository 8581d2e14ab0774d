import { type RecipeInput, parseRecipe, renditionFingerprint } from '@imgflow/image-core';
import { describe, expect, it } from 'vitest';
import { type OutputRecord, planRerender, rendersRendition } from '../../src/index.js';

const BEFORE: RecipeInput = { renditions: [{ name: 'sm', width: 320 }, { name: 'md', width: 1024 }, { name: 'old', width: 100 }], formats: ['webp', 'jpeg'] };

function outputsOf(input: RecipeInput): OutputRecord[] {
  const recipe = parseRecipe(input);
  return recipe.renditions.flatMap((rendition) =>
    (rendition.formats ?? recipe.formats).map((format) => ({
      rendition: rendition.name,
      format,
      key: `renditions/cat/${rendition.name}.${format}`,
      width: rendition.width ?? 0,
      height: 10,
      bytes: 100,
      fingerprint: renditionFingerprint(recipe, rendition),
    })),
  );
}

describe('planRerender', () => {
  it('renders only new and changed renditions, keeps the unchanged, and names the removed and the superseded', () => {
    const after = parseRecipe({ ...BEFORE, renditions: [{ name: 'sm', width: 320 }, { name: 'md', width: 1200 }, { name: 'xl', width: 3000 }] });
    const plan = planRerender({ recipe: 'before', outputs: outputsOf(BEFORE) }, after);
    expect(plan.from).toBe('before');
    expect(plan.renditions).toEqual(['md', 'xl']);
    expect(plan.kept.map((output) => output.key)).toEqual(['renditions/cat/sm.webp', 'renditions/cat/sm.jpeg']);
    expect(plan.superseded.map((output) => output.key)).toEqual(['renditions/cat/md.webp', 'renditions/cat/md.jpeg']);
    expect(plan.removed.map((output) => output.key)).toEqual(['renditions/cat/old.webp', 'renditions/cat/old.jpeg']);
    expect(rendersRendition({ rerender: plan }, 'sm')).toBe(false);
    expect(rendersRendition({ rerender: plan }, 'xl')).toBe(true);
    expect(rendersRendition({}, 'sm')).toBe(true);
  });

  it('adding a format re-renders every rendition written in it; a change of one format quality only those written in it', () => {
    const withAvif = parseRecipe({ ...BEFORE, formats: ['webp', 'jpeg', 'avif'] });
    expect(planRerender({ recipe: 'before', outputs: outputsOf(BEFORE) }, withAvif).renditions).toEqual(['sm', 'md', 'old']);
    const onlySmInPng = { ...BEFORE, renditions: [{ name: 'sm', width: 320, formats: ['png' as const] }, { name: 'md', width: 1024 }] };
    const pngQuality = parseRecipe({ ...onlySmInPng, encoding: { png: { quality: 50 } } });
    expect(planRerender({ recipe: 'before', outputs: outputsOf(onlySmInPng) }, pngQuality).renditions).toEqual(['sm']);
  });

  it('counts outputs recorded before fingerprints existed as changed, and an unchanged recipe as nothing to render', () => {
    const legacy = outputsOf(BEFORE).map(({ fingerprint: _fingerprint, ...output }) => output);
    expect(planRerender({ recipe: 'before', outputs: legacy }, parseRecipe(BEFORE)).renditions).toEqual(['sm', 'md', 'old']);
    const same = planRerender({ recipe: 'before', outputs: outputsOf(BEFORE) }, parseRecipe(BEFORE));
    expect(same.renditions).toEqual([]);
    expect(same.kept).toHaveLength(6);
  });
});
