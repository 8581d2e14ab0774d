import { performance } from 'node:perf_hooks';
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

export interface ExecutionReport {
  executionId: string;
  name: string;
  event: ObjectCreatedEvent;
  /** As Step Functions reports it; ABORTED is an execution stopped by `abortAll()` (StopExecution). */
  status: 'SUCCEEDED' | 'FAILED' | 'ABORTED';
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
}

function payloadBytes(value: unknown): number {
  return value === undefined ? 0 : Buffer.byteLength(JSON.stringify(value));
}

/** Runs the rendered ASL with aws-local-stepfunctions, each Task state mapped to its local handler. */
export class WorkflowRunner {
  private readonly machine: StateMachine;
  private readonly stateMachineArn: string;
  private sequence = 0;
  /** The executions running now, by name: how `abortAll()` reaches them. */
  private readonly running = new Map<string, { abort: () => void; reason?: string }>();

  constructor(
    private readonly definition: AslDefinition,
    private readonly handlers: Record<string, LocalHandler>,
    private readonly options: RunnerOptions,
  ) {
    // The engine mutates the definition it is given: it gets its own copy.
    this.machine = new StateMachine(structuredClone(definition) as unknown as StateMachineDefinition, { validationOptions: { checkArn: true, checkPaths: true } });
    this.stateMachineArn = `arn:aws:states:${options.region}:${options.account}:stateMachine:${options.stateMachineName ?? 'imgflow'}`;
  }

  async execute(event: ObjectCreatedEvent, listener: ExecutionListener = () => undefined): Promise<ExecutionReport> {
    this.sequence += 1;
    const name = `${Date.now().toString(36)}-${process.pid}-${this.sequence}`;
    const executionId = `arn:aws:states:${this.options.region}:${this.options.account}:execution:${this.options.stateMachineName ?? 'imgflow'}:${name}`;
    const started = performance.now();
    const overrides: NonNullable<RunOptions['overrides']> = {
      taskResourceLocalHandlers: this.handlers as NonNullable<NonNullable<RunOptions['overrides']>['taskResourceLocalHandlers']>,
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
    const control: { abort: () => void; reason?: string } = { abort: execution.abort };
    this.running.set(name, control);
    listener({ type: 'started', name, event });

    const path: string[] = [];
    const invocations: Record<string, number> = {};
    let transitions = 0;
    let retries = 0;
    let maxPayloadBytes = payloadBytes(event);
    const logs = (async () => {
      for await (const log of execution.eventLogs) {
        if (log.type === 'StateEntered') {
          transitions += 1;
          path.push(log.state.name);
          if (log.state.type === 'Task') invocations[log.state.name] = (invocations[log.state.name] ?? 0) + 1;
          maxPayloadBytes = Math.max(maxPayloadBytes, payloadBytes(log.state.input));
          listener({ type: 'entered', name, state: log.state.name, stateType: log.state.type });
        } else if (log.type === 'StateExited') {
          maxPayloadBytes = Math.max(maxPayloadBytes, payloadBytes(log.state.output));
          listener({ type: 'exited', name, state: log.state.name, stateType: log.state.type });
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

    let report: ExecutionReport;
    const base = { executionId, name, event };
    try {
      const output = await execution.result;
      await logs;
      report = { ...base, status: 'SUCCEEDED', output, path, transitions, invocations, retries, maxPayloadBytes, durationMs: Math.round(performance.now() - started) };
    } catch (error) {
      await logs.catch(() => undefined);
      const cause = (error as { cause?: unknown }).cause;
      const failure = cause instanceof Error ? cause : (error as Error);
      const aborted = control.reason !== undefined;
      report = {
        ...base,
        status: aborted ? 'ABORTED' : 'FAILED',
        error: aborted ? { name: 'ExecutionAborted', cause: control.reason as string } : { name: failure.name, cause: failure.message },
        path,
        transitions,
        invocations,
        retries,
        maxPayloadBytes,
        durationMs: Math.round(performance.now() - started),
      };
    }
    this.running.delete(name);
    listener({ type: 'finished', name, report });
    return report;
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
    const stopping = [...this.running.values()].filter((control) => control.reason === undefined);
    for (const control of stopping) {
      control.reason = reason;
      control.abort();
    }
    return stopping.length;
  }
}
