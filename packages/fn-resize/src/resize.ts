import { renderBundle } from '@imgflow/image-core';
import { type IntermediateResult, type Job, type StepDeps, type StepHandler, defineStep, elapsed, rendersRendition } from '@imgflow/pipeline';
import { storeIntermediate } from '@imgflow/pipeline/intermediates';
import { performance } from 'node:perf_hooks';

export interface ResizeInput {
  job: Job;
}

/**
 * ResizeImage: the recipe's renditions that have no filters, from one decode of the original,
 * stored as one bundle, and the placeholder from that same decode. With no such renditions it
 * returns at once (ApplyFilters then computes the placeholder): no S3 request, no decode.
 */
export async function resize(input: ResizeInput, deps: StepDeps): Promise<IntermediateResult> {
  const started = performance.now();
  const { job } = input;
  const { config, storage } = deps;
  const { recipe, limits } = config;
  // In a re-render, only the new and changed renditions (see planRerender).
  const renditions = recipe.renditions.filter((rendition) => rendition.filters.length === 0 && rendersRendition(job, rendition.name));
  if (renditions.length === 0) return { step: 'resize', renditions: [], aliases: {}, millis: elapsed(started) };
  // The job carries what validation read from the header: no second probe (or hash) here.
  const rendered = await renderBundle(await storage.get(job.source, job.source.etag), job, renditions, { recipe, limits, placeholder: true });
  return storeIntermediate('resize', job, rendered, deps, started);
}

export function createResizeHandler(getDeps: () => StepDeps): StepHandler<ResizeInput, IntermediateResult> {
  return defineStep('ResizeImage', getDeps, resize);
}
