import { performance } from 'node:perf_hooks';
import { type WorkflowType, WORKFLOW_TYPES, contract } from '@imgflow/contract';
import type { ObjectCreatedEvent } from '@imgflow/pipeline';
import { type RunOptions, StateMachine, type StateMachineDefinition } from 'aws-local-stepfunctions';
import { type AslDefinition, taskStates } from './asl.js';

type JsonValue = Parameters<StateMachine['run']>[0];
type LocalHandler = (input: unknown) => Promise<unknown>;

/** What the runner tells a listener while an execution runs (the CLI's live progress). */
export type ExecutionUpdate =
  | { type: 'started'; name: string; event: ObjectCreatedEvent }
  | { type: 'entered' | 'exited'; name: string; state: string; stateType: string }
  | { type: 'retried'; name: string; state: string; attempt: number }
  | { type: 'caught'; name: string; state: string }
  | { type: 'finished'; name: string; report: ExecutionReport };

export type ExecutionListener = (update: ExecutionUpdate) => void;

/**
 * The largest state input or output, and Task result, Step Functions takes: 256 KiB of UTF-8
 * JSON. Past it the execution fails with States.DataLimitExceeded, which no Catch catches.
 */
export const PAYLOAD_LIMIT_BYTES = 262_144;

/** What an execution ended with, as Step Functions reports it. */
export type ExecutionStatus = 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

export interface ExecutionReport {
  executionId: string;
  name: string;
  event: ObjectCreatedEvent;
  /**
   * As Step Functions reports it. TIMED_OUT: the execution outlived its workflow type's limit
   * (EXPRESS 5 minutes; error States.Timeout). FAILED includes States.DataLimitExceeded (a payload
   * over 256 KiB). Neither runs a Catch: NotifyError does not run, the job stays as it was in the
   * ledger (PENDING/PROCESSING, until its lease expires and the sweeper ends it). ABORTED: an
   * execution stopped by `abortAll()` (StopExecution).
   */
  status: ExecutionStatus;
  output?: unknown;
  error?: { name: string; cause: string };
  /** States entered, in order (Parallel branches interleave). */
  path: string[];
  /** State transitions as Step Functions Standard bills them: every state entered, every retry. */
  transitions: number;
  /** Handler (Lambda) invocations per Task state, retries included. */
  invocations: Record<string, number>;
  retries: number;
  /** The largest state input or output, in bytes of JSON (the AWS limit is 256 KiB). */
  maxPayloadBytes: number;
  durationMs: number;
}

export interface RunnerOptions {
  region: string;
  account: string;
  stateMachineName?: string;
  /** Replace every Retry pause with this many milliseconds (tests). */
  retryPauseMs?: number;
  /** The workflow type whose limits apply (default: the contract's `workflow.default_type`). */
  workflowType?: WorkflowType;
  /**
   * Stop an execution after this many milliseconds instead of its type's limit (the contract's
   * `workflow.max_duration_seconds`: EXPRESS 300 s, STANDARD one year): tests scale it down,
   * as `retryPauseMs` scales the Retry pauses.
   */
  maxDurationMs?: number;
}

/** What a caller may choose about one execution. */
export interface ExecuteOptions {
  /**
   * The execution's name (its ARN ends with it); a fresh one by default. The same name twice is
   * the same execution run again, as an Express workflow (at least once) may run it: a replay.
   */
  name?: string;
}

/** How an execution was stopped from outside the engine (the engine itself only sees an abort). */
interface Stop {
  status: Exclude<ExecutionStatus, 'SUCCEEDED'>;
  error: { name: string; cause: string };
}

interface Control {
  abort: () => void;
  stop?: Stop;
}

/** setTimeout's longest delay (about 24.8 days); a STANDARD execution may run a year. */
const MAX_TIMER_MS = 2 ** 31 - 1;

/** Calls `fire` once `ms` have passed (any length: re-armed in steps); returns the cancel. */
function after(ms: number, fire: () => void): () => void {
  const deadline = performance.now() + ms;
  let timer: NodeJS.Timeout | undefined;
  const arm = () => {
    const left = Math.max(0, deadline - performance.now());
    timer = left > MAX_TIMER_MS ? setTimeout(arm, MAX_TIMER_MS) : setTimeout(fire, left);
  };
  arm();
  return () => clearTimeout(timer);
}

const NAME_PATTERN = /^[A-Za-z0-9_-]{1,80}$/;

function payloadBytes(value: unknown): number {
  return value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value));
}

/** Step Functions' States.DataLimitExceeded, roughly in its words. */
function dataLimitExceeded(state: string, what: 'result' | 'input'): Stop {
  const cause =
    what === 'result'
      ? `The state/task ${state} returned a result with a size exceeding the maximum number of bytes service limit.`
      : `The state/task ${state} has an input with a size exceeding the maximum number of bytes service limit.`;
  return { status: 'FAILED', error: { name: 'States.DataLimitExceeded', cause } };
}

