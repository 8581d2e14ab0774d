import { type CloudWatchLogsClient, paginateFilterLogEvents } from '@aws-sdk/client-cloudwatch-logs';
import {
  DescribeExecutionCommand,
  type DescribeExecutionOutput,
  DescribeStateMachineCommand,
  type HistoryEvent,
  type SFNClient,
  paginateGetExecutionHistory,
} from '@aws-sdk/client-sfn';
import { StandardOnlyError, type WorkflowType, awsCall, parseExecutionArn, parseLogGroupArn } from './aws.js';
import type { Io } from './io.js';
import { formatDuration, truncate } from './ui/format.js';
import { renderTable } from './ui/table.js';

/**
 * A deployed execution as AWS lets it be followed. Standard executions: DescribeExecution and
 * GetExecutionHistory. Express executions have neither (Step Functions keeps no history for
 * them): what there is, is the state machine's CloudWatch Logs, at the level it was deployed with.
 */

export type LogLevel = 'ALL' | 'ERROR' | 'FATAL' | 'OFF';

export interface WorkflowInfo {
  arn: string;
  name: string;
  type: WorkflowType;
  logLevel: LogLevel;
  includeExecutionData: boolean;
  /** Where the execution logs go (absent with logging OFF). */
  logGroup?: { name: string; region: string };
}

/** The state machine's type and logging (states:DescribeStateMachine). */
export async function describeWorkflow(sfn: SFNClient, stateMachineArn: string): Promise<WorkflowInfo> {
  const machine = await awsCall('states:DescribeStateMachine', `state machine ${stateMachineArn}`, () =>
    sfn.send(new DescribeStateMachineCommand({ stateMachineArn })),
  );
  const logging = machine.loggingConfiguration;
  const destination = logging?.destinations?.find((each) => each.cloudWatchLogsLogGroup?.logGroupArn)?.cloudWatchLogsLogGroup?.logGroupArn;
  const logGroup = destination ? parseLogGroupArn(destination) : undefined;
  return {
    arn: machine.stateMachineArn ?? stateMachineArn,
    name: machine.name ?? stateMachineArn.split(':').pop() ?? stateMachineArn,
    type: machine.type === 'EXPRESS' ? 'EXPRESS' : 'STANDARD',
    logLevel: (logging?.level as LogLevel | undefined) ?? 'OFF',
    includeExecutionData: logging?.includeExecutionData ?? false,
    ...(logGroup ? { logGroup } : {}),
  };
}

/** One execution history event, from GetExecutionHistory or from an Express log line. */
export interface WorkflowEvent {
  id: number;
  previousId?: number;
  type: string;
  /** Epoch milliseconds. */
  at: number;
  /** The state a *StateEntered / *StateExited event is about. */
  state?: string;
  error?: string;
  cause?: string;
}

export type ExecutionStatus = 'RUNNING' | 'SUCCEEDED' | 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** A timeline's status: NOT_LOGGED when the logging level leaves out how the execution ended. */
export type TimelineStatus = ExecutionStatus | 'NOT_LOGGED';

const END_EVENTS: Record<string, ExecutionStatus> = {
  ExecutionSucceeded: 'SUCCEEDED',
  ExecutionFailed: 'FAILED',
  ExecutionTimedOut: 'TIMED_OUT',
  ExecutionAborted: 'ABORTED',
};

function refuseExpress(executionArn: string, action: string): void {
  if (parseExecutionArn(executionArn)?.type === 'EXPRESS') {
    throw new StandardOnlyError(
      `${executionArn} is an Express execution: Step Functions serves ${action} for Standard executions only (an Express execution is followed through the job ledger and the state machine's CloudWatch Logs)`,
    );
  }
}

/** DescribeExecution of a Standard execution; an Express ARN is refused before any call. */
export async function describeStandardExecution(sfn: SFNClient, executionArn: string): Promise<DescribeExecutionOutput> {
  refuseExpress(executionArn, 'states:DescribeExecution');
  return awsCall('states:DescribeExecution', `execution ${executionArn}`, () => sfn.send(new DescribeExecutionCommand({ executionArn })));
}

