import { type Assets, MissingAssetError, assetNames, renderBundle } from '@imgflow/image-core';
import {
  type IntermediateResult,
  type Job,
  SourceMissingError,
  type StepDeps,
  type StepHandler,
  defineStep,
  elapsed,
  rendersRendition,
} from '@imgflow/pipeline';
import { storeIntermediate } from '@imgflow/pipeline/intermediates';
import { performance } from 'node:perf_hooks';

export interface FilterInput {
  job: Job;
}

/** Watermark images named by the recipe, read from the assets prefix once per container. */
const assetCache = new Map<string, Buffer>();

async function loadAssets(names: readonly string[], deps: StepDeps): Promise<Assets> {
  const { config, storage } = deps;
  const assets = new Map<string, Buffer>();
  for (const name of names) {
    const location = { bucket: config.outputBucket, key: `${config.assetsPrefix}${name}` };
    const cacheKey = `${location.bucket}/${location.key}`;
    let asset = assetCache.get(cacheKey);
    if (!asset) {
      try {
        asset = await storage.get(location);
      } catch (error) {
        if (error instanceof SourceMissingError) {
          throw new MissingAssetError(`The watermark "${name}" is not at s3://${location.bucket}/${location.key}`, { cause: error });
        }
        throw error;
      }
      assetCache.set(cacheKey, asset);
    }
    assets.set(name, asset);
  }
  return assets;
}

/**
 * ApplyFilters: the recipe's renditions that have filters, each resized then filtered in
 * order, stored as one bundle. With no such renditions it returns at once: no S3 request.
 */
export async function filter(input: FilterInput, deps: StepDeps): Promise<IntermediateResult> {
  const started = performance.now();
  const { job } = input;
  const { config, storage } = deps;
  const { recipe, limits } = config;
  // In a re-render, only the new and changed renditions (see planRerender).
  const renditions = recipe.renditions.filter((rendition) => rendition.filters.length > 0 && rendersRendition(job, rendition.name));
  if (renditions.length === 0) return { step: 'filter', renditions: [], aliases: {}, millis: elapsed(started) };
  const assets = await loadAssets(assetNames(renditions), deps);
  // The placeholder comes from whichever branch decodes: this one only when ResizeImage renders nothing.
  const placeholder = !recipe.renditions.some((rendition) => rendition.filters.length === 0 && rendersRendition(job, rendition.name));
  const rendered = await renderBundle(await storage.get(job.source, job.source.etag), job, renditions, { recipe, limits, placeholder, assets });
  return storeIntermediate('filter', job, rendered, deps, started);
}

export function createFilterHandler(getDeps: () => StepDeps): StepHandler<FilterInput, IntermediateResult> {
  return defineStep('ApplyFilters', getDeps, filter);
}
