import { ImageError, ImageTooLargeError, guardLoaders, isCleanOriginal, recipeFingerprint, sha256Hex, validateImage } from '@imgflow/image-core';
import {
  type ContentClaim,
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
  planRerender,
  resolveEventObject,
  withFingerprints,
  withListedVersion,
  writeManifest,
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
      // A cache entry recorded before manifests has no content hashes: read once, from the copy.
      const sha256 = output.sha256 ?? sha256Hex(await storage.get({ bucket: config.outputBucket, key }));
      return { ...output, key, sha256 };
    }),
  );
}

/**
 * ValidateImage: finds the upload the event is about (its key may arrive URL-encoded: one HEAD
 * decides when the key is ambiguous, see resolveEventObject), claims it in the ledger (a
 * duplicate delivery stops here), reads the header against the limits, and claims the bytes
 * and recipe (the content cache): an earlier result is copied, one in progress elsewhere is
 * waited for briefly (`wait`).
 */
export async function validate(input: ValidateInput, deps: StepDeps, wait: ContentWait = DEFAULT_CONTENT_WAIT): Promise<ValidateResult> {
  const started = performance.now();
  const { config, ledger, storage, clock } = deps;
  const head = (location: Parameters<typeof storage.head>[0]) => storage.head(location);
  // A backfill's event names no version: the object's current one makes it the trigger's job.
  const source = await withListedVersion(await resolveEventObject(objectFromEvent(input.event), head), input.event, head);
  const jobId = jobIdFor(source);
  const now = clock();
  // With the recipe: a job SUCCEEDED under another recipe is claimed again, to re-render.
  const recipe = recipeFingerprint(config.recipe);
  const claim = await ledger.claim(source, jobId, input.executionId, now, config.leaseSeconds, { recipe });
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
      recipe,
      // Only new and changed renditions are rendered; the others keep their outputs.
      ...(claim.replaces ? { rerender: planRerender(claim.replaces, config.recipe) } : {}),
    };
  } catch (error) {
    const rejection = rejected(error);
    if (rejection) return rejection;
    throw error;
  } finally {
    bytes = undefined;
  }
  // The content cache: the content claim says whether these bytes were, or are being, processed.
  const content = await awaitContent(deps, job, wait);
  if (content.state === 'done' && content.record.jobId !== jobId) {
    const cached = content.record;
    try {
      const outputs = withFingerprints(config.recipe, await copyCachedOutputs(deps, job, cached.outputs ?? [], cached.outputBucket ?? config.outputBucket));
      // The new upload's own manifest, beside its copies (the state carries only its key).
      const manifestKey = await writeManifest(deps, { job, outputs, ...(cached.placeholder ? { placeholder: cached.placeholder } : {}) });
      return {
        outcome: 'cached',
        job,
        outputs,
        ...(cached.placeholder ? { placeholder: cached.placeholder } : {}),
        cachedFrom: cached.jobId,
        manifestKey,
        timings: { validate: elapsed(started) },
      };
    } catch (error) {
      // The earlier outputs are gone (deleted, expired): the cache entry is stale, not the upload.
      if (!(error instanceof SourceMissingError)) throw error;
      deps.logger.info('stale cache entry: processing instead', { jobId, cachedFrom: cached.jobId });
      await ledger.takeOverContent(job, cached.jobId, clock(), config.leaseSeconds);
    }
  } else if (content.state === 'busy') {
    // Still being processed elsewhere after the wait: this job processes the bytes too (both
    // outcomes are the same; the first to finish becomes the cache entry).
    deps.logger.info('same content in progress elsewhere: processing it too', { jobId, owner: content.owner, waitedMs: wait.totalMs });
  }
  if (!(await ledger.markProcessing(job))) {
    // The job ended (or changed hands) since the claim: e.g. another copy of this execution (an
    // Express replay) finished it meanwhile. That copy reported it; this one stops here.
    const existing = await ledger.get(jobId);
    deps.logger.info('job ended while validating: a replay stops', { jobId, status: existing?.status });
    return { outcome: 'duplicate', jobId, existingStatus: existing?.status ?? 'PENDING' };
  }
  return { outcome: 'valid', job, timings: { validate: elapsed(started) } };
}

/** How long a job waits for another job that is processing the same bytes, and how often it looks. */
export interface ContentWait {
  totalMs: number;
  pollMs: number;
}

/**
 * Two uploads of the same bytes close together: the second waits up to 5 s (polling the content
 * claim, a consistent read) for the first to finish, then copies its outputs; a typical image
 * is done in that time. Past it, it processes the bytes itself rather than hold a Lambda longer.
 */
export const DEFAULT_CONTENT_WAIT: ContentWait = { totalMs: 5000, pollMs: 250 };

async function awaitContent(deps: StepDeps, job: Job, wait: ContentWait): Promise<ContentClaim> {
  const { ledger, clock, config } = deps;
  const waitedFrom = performance.now();
  let content = await ledger.claimContent(job, clock(), config.leaseSeconds);
  while (content.state === 'busy' && performance.now() - waitedFrom + wait.pollMs <= wait.totalMs) {
    await new Promise((resolveTimer) => setTimeout(resolveTimer, wait.pollMs));
    content = await ledger.claimContent(job, clock(), config.leaseSeconds);
  }
  return content;
}

/**
 * The deps of a Lambda process, with the libvips loaders of every format its limits refuse
 * blocked (image-core's guardLoaders) as soon as the limits are known: the cold start. Behind
 * the sniffer, which already refuses those formats before any parser, so a sniffer bug cannot
 * reach them. Validation is the gate: the later steps decode only bytes this step read with an
 * accepted loader (the same object, pinned by its ETag). Repeated calls cost a comparison.
 */
export function withGuardedLoaders(getDeps: () => StepDeps): () => StepDeps {
  return () => {
    const deps = getDeps();
    guardLoaders(deps.config.limits.acceptedFormats);
    return deps;
  };
}

export function createValidateHandler(getDeps: () => StepDeps, wait: ContentWait = DEFAULT_CONTENT_WAIT): StepHandler<ValidateInput, ValidateResult> {
  return defineStep('ValidateImage', getDeps, (input: ValidateInput, deps: StepDeps) => validate(input, deps, wait));
}