function eventDetails(event: HistoryEvent): { error?: string; cause?: string } {
  for (const [key, value] of Object.entries(event)) {
    if (!key.endsWith('EventDetails') || !value || typeof value !== 'object') continue;
    const details = value as { error?: unknown; cause?: unknown };
    if (typeof details.error === 'string' || typeof details.cause === 'string') {
      return {
        ...(typeof details.error === 'string' ? { error: details.error } : {}),
        ...(typeof details.cause === 'string' ? { cause: details.cause } : {}),
      };
    }
  }
  return {};
}

export function eventFromHistory(event: HistoryEvent): WorkflowEvent {
  const state = event.stateEnteredEventDetails?.name ?? event.stateExitedEventDetails?.name;
  return {
    id: event.id ?? 0,
    ...(event.previousEventId !== undefined ? { previousId: event.previousEventId } : {}),
    type: event.type ?? 'Unknown',
    at: event.timestamp?.getTime() ?? 0,
    ...(state ? { state } : {}),
    ...eventDetails(event),
  };
}

/** The whole history of a Standard execution, every page (states:GetExecutionHistory), without input/output data. */
export async function executionHistory(sfn: SFNClient, executionArn: string): Promise<WorkflowEvent[]> {
  refuseExpress(executionArn, 'states:GetExecutionHistory');
  return awsCall('states:GetExecutionHistory', `execution ${executionArn}`, async () => {
    const events: WorkflowEvent[] = [];
    for await (const page of paginateGetExecutionHistory({ client: sfn, pageSize: 1000 }, { executionArn, includeExecutionData: false })) {
      for (const event of page.events ?? []) events.push(eventFromHistory(event));
    }
    return events;
  });
}

function numeric(value: unknown): number | undefined {
  const parsed = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : Number.NaN;
  return Number.isFinite(parsed) ? parsed : undefined;
}

/**
 * One Express execution log event (a JSON line: id, type, details, previous_event_id,
 * event_timestamp, execution_arn; the numbers come as strings), or undefined for anything else.
 */
export function eventFromLog(message: string): (WorkflowEvent & { executionArn: string }) | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(message);
  } catch {
    return undefined;
  }
  if (!parsed || typeof parsed !== 'object') return undefined;
  const line = parsed as Record<string, unknown>;
  const id = numeric(line.id);
  const at = numeric(line.event_timestamp);
  if (typeof line.type !== 'string' || typeof line.execution_arn !== 'string' || id === undefined || at === undefined) return undefined;
  const details = (line.details && typeof line.details === 'object' ? line.details : {}) as Record<string, unknown>;
  const previousId = numeric(line.previous_event_id);
  const isState = /State(Entered|Exited)$/.test(line.type);
  return {
    id,
    ...(previousId !== undefined ? { previousId } : {}),
    type: line.type,
    at,
    executionArn: line.execution_arn,
    ...(isState && typeof details.name === 'string' ? { state: details.name } : {}),
    ...(typeof details.error === 'string' ? { error: details.error } : {}),
    ...(typeof details.cause === 'string' ? { cause: details.cause } : {}),
  };
}

/**
 * The log events of one Express execution, read with FilterLogEvents (logs:FilterLogEvents) on
 * the state machine's log group. Each poll returns the events not seen before; the query starts a
 * minute before the newest event seen, because CloudWatch Logs may deliver events late and out of order.
 */
export class ExpressLogReader {
  readonly events: WorkflowEvent[] = [];
  private readonly seen = new Set<string>();
  private from: number;

  constructor(
    private readonly logs: CloudWatchLogsClient,
    readonly logGroupName: string,
    readonly executionArn: string,
    startTime: number,
  ) {
    this.from = startTime;
  }

