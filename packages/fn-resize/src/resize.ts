import { type IntermediateResult, type Job, type StepDeps, type StepHandler, defineStep } from '@imgflow/pipeline';
import { renderIntermediates } from '@imgflow/pipeline/intermediates';

export interface ResizeInput {
  job: Job;
}

/**
 * ResizeImage: the recipe's renditions that have no filters, from one decode of the original,
 * stored as one bundle, and the placeholder from that same decode. With no such renditions it
 * returns at once (ApplyFilters then computes the placeholder): no S3 request, no decode.
 */
export async function resize(input: ResizeInput, deps: StepDeps): Promise<IntermediateResult> {
  const { recipe } = deps.config;
  const renditions = recipe.renditions.filter((rendition) => rendition.filters.length === 0);
  return renderIntermediates('resize', input.job, renditions, deps, { withPlaceholder: renditions.length > 0, recipe });
}

export function createResizeHandler(getDeps: () => StepDeps): StepHandler<ResizeInput, IntermediateResult> {
  return defineStep('ResizeImage', getDeps, resize);
}
