import { type OutputFacts, type Placeholder, type RenderedOutput, encodeOutputs, outputsNeedOriginal, sha256Hex } from '@imgflow/image-core';
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
  renditionFingerprints,
  rendersRendition,
  versionedOutputKey,
  writeManifest,
} from '@imgflow/pipeline';
import { loadIntermediates } from '@imgflow/pipeline/intermediates';
import { performance } from 'node:perf_hooks';

export interface OptimizeInput {
  job: Job;
  /** The Parallel state's output: [ResizeImage result, ApplyFilters result]. */
  intermediates: IntermediateResult[];
}

/**
 * OptimizeImage: encodes every rendition in every format of the recipe and stores the outputs,
 * each as soon as it is encoded. An output the original can stand in for is a server-side
 * copy. Once all are stored, the image's manifest is written beside them (docs/manifest.md);
 * each output's sha256 is taken from the bytes as they are stored (a copy's is the original's).
 * If any encode or write fails, the step waits for the others to settle and removes the
 * outputs already written, so a failed job leaves no partial set behind (and no manifest).
 * In a re-render after a recipe change (Job.rerender) only the new and changed renditions are
 * encoded; the manifest lists them with the kept ones, and then the dropped ones are deleted
 * (unless the recipe says removedRenditions: 'keep').
 */
export async function optimize(input: OptimizeInput, deps: StepDeps): Promise<OptimizeResult> {
  const started = performance.now();
  const { config, storage } = deps;
  const { job } = input;
  const { recipe, limits } = config;
  const bundles = await loadIntermediates(input.intermediates, deps);
  const facts: OutputFacts = { format: job.format, width: job.width, height: job.height, bytes: job.source.size, clean: job.clean, frames: job.frames };
  const original = outputsNeedOriginal(recipe, facts) ? await storage.get(job.source, job.source.etag) : undefined;
  const fingerprints = renditionFingerprints(recipe);
  // A re-render (planRerender) encodes the new and changed renditions only; a changed one goes
  // under a new key, so the objects the old manifest names stay as they are until it is replaced.
  const changed = new Set(job.rerender?.superseded.map((output) => output.rendition));
  const keyOf = (output: RenderedOutput) => {
    const fingerprint = fingerprints.get(output.rendition);
    return changed.has(output.rendition) && fingerprint
      ? versionedOutputKey(config.outputPrefix, job.stem, output.rendition, output, fingerprint)
      : outputKey(config.outputPrefix, job.stem, output.rendition, output);
  };
  const rendered = job.rerender ? { ...recipe, renditions: recipe.renditions.filter((rendition) => rendersRendition(job, rendition.name)) } : recipe;
  const written: string[] = [];
  // Taken from the bytes as they are stored: a server-side copy's are the original's.
  const hashes = new Map<string, string>();
  let result: Omit<OptimizeResult, 'millis'>;
  try {
    const encoded = await encodeOutputs(bundles, facts, {
      recipe: rendered,
      limits,
      ...(original ? { original } : {}),
      onOutput: async (output) => {
        const target = { bucket: config.outputBucket, key: keyOf(output) };
        if (output.passthrough) {
          await storage.copy(job.source, target, output.mediaType, config.cacheControl);
          hashes.set(target.key, job.sha256);
        } else {
          // One hash for the manifest and the PUT's signature (S3 checks the body against it).
          const sha256 = sha256Hex(output.data);
          await storage.put(target, output.data, output.mediaType, config.cacheControl, { sha256 });
          hashes.set(target.key, sha256);
        }
        written.push(target.key);
      },
    });
    const made = encoded.map((output): OutputRecord => {
      const key = keyOf(output);
      const sha256 = hashes.get(key);
      const fingerprint = fingerprints.get(output.rendition);
      return {
        rendition: output.rendition,
        format: output.format,
        key,
        width: output.width,
        height: output.height,
        bytes: output.bytes,
        ...(sha256 ? { sha256 } : {}),
        ...(fingerprint ? { fingerprint } : {}),
        ...(output.autoQuality ? { autoQuality: output.autoQuality } : {}),
      };
    });
    const outputs = inRecipeOrder(recipe.renditions, [...(job.rerender?.kept ?? []), ...made]);
    const placeholder = placeholderOf(input.intermediates).placeholder ?? job.rerender?.placeholder;
    // Last: a manifest only ever lists outputs that are all stored.
    const manifestKey = await writeManifest(deps, { job, outputs, ...(placeholder ? { placeholder } : {}) });
    result = { outputs, passthrough: encoded.filter((output) => output.passthrough).length, manifestKey };
  } catch (error) {
    await storage.deleteKeys(config.outputBucket, written).catch((cleanupError: unknown) => {
      deps.logger.error('could not remove partial outputs', { jobId: job.jobId, keys: written, error: String(cleanupError) });
    });
    throw error;
  }
  // Once the new manifest is written, nothing names the outputs of renditions the recipe dropped.
  const removed = job.rerender?.removed.map((output) => output.key) ?? [];
  if (removed.length > 0 && recipe.removedRenditions === 'delete') await storage.deleteKeys(config.outputBucket, removed);
  return { ...result, millis: elapsed(started) };
}

/** Outputs in the recipe's rendition order (kept ones first would read oddly in the record and the notification). */
function inRecipeOrder(renditions: readonly { name: string }[], outputs: readonly OutputRecord[]): OutputRecord[] {
  const order = new Map(renditions.map((rendition, index) => [rendition.name, index]));
  return [...outputs].sort((a, b) => (order.get(a.rendition) ?? 0) - (order.get(b.rendition) ?? 0));
}

/** The job's placeholder, as the branch that computed it left it (the notify step reads it the same way). */
function placeholderOf(intermediates: readonly IntermediateResult[]): { placeholder?: Placeholder } {
  const placeholder = intermediates.find((intermediate) => intermediate.placeholder)?.placeholder;
  return placeholder ? { placeholder } : {};
}

export function createOptimizeHandler(getDeps: () => StepDeps): StepHandler<OptimizeInput, OptimizeResult> {
  return defineStep('OptimizeImage', getDeps, optimize);
}
