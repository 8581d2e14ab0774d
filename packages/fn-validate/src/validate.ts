import { ImageError, ImageTooLargeError, isCleanOriginal, recipeFingerprint, validateImage } from '@imgflow/image-core';
import {
  type Job,
  type ObjectCreatedEvent,
  type OutputRecord,
  type StepDeps,
  type StepHandler,
  type ValidateResult,
  PipelineError,
  SourceMissingError,
  defineStep,
  elapsed,
  jobIdFor,
  objectFromEvent,
  outputKey,
  outputStem,
} from '@imgflow/pipeline';
import { performance } from 'node:perf_hooks';

export interface ValidateInput {
  /** The S3 Object Created event, as EventBridge delivers it. */
  event: ObjectCreatedEvent;
  /** `$$.Execution.Id`: the execution that owns the job. */
  executionId: string;
}

/**
 * Problems of the upload itself (the contract's `reject` kind) end the job as a rejection; anything
 * else (`retry`, or `fail` such as AccessDeniedError) is thrown for Retry/Catch and ends FAILED.
 */
function asRejection(error: unknown) {
  if ((error instanceof ImageError || error instanceof PipelineError) && error.kind === 'reject') {
    return { error: error.name, code: error.code, message: error.message };
  }
  return undefined;
}

async function copyCachedOutputs(deps: StepDeps, job: Job, outputs: readonly OutputRecord[], fromBucket: string): Promise<OutputRecord[]> {
  const { config, storage } = deps;
  return Promise.all(
    outputs.map(async (output) => {
      const extension = output.key.slice(output.key.lastIndexOf('.') + 1);
      const key = outputKey(config.outputPrefix, job.stem, output.rendition, { extension });
      if (key !== output.key || fromBucket !== config.outputBucket) {
        await storage.copy({ bucket: fromBucket, key: output.key }, { bucket: config.outputBucket, key }, undefined, config.cacheControl);
      }
      return { ...output, key };
    }),
  );
}

/**
 * ValidateImage: claims the upload in the ledger (a duplicate delivery stops here), reads the
 * header against the limits, and looks for an earlier result for the same bytes and recipe.
 */
export async function validate(input: ValidateInput, deps: StepDeps): Promise<ValidateResult> {
  const started = performance.now();
  const { config, ledger, storage, clock } = deps;
  const source = objectFromEvent(input.event);
  const jobId = jobIdFor(source);
  const now = clock();
  const claim = await ledger.claim(source, jobId, input.executionId, now, config.leaseSeconds);
  if (!claim.claimed) {
    deps.logger.info('duplicate delivery', { jobId, status: claim.existing.status });
    return { outcome: 'duplicate', jobId, existingStatus: claim.existing.status };
  }
  const base = { jobId, source, executionId: input.executionId, startedAt: now.toISOString(), stem: outputStem(source.key) };
  const rejected = (error: unknown): ValidateResult | undefined => {
    const rejection = asRejection(error);
    return rejection && { outcome: 'rejected', job: base, rejection, timings: { validate: elapsed(started) } };
  };
  if (source.size > config.limits.maxBytes) {
    const tooLarge = new ImageTooLargeError('TOO_MANY_BYTES', `The file is ${source.size} bytes; the limit is ${config.limits.maxBytes} bytes`);
    return rejected(tooLarge) as ValidateResult;
  }
  let bytes: Buffer | undefined;
  let job: Job;
  try {
    bytes = await storage.get(source, source.etag);
    const info = await validateImage(bytes, config.limits);
    job = {
      ...base,
      sha256: info.sha256,
      format: info.format,
      width: info.width,
      height: info.height,
      frames: info.frames,
      icc: info.hasIccProfile,
      clean: isCleanOriginal(info),
      recipe: recipeFingerprint(config.recipe),
    };
  } catch (error) {
    const rejection = rejected(error);
    if (rejection) return rejection;
    throw error;
  } finally {
    bytes = undefined;
  }
  const cached = await ledger.findCached(job.sha256, job.recipe);
  if (cached?.outputs && cached.outputBucket && cached.jobId !== jobId) {
    try {
      const outputs = await copyCachedOutputs(deps, job, cached.outputs, cached.outputBucket);
      return {
        outcome: 'cached',
        job,
        outputs,
        ...(cached.placeholder ? { placeholder: cached.placeholder } : {}),
        cachedFrom: cached.jobId,
        timings: { validate: elapsed(started) },
      };
    } catch (error) {
      // The earlier outputs are gone (deleted, expired): the cache entry is stale, not the upload.
      if (!(error instanceof SourceMissingError)) throw error;
      deps.logger.info('stale cache entry: processing instead', { jobId, cachedFrom: cached.jobId });
    }
  }
  await ledger.markProcessing(job);
  return { outcome: 'valid', job, timings: { validate: elapsed(started) } };
}

export function createValidateHandler(getDeps: () => StepDeps): StepHandler<ValidateInput, ValidateResult> {
  return defineStep('ValidateImage', getDeps, validate);
}
