import type { Recipe } from '@imgflow/image-core';
import { SharpDecodeCounter } from '../counters.js';
import { FloorVariant } from './floor.js';
import { ImgflowVariant } from './imgflow.js';
import { NaiveVariant } from './naive.js';
import type { Variant, VariantName } from './types.js';

export type InProcessVariant = Exclude<VariantName, 'imagemagick'>;

/** A variant running in this process (the tests; the worker process of `make bench`). */
export async function createVariant(name: InProcessVariant, recipe: Recipe): Promise<Variant> {
  const decodes = SharpDecodeCounter.install();
  switch (name) {
    case 'floor':
      return new FloorVariant(recipe, decodes);
    case 'imgflow':
      return ImgflowVariant.start(recipe, decodes);
    case 'naive':
      // The naive code counts its own decodes where it makes them.
      return NaiveVariant.start(recipe);
  }
}
