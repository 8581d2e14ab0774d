import { performance } from 'node:perf_hooks';
import type { StepDeps } from './deps.js';
import { causeMessage } from './errors.js';

/** Minimal slice of the Lambda context the handlers use (the local runtime passes none). */
export interface StepContext {
  awsRequestId?: string;
  getRemainingTimeInMillis?: () => number;
}

export type StepHandler<I, O> = (input: I, context?: StepContext) => Promise<O>;

function codeOf(error: Error): string | undefined {
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' && /^[A-Z][A-Z_]+$/.test(code) ? code : undefined;
}

/**
 * Runs a step's body: logs its end (or its failure) and lets errors out as asStepError() shapes
 * them. The body gets the invocation's context too (e.g. how long its sandbox has left).
 */
export function defineStep<I, O>(step: string, getDeps: () => StepDeps, body: (input: I, deps: StepDeps, context?: StepContext) => Promise<O>): StepHandler<I, O> {
  return async (input, context) => {
    const started = performance.now();
    let deps: StepDeps | undefined;
    try {
      deps = getDeps();
      if (context?.awsRequestId) deps.logger.appendKeys({ requestId: context.awsRequestId });
      const output = await body(input, deps, context);
      deps.logger.info(`${step} done`, { step, millis: Math.round(performance.now() - started) });
      return output;
    } catch (error) {
      const failure = asStepError(error);
      // Not `message`: Powertools reserves that key for the log line itself and drops the field.
      const log = { step, error: failure.name, errorMessage: failure.message };
      if (deps) deps.logger.warn(`${step} failed`, log);
      else console.error(JSON.stringify({ level: 'ERROR', event: `${step} could not start`, ...log }));
      throw failure;
    }
  };
}

/**
 * The error as a step lets it out: class name intact (Retry/Catch match on it), reason code
 * in front of the message so the notify step can recover "CODE: message" from a Catch's Cause.
 */
export function asStepError(error: unknown): Error {
  const failure = error instanceof Error ? error : new Error(String(error));
  const code = codeOf(failure);
  if (code && !failure.message.startsWith(`${code}: `)) failure.message = causeMessage(code, failure.message);
  return failure;
}

/** Milliseconds since `started` (a performance.now() reading), rounded. */
export function elapsed(started: number): number {
  return Math.round(performance.now() - started);
}