/** What a wrapped handler throws once its execution was stopped: the engine enters no further state anyway. */
function stoppedError(stop: Stop): Error {
  return Object.assign(new Error(`The execution was stopped: ${stop.error.name}`), { name: 'ExecutionStopped' });
}

/**
 * Runs the rendered ASL with aws-local-stepfunctions, each Task state mapped to its local handler,
 * within the limits Step Functions sets and the engine does not know: the workflow type's
 * duration (TIMED_OUT, States.Timeout) and the 256 KiB payload (FAILED,
 * States.DataLimitExceeded). Both stop the execution as AWS does, past every Catch.
 */
export class WorkflowRunner {
  private readonly machine: StateMachine;
  private readonly stateMachineArn: string;
  private readonly maxDurationMs: number;
  private readonly workflowType: WorkflowType;
  private sequence = 0;
  /** The executions running now: how `abortAll()` reaches them (two may share a name: a replay). */
  private readonly running = new Set<Control>();

  constructor(
    private readonly definition: AslDefinition,
    private readonly handlers: Record<string, LocalHandler>,
    private readonly options: RunnerOptions,
  ) {
    const { workflowType = contract.workflow.default_type, maxDurationMs } = options;
    if (!WORKFLOW_TYPES.includes(workflowType)) {
      throw new TypeError(`Expected one of ${WORKFLOW_TYPES.join(', ')} for workflowType but received ${String(workflowType)} of type ${typeof workflowType}`);
    }
    if (maxDurationMs !== undefined && !(Number.isFinite(maxDurationMs) && maxDurationMs > 0)) {
      throw new TypeError(`Expected a positive number of milliseconds for maxDurationMs but received ${String(maxDurationMs)} of type ${typeof maxDurationMs}`);
    }
    this.workflowType = workflowType;
    this.maxDurationMs = maxDurationMs ?? contract.workflow.max_duration_seconds[workflowType] * 1000;
    // The engine mutates the definition it is given: it gets its own copy.
    this.machine = new StateMachine(structuredClone(definition) as unknown as StateMachineDefinition, { validationOptions: { checkArn: true, checkPaths: true } });
    this.stateMachineArn = `arn:aws:states:${options.region}:${options.account}:stateMachine:${options.stateMachineName ?? 'imgflow'}`;
  }

