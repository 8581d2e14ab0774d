import {
  type Assets,
  type BundleEntry,
  type Recipe,
  type Rendition,
  decodeForRenditions,
  packBundle,
  placeholder,
  renderRendition,
  resizeOptions,
} from '@imgflow/image-core';
import { performance } from 'node:perf_hooks';
import type { StepDeps } from './deps.js';
import { bundleKey as bundleKeyFor } from './keys.js';
import type { IntermediateResult, Job } from './state.js';
import { elapsed } from './step.js';

/** Two renditions with the same geometry and filters look the same: they are rendered (and stored) once. */
export function lookOf(job: Pick<Job, 'width' | 'height'>, rendition: Rendition): string {
  return JSON.stringify([resizeOptions(job, rendition), rendition.filters]);
}

/**
 * What both parallel branches do, each for its own renditions: read the original, decode it
 * once at the size those renditions need, derive each distinct rendition, and store them all
 * as one bundle object under the job's work prefix (one PUT, whatever the recipe).
 */
export async function renderIntermediates(
  step: IntermediateResult['step'],
  job: Job,
  renditions: readonly Rendition[],
  deps: StepDeps,
  options: { withPlaceholder: boolean; recipe: Recipe; assets?: () => Promise<Assets> },
): Promise<IntermediateResult> {
  const started = performance.now();
  if (renditions.length === 0) {
    return { step, renditions: [], aliases: {}, millis: elapsed(started) };
  }
  const { config, storage } = deps;
  // The job carries what validation read from the header: no second probe (or hash) here.
  let original: Buffer | undefined = await storage.get(job.source, job.source.etag);
  const keepIcc = options.recipe.metadata.keep.includes('icc') && job.icc;
  const decoded = await decodeForRenditions(original, job, renditions, { limits: config.limits, keepIcc });
  original = undefined;
  const preview = options.withPlaceholder ? await placeholder(decoded, options.recipe.placeholder) : undefined;
  const assets = renditions.some((rendition) => rendition.filters.some((filter) => filter.type === 'watermark')) && options.assets ? await options.assets() : undefined;
  const entries: BundleEntry[] = [];
  const aliases: Record<string, string> = {};
  const byLook = new Map<string, string>();
  for (const rendition of renditions) {
    const look = lookOf(job, rendition);
    const existing = byLook.get(look);
    if (existing) {
      aliases[rendition.name] = existing;
      continue;
    }
    entries.push({ name: rendition.name, image: await renderRendition(decoded, job, rendition, assets) });
    byLook.set(look, rendition.name);
    aliases[rendition.name] = rendition.name;
  }
  let bundleKey: string | undefined;
  if (entries.length > 0) {
    bundleKey = bundleKeyFor(config.workPrefix, job.jobId, step);
    await storage.put({ bucket: config.outputBucket, key: bundleKey }, packBundle(entries), 'application/octet-stream');
  }
  return {
    step,
    ...(bundleKey ? { bundleKey } : {}),
    renditions: renditions.map((rendition) => rendition.name),
    aliases,
    ...(preview ? { placeholder: preview } : {}),
    millis: elapsed(started),
  };
}