  async poll(): Promise<WorkflowEvent[]> {
    const fresh: WorkflowEvent[] = [];
    await awsCall('logs:FilterLogEvents', `log group ${this.logGroupName}`, async () => {
      const pages = paginateFilterLogEvents(
        { client: this.logs },
        { logGroupName: this.logGroupName, startTime: this.from, filterPattern: `{ $.execution_arn = "${this.executionArn}" }` },
      );
      for await (const page of pages) {
        for (const logEvent of page.events ?? []) {
          const key = logEvent.eventId ?? `${logEvent.logStreamName}/${logEvent.timestamp}/${logEvent.message}`;
          if (this.seen.has(key)) continue;
          this.seen.add(key);
          const event = logEvent.message ? eventFromLog(logEvent.message) : undefined;
          // The filter pattern already selects the execution; the check keeps a loose pattern match out.
          if (!event || event.executionArn !== this.executionArn) continue;
          const { executionArn: _, ...rest } = event;
          fresh.push(rest);
        }
      }
    });
    fresh.sort((a, b) => a.id - b.id);
    this.events.push(...fresh);
    this.events.sort((a, b) => a.id - b.id);
    const newest = Math.max(0, ...this.events.map((event) => event.at));
    if (newest > 0) this.from = Math.max(this.from, newest - 60_000);
    return fresh;
  }
}

/** One state of an execution: when it was entered and left, its attempts and the errors it met. */
export interface StepRow {
  state: string;
  enteredAt?: number;
  exitedAt?: number;
  /** Lambda (or Task) invocations: retries are attempts - 1. */
  attempts: number;
  errors: string[];
}

export interface Timeline {
  executionArn: string;
  status: TimelineStatus;
  startedAt?: number;
  endedAt?: number;
  error?: string;
  cause?: string;
  steps: StepRow[];
  /** Events that could not be tied to a state (at log level ERROR the states' own events are not logged). */
  loose: WorkflowEvent[];
}

const ATTEMPT_EVENTS = new Set(['LambdaFunctionScheduled', 'TaskScheduled', 'ActivityScheduled']);
const FAILURE_EVENT = /(Failed|TimedOut)$/;

/** Steps, retries, failures and durations from an execution's events (history or logs). */
export function buildTimeline(executionArn: string, events: readonly WorkflowEvent[]): Timeline {
  const byId = new Map(events.map((event) => [event.id, event]));
  const steps: StepRow[] = [];
  const stepOfEntered = new Map<number, StepRow>();
  const loose: WorkflowEvent[] = [];
  const timeline: Timeline = { executionArn, status: 'RUNNING', steps, loose };

  // The state an event belongs to: the nearest *StateEntered up its previous-event chain.
  const owner = (event: WorkflowEvent): StepRow | undefined => {
    let cursor = event.previousId !== undefined ? byId.get(event.previousId) : undefined;
    for (let hops = 0; cursor && hops < 10_000; hops += 1) {
      if (cursor.type.endsWith('StateEntered')) return stepOfEntered.get(cursor.id);
      cursor = cursor.previousId !== undefined ? byId.get(cursor.previousId) : undefined;
    }
    return undefined;
  };

  for (const event of [...events].sort((a, b) => a.id - b.id)) {
    if (event.type === 'ExecutionStarted') {
      timeline.startedAt = event.at;
      continue;
    }
    const end = END_EVENTS[event.type];
    if (end) {
      timeline.status = end;
      timeline.endedAt = event.at;
      if (event.error) timeline.error = event.error;
      if (event.cause) timeline.cause = event.cause;
      continue;
    }
    if (event.type.endsWith('StateEntered') && event.state) {
      const step: StepRow = { state: event.state, enteredAt: event.at, attempts: 0, errors: [] };
      steps.push(step);
      stepOfEntered.set(event.id, step);
      continue;
    }
    const step = owner(event);
    if (event.type.endsWith('StateExited')) {
      const exited = step ?? [...steps].reverse().find((each) => each.state === event.state && each.exitedAt === undefined);
      if (exited) exited.exitedAt = event.at;
      continue;
    }
    if (ATTEMPT_EVENTS.has(event.type) && step) step.attempts += 1;
    if (FAILURE_EVENT.test(event.type)) {
      const what = event.error ?? event.type;
      if (step) step.errors.push(what);
      else loose.push(event);
    }
  }
  return timeline;
}

