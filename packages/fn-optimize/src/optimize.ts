import { type OutputFacts, type RenderedOutput, encodeOutputs, outputsNeedOriginal } from '@imgflow/image-core';
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
 * copy. If any encode or write fails, the step waits for the others to settle and removes the
 * outputs already written, so a failed job leaves no partial set behind.
 */
export async function optimize(input: OptimizeInput, deps: StepDeps): Promise<OptimizeResult> {
  const started = performance.now();
  const { config, storage } = deps;
  const { job } = input;
  const { recipe, limits } = config;
  const bundles = await loadIntermediates(input.intermediates, deps);
  const facts: OutputFacts = { format: job.format, width: job.width, height: job.height, bytes: job.source.size, clean: job.clean, frames: job.frames };
  const original = outputsNeedOriginal(recipe, facts) ? await storage.get(job.source, job.source.etag) : undefined;
  const keyOf = (output: RenderedOutput) => outputKey(config.outputPrefix, job.stem, output.rendition, output);
  const written: string[] = [];
  let encoded: RenderedOutput[];
  try {
    encoded = await encodeOutputs(bundles, facts, {
      recipe,
      limits,
      ...(original ? { original } : {}),
      onOutput: async (output) => {
        const target = { bucket: config.outputBucket, key: keyOf(output) };
        if (output.passthrough) await storage.copy(job.source, target, output.mediaType, config.cacheControl);
        else await storage.put(target, output.data, output.mediaType, config.cacheControl);
        written.push(target.key);
      },
    });
  } catch (error) {
    await storage.deleteKeys(config.outputBucket, written).catch((cleanupError: unknown) => {
      deps.logger.error('could not remove partial outputs', { jobId: job.jobId, keys: written, error: String(cleanupError) });
    });
    throw error;
  }
  const outputs = encoded.map(
    (output): OutputRecord => ({ rendition: output.rendition, format: output.format, key: keyOf(output), width: output.width, height: output.height, bytes: output.bytes }),
  );
  return { outputs, passthrough: encoded.filter((output) => output.passthrough).length, millis: elapsed(started) };
}

export function createOptimizeHandler(getDeps: () => StepDeps): StepHandler<OptimizeInput, OptimizeResult> {
  return defineStep('OptimizeImage', getDeps, optimize);
}
