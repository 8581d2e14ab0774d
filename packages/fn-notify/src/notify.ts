import { errorKind, step } from '@imgflow/contract';
import {
  type CaughtError,
  type Job,
  type JobNotification,
  type NotifyResult,
  type ObjectRef,
  type OutputRecord,
  type ProcessedState,
  type Rejection,
  type StepContext,
  type StepDeps,
  type StepHandler,
  type Timings,
  type ValidateResult,
  bundleKeys,
  defineStep,
  eventKeyCandidates,
  jobIdFor,
  NotificationFailedError,
  notificationFor,
  objectFromEvent,
} from '@imgflow/pipeline';
import type { Placeholder } from '@imgflow/image-core';

type CachedState = Extract<ValidateResult, { outcome: 'cached' }>;

export type NotifyInput =
  | { kind: 'success'; executionId: string; state: ProcessedState | CachedState }
  | { kind: 'error'; executionId: string; state: Record<string, unknown> & { error?: CaughtError } };

/**
 * The Cause of a caught error: on AWS a JSON document from Lambda ({"errorMessage", "errorType"}),
 * in the local engine the message itself. Steps put "CODE: " in front of their messages.
 */
export function rejectionFromCaught(caught: CaughtError): Rejection {
  let message = caught.Cause ?? '';
  try {
    const parsed = JSON.parse(message) as { errorMessage?: unknown };
    if (typeof parsed.errorMessage === 'string') message = parsed.errorMessage;
  } catch {
    // Not JSON: the local engine's plain message.
  }
  const coded = /^([A-Z][A-Z0-9_]+): ([\s\S]*)$/.exec(message);
  if (coded?.[1] && coded[2] !== undefined) return { error: caught.Error, code: coded[1], message: coded[2] };
  const code =
    caught.Error === 'States.Timeout'
      ? 'STEP_TIMEOUT'
      : caught.Error === 'Sandbox.Timedout'
        ? 'LAMBDA_TIMEOUT'
        : caught.Error.startsWith('Lambda.')
          ? 'LAMBDA_ERROR'
          : 'INTERNAL_ERROR';
  return { error: caught.Error, code, message: message || caught.Error };
}

function successFacts(state: ProcessedState | CachedState): { outputs: OutputRecord[]; manifestKey?: string; placeholder?: Placeholder; timings: Timings; cachedFrom?: string } {
  if (state.outcome === 'cached') {
    return {
      outputs: state.outputs,
      ...(state.manifestKey ? { manifestKey: state.manifestKey } : {}),
      timings: state.timings,
      cachedFrom: state.cachedFrom,
      ...(state.placeholder ? { placeholder: state.placeholder } : {}),
    };
  }
  const [resized, filtered] = state.intermediates;
  const placeholder = resized?.placeholder ?? filtered?.placeholder;
  return {
    outputs: state.optimized.outputs,
    // Absent only in a state from before manifests (an execution that was running during the deploy).
    ...(state.optimized.manifestKey ? { manifestKey: state.optimized.manifestKey } : {}),
    timings: { ...state.timings, resize: resized?.millis, filter: filtered?.millis, optimize: state.optimized.millis },
    ...(placeholder ? { placeholder } : {}),
  };
}

/**
 * The upload an error state is about: the job when validation got that far, else the execution
 * input's event. An event key that may be URL-encoded was resolved by ValidateImage before it
 * claimed the job: the claim this execution holds names the key it chose.
 */
async function sourceOf(state: Record<string, unknown>, deps: StepDeps, executionId: string): Promise<{ source: ObjectRef; jobId: string; job?: Partial<Job> } | undefined> {
  const job = state.job as Partial<Job> | undefined;
  if (job?.source && job.jobId) return { source: job.source, jobId: job.jobId, job };
  const event = (state.event as unknown) ?? state;
  let given: ObjectRef;
  try {
    given = objectFromEvent(event);
  } catch {
    return undefined;
  }
  const candidates = eventKeyCandidates(given.key).map((key) => ({ ...given, key }));
  if (candidates.length > 1) {
    for (const candidate of candidates) {
      const jobId = jobIdFor(candidate);
      if ((await deps.ledger.get(jobId))?.executionId === executionId) return { source: candidate, jobId };
    }
  }
  return { source: given, jobId: jobIdFor(given) };
}

/**
 * Removes the job's work bundles. A failure (DeleteObjects reports per-key errors inside its
 * 200) is logged and returned, to be raised once the notification is out: a transient one is
 * retried with the step (the retry publishes nothing twice), a denial fails the execution
 * visibly; either way the outcome is recorded and notified, and nothing is left silently.
 */
async function removeWork(deps: StepDeps, jobId: string): Promise<Error | undefined> {
  const keys = bundleKeys(deps.config.workPrefix, jobId);
  try {
    await deps.storage.deleteKeys(deps.config.outputBucket, keys);
    return undefined;
  } catch (error) {
    deps.logger.error('could not remove the work objects', { jobId, keys, error: String(error) });
    return error instanceof Error ? error : new Error(String(error));
  }
}

/** How long a notify step holds a job's notification claim: the rest of its invocation (its sandbox cannot outlive it). */
function claimSeconds(context?: StepContext): number {
  const left = context?.getRemainingTimeInMillis?.();
  return left !== undefined && left > 0 ? Math.ceil(left / 1000) : step('notify').timeout_seconds;
}