/** "entered ResizeImage", "ResizeImage: LambdaFunctionFailed ImageProcessingError", "execution TIMED_OUT": one progress line per event. */
export function describeEvent(event: WorkflowEvent): string | undefined {
  const end = END_EVENTS[event.type];
  if (end) return `execution ${end}${event.error ? `: ${event.error}` : ''}`;
  if (event.type.endsWith('StateEntered')) return `entered ${event.state ?? '?'}`;
  if (event.type.endsWith('StateExited')) return `left ${event.state ?? '?'}`;
  if (FAILURE_EVENT.test(event.type)) return `${event.type}${event.error ? ` ${event.error}` : ''}${event.cause ? `: ${truncate(event.cause, 160)}` : ''}`;
  return undefined;
}

function countErrors(errors: readonly string[]): string {
  const counts = new Map<string, number>();
  for (const error of errors) counts.set(error, (counts.get(error) ?? 0) + 1);
  return [...counts].map(([error, count]) => (count > 1 ? `${error} ×${count}` : error)).join(', ');
}

function outcomeOf(step: StepRow): string {
  if (step.exitedAt === undefined) return step.errors.length > 0 ? `failed: ${countErrors(step.errors)}` : 'not left';
  return step.errors.length > 0 ? `ok after ${countErrors(step.errors)}` : 'ok';
}

/** The execution's line and its steps as a table: offset from the start, duration, attempts, outcome. */
export function renderTimeline(io: Io, timeline: Timeline): string {
  const origin = timeline.startedAt ?? timeline.steps[0]?.enteredAt ?? timeline.loose[0]?.at;
  const took = timeline.startedAt !== undefined && timeline.endedAt !== undefined ? ` in ${formatDuration(timeline.endedAt - timeline.startedAt)}` : '';
  const failure = timeline.error || timeline.cause ? ` (${truncate(`${timeline.error ?? ''}${timeline.cause ? `: ${timeline.cause}` : ''}`, 300)})` : '';
  const lines = [`execution ${timeline.executionArn}: ${timeline.status}${took}${failure}`];
  const offset = (at: number | undefined) => (at === undefined || origin === undefined ? '-' : `+${formatDuration(at - origin)}`);
  if (timeline.steps.length > 0) {
    lines.push(
      renderTable(
        io,
        { head: ['State', 'Entered', 'Duration', 'Attempts', 'Outcome'], wrapLast: 30 },
        timeline.steps.map((step) => [
          step.state,
          offset(step.enteredAt),
          step.enteredAt !== undefined && step.exitedAt !== undefined ? formatDuration(step.exitedAt - step.enteredAt) : '-',
          step.attempts > 0 ? String(step.attempts) : '-',
          outcomeOf(step),
        ]),
      ),
    );
  }
  if (timeline.loose.length > 0) {
    lines.push(
      renderTable(
        io,
        { head: ['At', 'Event', 'Error'], wrapLast: 30 },
        // Without the execution's start (not logged below level ALL) the clock time says more than an offset.
        timeline.loose.map((event) => [timeline.startedAt === undefined ? `${new Date(event.at).toISOString().slice(11, 23)}Z` : offset(event.at), event.type, truncate(`${event.error ?? ''}${event.cause ? `: ${event.cause}` : ''}`, 300)]),
      ),
    );
  }
  return lines.join('\n');
}

/** What the logs can and cannot show at a logging level, said plainly. */
export function loggingNote(info: WorkflowInfo): string | undefined {
  if (info.logLevel === 'OFF' || !info.logGroup) {
    return `execution logging is OFF for ${info.name}: following the job ledger alone (deploy the workflow with log_level = "ALL" for a step timeline)`;
  }
  if (info.logLevel === 'ERROR' || info.logLevel === 'FATAL') {
    return `execution logging of ${info.name} is at level ${info.logLevel}: its logs hold ${info.logLevel === 'ERROR' ? 'failures only' : 'only executions that failed, timed out or were aborted'}, so there is no step-by-step timeline; the job ledger says how the job ended`;
  }
  return undefined;
}
