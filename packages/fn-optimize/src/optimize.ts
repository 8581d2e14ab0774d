import {
  type EncodedImage,
  type OriginalFacts,
  type OutputFormat,
  type Rendition,
  type Rights,
  type WorkingImage,
  ANIMATED_OUTPUT_FORMATS,
  canPassThrough,
  encode,
  formatsFor,
  readRights,
  renderAnimated,
  unpackBundle,
} from '@imgflow/image-core';
import {
  type IntermediateResult,
  type Job,
  type OptimizeResult,
  type OutputRecord,
  type StepDeps,
  type StepHandler,
  defineStep,
  elapsed,
  outputKey,
} from '@imgflow/pipeline';
import { performance } from 'node:perf_hooks';
import sharp from 'sharp';

export interface OptimizeInput {
  job: Job;
  /** The Parallel state's output: [ResizeImage result, ApplyFilters result]. */
  intermediates: IntermediateResult[];
}

async function loadEntries(deps: StepDeps, intermediates: readonly IntermediateResult[]): Promise<Map<string, WorkingImage>> {
  const entries = new Map<string, WorkingImage>();
  for (const intermediate of intermediates) {
    if (!intermediate.bundleKey) continue;
    const bundle = await deps.storage.get({ bucket: deps.config.outputBucket, key: intermediate.bundleKey });
    for (const entry of unpackBundle(bundle)) entries.set(`${intermediate.step}:${entry.name}`, entry.image);
  }
  return entries;
}

/**
 * OptimizeImage: encodes every rendition in every format of the recipe and stores the outputs.
 * Each distinct rendition × format is encoded once; an output the original can stand in for
 * is a server-side copy. If any encode or write fails, the step waits for the others to
 * settle and removes the outputs already written, so a failed job leaves no partial set behind.
 */
export async function optimize(input: OptimizeInput, deps: StepDeps): Promise<OptimizeResult> {
  const started = performance.now();
  const { config, storage } = deps;
  const { job } = input;
  const { recipe } = config;
  const entries = await loadEntries(deps, input.intermediates);
  const entryFor = new Map<string, string>();
  for (const intermediate of input.intermediates) {
    for (const [rendition, entry] of Object.entries(intermediate.aliases)) entryFor.set(rendition, `${intermediate.step}:${entry}`);
  }
  const animate = recipe.animation === 'animate' && job.frames > 1;
  const needsOriginal = animate || recipe.metadata.keep.includes('copyright');
  const original = needsOriginal ? await storage.get(job.source, job.source.etag) : undefined;
  const rights: Rights = original && recipe.metadata.keep.includes('copyright') ? readRights((await sharp(original).metadata()).exif) : {};
  const facts: OriginalFacts = { format: job.format, width: job.width, height: job.height, bytes: job.source.size, clean: job.clean };

  const encodings = new Map<string, Promise<EncodedImage>>();
  const written: string[] = [];
  let passthrough = 0;
  const produce = async (rendition: Rendition, format: OutputFormat): Promise<OutputRecord> => {
    const entry = entryFor.get(rendition.name);
    const image = entry ? entries.get(entry) : undefined;
    if (!entry || !image) throw new Error(`No intermediate holds the rendition "${rendition.name}"`);
    let encoded: EncodedImage;
    if (animate && original && rendition.filters.length === 0 && ANIMATED_OUTPUT_FORMATS.includes(format)) {
      encoded = await renderAnimated(original, job, rendition, recipe, config.limits);
    } else {
      const cacheKey = `${entry}|${format}`;
      let pending = encodings.get(cacheKey);
      if (!pending) {
        pending = encode(image, format, { encoding: recipe.encoding, keep: recipe.metadata.keep, rights, background: rendition.background });
        encodings.set(cacheKey, pending);
      }
      encoded = await pending;
    }
    const key = outputKey(config.outputPrefix, job.stem, rendition.name, encoded);
    const target = { bucket: config.outputBucket, key };
    let bytes = encoded.bytes;
    if (canPassThrough(facts, rendition, encoded)) {
      await storage.copy(job.source, target, encoded.mediaType, config.cacheControl);
      passthrough += 1;
      bytes = job.source.size;
    } else {
      await storage.put(target, encoded.data, encoded.mediaType, config.cacheControl);
    }
    written.push(key);
    return { rendition: rendition.name, format, key, width: encoded.width, height: encoded.height, bytes };
  };
  // Every rendition × format starts at once, like a single process would: the long 2048 px AVIF
  // overlaps the small encodes and the uploads (libuv's pool bounds the parallel encodes).
  const settled = await Promise.allSettled(
    recipe.renditions.flatMap((rendition) => formatsFor(recipe, rendition).map((format) => produce(rendition, format))),
  );
  const failure = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failure) {
    await storage.deleteKeys(config.outputBucket, written).catch((cleanupError: unknown) => {
      deps.logger.error('could not remove partial outputs', { jobId: job.jobId, keys: written, error: String(cleanupError) });
    });
    throw failure.reason;
  }
  const outputs = settled.map((result) => (result as PromiseFulfilledResult<OutputRecord>).value);
  return { outputs, passthrough, millis: elapsed(started) };
}

export function createOptimizeHandler(getDeps: () => StepDeps): StepHandler<OptimizeInput, OptimizeResult> {
  return defineStep('OptimizeImage', getDeps, optimize);
}
