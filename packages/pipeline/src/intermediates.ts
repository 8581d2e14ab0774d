import type { IntermediateBundle, RenderedBundle } from '@imgflow/image-core';
import type { StepDeps } from './deps.js';
import { bundleKey as bundleKeyFor } from './keys.js';
import type { IntermediateResult, Job } from './state.js';
import { elapsed } from './step.js';

/**
 * Where a branch's bundle goes between steps: one object under the job's work prefix (one PUT,
 * whatever the recipe), and the reference to it that travels in the workflow state instead of
 * the pixels. With nothing rendered it writes nothing.
 */
export async function storeIntermediate(
  step: IntermediateResult['step'],
  job: Pick<Job, 'jobId'>,
  rendered: RenderedBundle,
  deps: StepDeps,
  started: number,
): Promise<IntermediateResult> {
  const { config, storage } = deps;
  let bundleKey: string | undefined;
  if (rendered.bundle) {
    bundleKey = bundleKeyFor(config.workPrefix, job.jobId, step);
    // Megabytes of raw pixels, read once by the next step and deleted: not hashed for SigV4 (see PayloadSigning).
    await storage.put({ bucket: config.outputBucket, key: bundleKey }, rendered.bundle, 'application/octet-stream', undefined, 'unsigned');
  }
  return {
    step,
    ...(bundleKey ? { bundleKey } : {}),
    renditions: rendered.renditions,
    aliases: rendered.aliases,
    ...(rendered.placeholder ? { placeholder: rendered.placeholder } : {}),
    millis: elapsed(started),
  };
}

/** Reads back the bundles the branches stored, in order, for the encoder. */
export async function loadIntermediates(intermediates: readonly IntermediateResult[], deps: StepDeps): Promise<IntermediateBundle[]> {
  const { config, storage } = deps;
  const bundles: IntermediateBundle[] = [];
  for (const { bundleKey, aliases } of intermediates) {
    bundles.push(bundleKey ? { bundle: await storage.get({ bucket: config.outputBucket, key: bundleKey }), aliases } : { aliases });
  }
  return bundles;
}
