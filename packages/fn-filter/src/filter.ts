import { type Assets, MissingAssetError } from '@imgflow/image-core';
import {
  type IntermediateResult,
  type Job,
  SourceMissingError,
  type StepDeps,
  type StepHandler,
  defineStep,
} from '@imgflow/pipeline';
import { renderIntermediates } from '@imgflow/pipeline/intermediates';

export interface FilterInput {
  job: Job;
}

/** Watermark images named by the recipe, read from the assets prefix once per container. */
const assetCache = new Map<string, Buffer>();

async function loadAssets(deps: StepDeps): Promise<Assets> {
  const { config, storage } = deps;
  const names = new Set(
    config.recipe.renditions.flatMap((rendition) => rendition.filters.flatMap((filter) => (filter.type === 'watermark' ? [filter.image] : []))),
  );
  for (const name of names) {
    const cacheKey = `${config.outputBucket}/${config.assetsPrefix}${name}`;
    if (assetCache.has(cacheKey)) continue;
    try {
      assetCache.set(cacheKey, await storage.get({ bucket: config.outputBucket, key: `${config.assetsPrefix}${name}` }));
    } catch (error) {
      if (error instanceof SourceMissingError) {
        throw new MissingAssetError(`The watermark "${name}" is not at s3://${config.outputBucket}/${config.assetsPrefix}${name}`, { cause: error });
      }
      throw error;
    }
  }
  return new Map([...names].map((name) => [name, assetCache.get(`${config.outputBucket}/${config.assetsPrefix}${name}`) as Buffer]));
}

/**
 * ApplyFilters: the recipe's renditions that have filters, each resized then filtered in
 * order, stored as one bundle. With no such renditions it returns at once: no S3 request.
 */
export async function filter(input: FilterInput, deps: StepDeps): Promise<IntermediateResult> {
  const { recipe } = deps.config;
  const renditions = recipe.renditions.filter((rendition) => rendition.filters.length > 0);
  // The placeholder comes from whichever branch decodes: this one only when every rendition has filters.
  const withPlaceholder = renditions.length === recipe.renditions.length;
  return renderIntermediates('filter', input.job, renditions, deps, { withPlaceholder, recipe, assets: () => loadAssets(deps) });
}

export function createFilterHandler(getDeps: () => StepDeps): StepHandler<FilterInput, IntermediateResult> {
  return defineStep('ApplyFilters', getDeps, filter);
}
