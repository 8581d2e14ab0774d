import { errorKind } from '@imgflow/contract';
import {
  type CaughtError,
  type Job,
  type JobNotification,
  type NotifyResult,
  type ObjectRef,
  type OutputRecord,
  type ProcessedState,
  type Rejection,
  type StepDeps,
  type StepHandler,
  type Timings,
  type ValidateResult,
  bundleKeys,
  defineStep,
  eventKeyCandidates,
  jobIdFor,
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

function successFacts(state: ProcessedState | CachedState): { outputs: OutputRecord[]; placeholder?: Placeholder; timings: Timings; cachedFrom?: string } {
  if (state.outcome === 'cached') {
    return { outputs: state.outputs, timings: state.timings, cachedFrom: state.cachedFrom, ...(state.placeholder ? { placeholder: state.placeholder } : {}) };
  }
  const [resized, filtered] = state.intermediates;
  const placeholder = resized?.placeholder ?? filtered?.placeholder;
  return {
    outputs: state.optimized.outputs,
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

async function publishOnce(deps: StepDeps, jobId: string, executionId: string, topicArn: string, message: JobNotification): Promise<string> {
  const record = await deps.ledger.get(jobId);
  if (record?.notified) return 'already-sent';
  const messageId = await deps.notifier.publish(topicArn, message);
  await deps.ledger.markNotified(jobId, executionId);
  return messageId;
}

/**
 * NotifySuccess / NotifyError: records the terminal state in the ledger first (so the job is
 * recorded even if SNS is down), removes the job's work objects, then publishes one message; a
 * clean-up that left work objects fails the step after publishing (removeWork). A retried
 * notify never publishes twice; an execution that lost ownership of the job stays silent.
 */
export async function notify(input: NotifyInput, deps: StepDeps): Promise<NotifyResult> {
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
      ...(facts.placeholder ? { placeholder: facts.placeholder } : {}),
      cacheHit: input.state.outcome === 'cached',
      timings: facts.timings,
      executionId: input.executionId,
      finishedAt,
    });
    const messageId = await publishOnce(deps, job.jobId, input.executionId, config.successTopicArn, message);
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
  const messageId = await publishOnce(deps, target.jobId, executionId, config.errorTopicArn, message);
  if (cleanupFailure) throw cleanupFailure;
  return { jobId: target.jobId, status, messageId };
}

export function createNotifyHandler(getDeps: () => StepDeps): StepHandler<NotifyInput, NotifyResult> {
  return defineStep('Notify', getDeps, notify);
}