/**
 * Publishes a finished job's one notification. The order is claim, publish, mark:
 * - the claim (JobLedger.claimNotification, a conditional write that the sweeper takes too) is
 *   won by exactly one of the copies of an execution that Express may run twice, so a replay
 *   publishes nothing (at most once in the normal case);
 * - a copy that finds the claim held by another one still publishing throws a retryable
 *   NotificationFailedError: its Retry finds the job notified, or the step fails visibly;
 * - a publish that fails gives the claim back, so the step's Retry publishes;
 * - a run that dies between claim and publish leaves the job un-notified with a claim that runs
 *   out with its invocation: the sweeper (and the local runtime at start-up) publishes it then
 *   (at least once). One that dies between publish and mark is published twice: at-least-once's price.
 */
async function publishOnce(
  deps: StepDeps,
  job: { jobId: string; executionId: string; status: JobNotification['status'] },
  topicArn: string,
  message: JobNotification,
  context?: StepContext,
): Promise<string> {
  const now = deps.clock();
  const seconds = claimSeconds(context);
  if (!(await deps.ledger.claimNotification(job, now, seconds))) {
    const record = await deps.ledger.get(job.jobId);
    if (record?.notified) return 'already-sent';
    throw new NotificationFailedError(
      `The notification of job ${job.jobId} is being published by another run (claimed until ${record?.notifyingUntil ?? 'unknown'}): not publishing it twice`,
    );
  }
  let messageId: string;
  try {
    messageId = await deps.notifier.publish(topicArn, message);
  } catch (error) {
    await deps.ledger.releaseNotification(job, now, seconds).catch((releaseError: unknown) => {
      deps.logger.warn('could not give the notification claim back', { jobId: job.jobId, error: String(releaseError) });
    });
    throw error;
  }
  await deps.ledger.markNotified(job.jobId, job.executionId);
  return messageId;
}

/**
 * NotifySuccess / NotifyError: records the terminal state in the ledger first (so the job is
 * recorded even if SNS is down), removes the job's work objects, then publishes one message; a
 * clean-up that left work objects fails the step after publishing (removeWork). A retried
 * notify, or a replay of the execution, never publishes twice (publishOnce) and never changes a
 * finished record (JobLedger.succeed/finish); an execution that lost ownership of the job, or
 * finds it ended otherwise, stays silent.
 */
export async function notify(input: NotifyInput, deps: StepDeps, context?: StepContext): Promise<NotifyResult> {
  const { config, ledger } = deps;
  const finishedAt = deps.clock().toISOString();
  if (input.kind === 'success') {
    const { job } = input.state;
    const facts = successFacts(input.state);
    const owned = await ledger.succeed(job, { outputBucket: config.outputBucket, cacheHit: input.state.outcome === 'cached', ...facts });
    // A run that lost the job (its lease expired, another run took over) leaves the work
    // prefix alone: it now belongs to the run that owns the job.
    if (!owned) return { jobId: job.jobId, status: 'SUCCEEDED', messageId: 'not-owner' };
    const cleanupFailure = await removeWork(deps, job.jobId);
    const message = notificationFor('SUCCEEDED', {
      jobId: job.jobId,
      source: job.source,
      outputBucket: config.outputBucket,
      outputs: facts.outputs,
      ...(facts.manifestKey ? { manifest: { bucket: config.outputBucket, key: facts.manifestKey } } : {}),
      ...(facts.placeholder ? { placeholder: facts.placeholder } : {}),
      cacheHit: input.state.outcome === 'cached',
      timings: facts.timings,
      executionId: input.executionId,
      finishedAt,
    });
    const messageId = await publishOnce(deps, { jobId: job.jobId, executionId: job.executionId, status: 'SUCCEEDED' }, config.successTopicArn, message, context);
    if (cleanupFailure) throw cleanupFailure;
    return { jobId: job.jobId, status: 'SUCCEEDED', messageId };
  }

  const { state } = input;
  const rejection: Rejection =
    (state.rejection as Rejection | undefined) ?? (state.error ? rejectionFromCaught(state.error) : { error: 'Unknown', code: 'INTERNAL_ERROR', message: 'The workflow failed without an error' });
  const status = errorKind(rejection.error) === 'reject' ? 'REJECTED' : 'FAILED';
  const target = await sourceOf(state, deps, input.executionId);
  if (!target) {
    // Not an upload at all (a malformed execution input): nothing to record, but say so loudly.
    deps.logger.error('workflow input is not an S3 Object Created event', { rejection });
    throw Object.assign(new Error(`INVALID_EVENT: ${rejection.message}`), { name: 'InvalidEventError' });
  }
  const timings = (state.timings as Timings | undefined) ?? {};
  const executionId = (target.job?.executionId as string | undefined) ?? input.executionId;
  const owned = await ledger.finish(target.source, target.jobId, executionId, status, rejection, timings);
  if (!owned) return { jobId: target.jobId, status, messageId: 'not-owner' };
  const cleanupFailure = await removeWork(deps, target.jobId);
  const message = notificationFor(status, {
    jobId: target.jobId,
    source: target.source,
    reason: { code: rejection.code, error: rejection.error, message: rejection.message },
    timings,
    executionId,
    finishedAt,
  });
  const messageId = await publishOnce(deps, { jobId: target.jobId, executionId, status }, config.errorTopicArn, message, context);
  if (cleanupFailure) throw cleanupFailure;
  return { jobId: target.jobId, status, messageId };
}

export function createNotifyHandler(getDeps: () => StepDeps): StepHandler<NotifyInput, NotifyResult> {
  return defineStep('Notify', getDeps, notify);
}