  /**
   * Runs one execution to its end. `name` (ExecuteOptions) runs it under a given name: the same
   * name again is the same execution id, a replay of it.
   */
  async execute(event: ObjectCreatedEvent, listener: ExecutionListener = () => undefined, executeOptions: ExecuteOptions = {}): Promise<ExecutionReport> {
    this.sequence += 1;
    const { name = `${Date.now().toString(36)}-${process.pid}-${this.sequence}` } = executeOptions;
    if (typeof name !== 'string' || !NAME_PATTERN.test(name)) {
      throw new TypeError(`Expected 1 to 80 letters, digits, '-' or '_' for name but received ${String(name)} of type ${typeof name}`);
    }
    const executionId = `arn:aws:states:${this.options.region}:${this.options.account}:execution:${this.options.stateMachineName ?? 'imgflow'}:${name}`;
    const started = performance.now();
    const control: Control = { abort: () => undefined };
    /** Stops the execution past every Catch (the first reason wins): the engine enters no further state. */
    const stop = (reason: Stop) => {
      if (control.stop) return;
      control.stop = reason;
      control.abort();
    };
    const overrides: NonNullable<RunOptions['overrides']> = {
      taskResourceLocalHandlers: this.limitedHandlers(control, stop) as NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>,
    };
    if (this.options.retryPauseMs !== undefined) {
      const pause = this.options.retryPauseMs;
      overrides.retryIntervalOverrides = Object.fromEntries(
        [...taskStates(this.definition).map((task) => task.name), 'ProcessImage'].map((state) => [state, pause]),
      );
    }
    const execution = this.machine.run(event as unknown as JsonValue, {
      overrides,
      context: {
        Execution: { Id: executionId, Name: name, Input: event as unknown as JsonValue, StartTime: new Date().toISOString() },
        StateMachine: { Id: this.stateMachineArn, Name: this.options.stateMachineName ?? 'imgflow' },
      },
    });
    control.abort = execution.abort;
    this.running.add(control);
    const limit = this.maxDurationMs;
    const cancelDeadline = after(limit, () =>
      stop({
        status: 'TIMED_OUT',
        error: { name: 'States.Timeout', cause: `The execution ran longer than the ${this.workflowType} workflow's limit of ${limit / 1000} s` },
      }),
    );
    listener({ type: 'started', name, event });

    const path: string[] = [];
    const invocations: Record<string, number> = {};
    let transitions = 0;
    let retries = 0;
    let maxPayloadBytes = payloadBytes(event);
    /** Records a state input or output's size; past the limit, the execution fails. */
    const measure = (state: string, value: unknown, what: 'result' | 'input') => {
      const bytes = payloadBytes(value);
      maxPayloadBytes = Math.max(maxPayloadBytes, bytes);
      if (bytes > PAYLOAD_LIMIT_BYTES) stop(dataLimitExceeded(state, what));
    };
    const logs = (async () => {
      for await (const log of execution.eventLogs) {
        // A stopped execution reports nothing more (on AWS nothing more happens).
        if (control.stop) continue;
        if (log.type === 'StateEntered') {
          transitions += 1;
          path.push(log.state.name);
          if (log.state.type === 'Task') invocations[log.state.name] = (invocations[log.state.name] ?? 0) + 1;
          listener({ type: 'entered', name, state: log.state.name, stateType: log.state.type });
          measure(log.state.name, log.state.input, 'input');
        } else if (log.type === 'StateExited') {
          listener({ type: 'exited', name, state: log.state.name, stateType: log.state.type });
          measure(log.state.name, log.state.output, 'result');
        } else if (log.type === 'StateRetried') {
          transitions += 1;
          retries += 1;
          if (log.state.type === 'Task') invocations[log.state.name] = (invocations[log.state.name] ?? 0) + 1;
          listener({ type: 'retried', name, state: log.state.name, attempt: log.retry.attempt });
        } else if (log.type === 'StateCaught') {
          listener({ type: 'caught', name, state: log.state.name });
        }
      }
    })();

    let outcome: { output: unknown } | { failure: Error };
    try {
      outcome = { output: await execution.result };
      await logs;
    } catch (error) {
      await logs.catch(() => undefined);
      const cause = (error as { cause?: unknown }).cause;
      outcome = { failure: cause instanceof Error ? cause : (error as Error) };
    } finally {
      cancelDeadline();
      this.running.delete(control);
    }
    const common = { executionId, name, event, path, transitions, invocations, retries, maxPayloadBytes, durationMs: Math.round(performance.now() - started) };
    // A stop wins over what the engine made of it (an abort), and over a success whose last
    // output turned out too large.
    const report: ExecutionReport = control.stop
      ? { ...common, status: control.stop.status, error: control.stop.error }
      : 'output' in outcome
        ? { ...common, status: 'SUCCEEDED', output: outcome.output }
        : { ...common, status: 'FAILED', error: { name: outcome.failure.name, cause: outcome.failure.message } };
    listener({ type: 'finished', name, report });
    return report;
  }

  /**
   * The runner's handlers, each within the execution's limits: none starts once the execution
   * was stopped, and a result over the payload limit stops it (the engine never gets it, so no
   * Catch sees it). Each first lets the event-log reader catch up (it runs on promise jobs), so
   * a state input over the limit stops the execution before the Task's handler runs.
   */
  private limitedHandlers(control: Control, stop: (reason: Stop) => void): Record<string, LocalHandler> {
    return Object.fromEntries(
      Object.entries(this.handlers).map(([state, handler]) => [
        state,
        async (input: unknown) => {
          await new Promise((resolveImmediate) => setImmediate(resolveImmediate));
          const refused = control.stop ?? (payloadBytes(input) > PAYLOAD_LIMIT_BYTES ? dataLimitExceeded(state, 'input') : undefined);
          if (refused) {
            stop(refused);
            throw stoppedError(refused);
          }
          const result = await handler(input);
          if (!control.stop && payloadBytes(result) > PAYLOAD_LIMIT_BYTES) stop(dataLimitExceeded(state, 'result'));
          // Stopped meanwhile (or just now): the result is ignored, as the abort left the handler.
          if (control.stop) throw stoppedError(control.stop);
          return result;
        },
      ]),
    );
  }

  /** A runner of the same definition and handlers with some options changed (e.g. a test's scaled `maxDurationMs`). */
  withOptions(options: Partial<RunnerOptions>): WorkflowRunner {
    return new WorkflowRunner(this.definition, this.handlers, { ...this.options, ...options });
  }

  /** How many executions are running now. */
  get runningCount(): number {
    return this.running.size;
  }

  /**
   * Stops every running execution, as StopExecution does: the engine enters no further state and
   * each execution ends ABORTED with `reason` as its cause. A handler already running is not
   * killed (a promise cannot be); its result is ignored. Returns how many were stopped.
   */
  abortAll(reason = 'stopped'): number {
    const stopping = [...this.running].filter((control) => control.stop === undefined);
    for (const control of stopping) {
      control.stop = { status: 'ABORTED', error: { name: 'ExecutionAborted', cause: reason } };
      control.abort();
    }
    return stopping.length;
  }
}
