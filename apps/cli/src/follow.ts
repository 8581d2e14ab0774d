import { setTimeout as sleep } from 'node:timers/promises';
import { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import { SFNClient } from '@aws-sdk/client-sfn';
import { type JobLedger, type JobRecord, TERMINAL_STATUSES } from '@imgflow/pipeline';
import { UsageError } from './errors.js';
import { type WorkflowType, awsCall, parseExecutionArn, parseStateMachineArn } from './aws.js';
import { type Io, println } from './io.js';
import { FollowProgress } from './ui/progress.js';
import {
  type ExecutionStatus,
  ExpressLogReader,
  type Timeline,
  type TimelineStatus,
  type WorkflowInfo,
  buildTimeline,
  describeEvent,
  describeStandardExecution,
  describeWorkflow,
  executionHistory,
  loggingNote,
  renderTimeline,
} from './workflow.js';

/** A deployment's state machine, described, with the clients to follow its executions. */
export interface Workflow {
  info: WorkflowInfo;
  sfn: SFNClient;
  logs?: CloudWatchLogsClient;
  close(): void;
}

/** The state machine ARN from --state-machine-arn or $IMGFLOW_STATE_MACHINE_ARN, checked; undefined when neither is set. */
export function stateMachineArnOption(option: string | undefined, env: NodeJS.ProcessEnv | undefined): string | undefined {
  const arn = option ?? env?.IMGFLOW_STATE_MACHINE_ARN;
  if (arn === undefined || arn === '') return undefined;
  if (!parseStateMachineArn(arn)) {
    const hint = parseExecutionArn(arn) ? ' (that is an execution ARN: give its state machine)' : '';
    throw new UsageError(`--state-machine-arn must be a state machine ARN (arn:aws:states:<region>:<account>:stateMachine:<name>), got ${JSON.stringify(arn)}${hint}`);
  }
  return arn;
}

/**
 * Describes the state machine (its type and logging decide how an execution can be followed).
 * Step Functions and CloudWatch Logs are called in the regions of their ARNs.
 */
export async function openWorkflow(stateMachineArn: string): Promise<Workflow> {
  const region = parseStateMachineArn(stateMachineArn)?.region;
  const sfn = new SFNClient({ ...(region ? { region } : {}) });
  try {
    const info = await describeWorkflow(sfn, stateMachineArn);
    const logs = info.logGroup && info.logLevel !== 'OFF' ? new CloudWatchLogsClient({ region: info.logGroup.region }) : undefined;
    return {
      info,
      sfn,
      ...(logs ? { logs } : {}),
      close() {
        sfn.destroy();
        logs?.destroy();
      },
    };
  } catch (error) {
    sfn.destroy();
    throw error;
  }
}

/** Follows one execution as its workflow type allows; `poll` returns the progress lines of what is new. */
interface ExecutionTracker {
  readonly type: WorkflowType;
  readonly executionArn: string;
  status: ExecutionStatus;
  poll(): Promise<string[]>;
  timeline(): Promise<Timeline | undefined>;
  /** Where the timeline comes from, for its heading. */
  readonly source: string;
}

class StandardTracker implements ExecutionTracker {
  readonly type = 'STANDARD';
  status: ExecutionStatus = 'RUNNING';
  readonly source = 'GetExecutionHistory';

  constructor(
    private readonly sfn: SFNClient,
    readonly executionArn: string,
  ) {}

  async poll(): Promise<string[]> {
    const execution = await describeStandardExecution(this.sfn, this.executionArn);
    // PENDING_REDRIVE: the execution failed and may be redriven; it is not running.
    const status: ExecutionStatus = execution.status === 'PENDING_REDRIVE' ? 'FAILED' : ((execution.status as ExecutionStatus | undefined) ?? 'RUNNING');
    if (status === this.status) return [];
    this.status = status;
    return [`execution ${status}${execution.error ? `: ${execution.error}` : ''}`];
  }

  async timeline(): Promise<Timeline> {
    return buildTimeline(this.executionArn, await executionHistory(this.sfn, this.executionArn));
  }
}

class ExpressTracker implements ExecutionTracker {
  readonly type = 'EXPRESS';
  status: ExecutionStatus = 'RUNNING';
  readonly source: string;

  constructor(
    private readonly reader: ExpressLogReader,
    readonly executionArn: string,
    /** At level ALL every event is logged; below it, a successful end never is. */
    readonly complete: boolean,
  ) {
    this.source = `CloudWatch Logs ${reader.logGroupName}`;
  }

  async poll(): Promise<string[]> {
    const fresh = await this.reader.poll();
    this.status = buildTimeline(this.executionArn, this.reader.events).status as ExecutionStatus;
    return fresh.map(describeEvent).filter((line): line is string => line !== undefined);
  }

  async timeline(): Promise<Timeline | undefined> {
    if (this.reader.events.length === 0) return undefined;
    const timeline = buildTimeline(this.executionArn, this.reader.events);
    return !this.complete && timeline.status === 'RUNNING' ? { ...timeline, status: 'NOT_LOGGED' } : timeline;
  }
}

/**
 * A tracker for the execution a ledger record names, or the reason there is none: the record's
 * execution ARN decides Standard or Express (DescribeExecution is never called for an Express one).
 */
function trackerFor(workflow: Workflow, record: JobRecord): { tracker?: ExecutionTracker; note?: string } {
  const execution = parseExecutionArn(record.executionId);
  if (!execution) return { note: `the job's execution ${record.executionId} is not a Step Functions execution ARN: following the ledger alone` };
  if (execution.stateMachineName !== workflow.info.name) {
    return { note: `job ${record.jobId} ran on state machine ${execution.stateMachineName}, not ${workflow.info.name}: its execution is not followed` };
  }
  if (execution.type !== workflow.info.type) {
    return { note: `execution ${record.executionId} is ${execution.type} but ${workflow.info.name} is ${workflow.info.type} now (redeployed?): following the ledger alone` };
  }
  if (execution.type === 'STANDARD') return { tracker: new StandardTracker(workflow.sfn, record.executionId) };
  const note = loggingNote(workflow.info);
  if (!workflow.logs || !workflow.info.logGroup || workflow.info.logLevel === 'OFF') return note ? { note } : {};
  // The execution starts before its validation claims the job: a minute of slack before the record's creation.
  const since = Date.parse(record.createdAt) - 60_000;
  const reader = new ExpressLogReader(workflow.logs, workflow.info.logGroup.name, record.executionId, Number.isFinite(since) ? since : Date.now() - 3_600_000);
  return { tracker: new ExpressTracker(reader, record.executionId, workflow.info.logLevel === 'ALL'), ...(note ? { note } : {}) };
}

const ENDED: readonly ExecutionStatus[] = ['SUCCEEDED', 'FAILED', 'TIMED_OUT', 'ABORTED'];

/**
 * The execution ended without recording the job (a timeout or abort stops it before its Catch
 * can run): the ledger keeps PENDING/PROCESSING until the sweeper marks it FAILED after its lease.
 */
export function staleLedgerNote(record: JobRecord | undefined, status: TimelineStatus, now = Date.now()): string | undefined {
  if (!record || TERMINAL_STATUSES.includes(record.status) || !(ENDED as readonly string[]).includes(status)) return undefined;
  const lease = record.leaseExpiresAt ? Date.parse(record.leaseExpiresAt) : Number.NaN;
  const when = Number.isFinite(lease)
    ? lease > now
      ? `within ${Math.max(1, Math.ceil((lease - now) / 60_000))} minutes (its lease ends ${new Date(lease).toISOString()})`
      : 'at its next run (the lease has expired)'
    : 'once its lease expires';
  return `the execution ended ${status} but the ledger still says ${record.status}: the job is ${status === 'TIMED_OUT' ? 'timed out' : status.toLowerCase()}, and the ledger will be swept (recorded FAILED) ${when}`;
}

export interface FollowOptions {
  command: string;
  ledger: JobLedger;
  jobId: string;
  deadline: number;
  /** Milliseconds between reads at first; it backs off to `maxInterval` while nothing changes. */
  interval: number;
  maxInterval?: number;
  io: Io;
  workflow?: Workflow;
  /** What to suggest on interruption. */
  resumeHint: string;
}

export type FollowEnd = 'ledger' | 'execution' | 'timeout' | 'interrupted';

export interface FollowResult {
  end: FollowEnd;
  record?: JobRecord;
  timeline?: Timeline;
  /** The execution's status, when it was followed. */
  executionStatus?: ExecutionStatus;
  tracker?: { type: WorkflowType; source: string };
}

/**
 * Reads the job ledger (and, given the workflow, the execution) until the job ends, the execution
 * ends without the ledger recording it, the deadline passes, or the signal aborts. A failure to
 * read the execution is said once; the ledger, which says how the job ended, is followed on.
 */
export async function followJob(options: FollowOptions): Promise<FollowResult> {
  const { io, ledger, jobId, workflow } = options;
  const progress = new FollowProgress(io);
  const maxInterval = options.maxInterval ?? Math.max(options.interval, 5000);
  let delay = options.interval;
  let tracker: ExecutionTracker | undefined;
  let trackerChecked = false;
  let record: JobRecord | undefined;
  const result = (end: FollowEnd): FollowResult => ({
    end,
    ...(record ? { record } : {}),
    ...(tracker ? { executionStatus: tracker.status, tracker: { type: tracker.type, source: tracker.source } } : {}),
  });
  const pollTracker = async (): Promise<boolean> => {
    if (!tracker) return false;
    try {
      const lines = await tracker.poll();
      for (const line of lines) progress.setStep(line);
      return lines.length > 0;
    } catch (error) {
      progress.note(`imgflow ${options.command}: cannot follow the execution: ${(error as Error).message}; following the ledger alone`);
      tracker = undefined;
      return false;
    }
  };
  try {
    for (;;) {
      let changed = false;
      const before = record?.status;
      record = await awsCall('dynamodb:GetItem', `the jobs table`, () => ledger.get(jobId));
      const status = record?.status ?? 'WAITING';
      changed ||= status !== before;
      progress.setStatus(`${status}${record ? '' : ' (no ledger record yet)'}`);
      if (record && workflow && !trackerChecked) {
        trackerChecked = true;
        const found = trackerFor(workflow, record);
        if (found.note) progress.note(`imgflow ${options.command}: ${found.note}`);
        tracker = found.tracker;
      }
      changed = (await pollTracker()) || changed;
      if (record && TERMINAL_STATUSES.includes(record.status)) {
        await settle(tracker, options, pollTracker);
        return { ...result('ledger'), ...(tracker ? { timeline: await timelineOf(tracker, progress, options.command) } : {}) };
      }
      if (tracker && ENDED.includes(tracker.status)) {
        // The execution is over but the job is not recorded: one more read, in case the record was being written.
        record = (await awsCall('dynamodb:GetItem', 'the jobs table', () => ledger.get(jobId))) ?? record;
        if (record) progress.setStatus(record.status);
        return { ...result('execution'), timeline: await timelineOf(tracker, progress, options.command) };
      }
      if (io.signal?.aborted) {
        progress.note(`imgflow ${options.command}: interrupted; the job goes on: ${options.resumeHint}`);
        return result('interrupted');
      }
      if (Date.now() >= options.deadline) return result('timeout');
      delay = changed ? options.interval : Math.min(maxInterval, Math.round(delay * 1.5));
      await sleep(Math.min(delay, Math.max(0, options.deadline - Date.now())), undefined, io.signal ? { signal: io.signal } : {}).catch(() => undefined);
    }
  } finally {
    progress.end();
  }
}

/**
 * The ledger is written by the last state, a moment before the execution ends (and CloudWatch
 * Logs delivers Express events seconds late): a few more reads, within the deadline, for the end.
 */
async function settle(tracker: ExecutionTracker | undefined, options: FollowOptions, poll: () => Promise<boolean>): Promise<void> {
  const until = Math.min(options.deadline, Date.now() + Math.max(10_000, options.interval * 5));
  let wait = Math.max(10, Math.min(options.interval, 1000));
  while (tracker && !ENDED.includes(tracker.status) && Date.now() < until && !options.io.signal?.aborted) {
    await sleep(Math.min(wait, Math.max(0, until - Date.now())));
    await poll();
    wait = Math.min(2000, wait * 2);
    // Below level ALL a successful end is never logged: one more read for late failures is all there is to wait for.
    if (tracker instanceof ExpressTracker && !tracker.complete) break;
  }
}

async function timelineOf(tracker: ExecutionTracker, progress: FollowProgress, command: string): Promise<Timeline | undefined> {
  try {
    return await tracker.timeline();
  } catch (error) {
    progress.note(`imgflow ${command}: cannot read the execution's history: ${(error as Error).message}`);
    return undefined;
  }
}

/** One read of a job's execution (for `imgflow status --remote`): its timeline, or why there is none. */
export async function readExecution(workflow: Workflow, record: JobRecord): Promise<{ timeline?: Timeline; notes: string[]; source?: string }> {
  const { tracker, note } = trackerFor(workflow, record);
  const notes = note ? [note] : [];
  if (!tracker) return { notes };
  await tracker.poll();
  const timeline = await tracker.timeline();
  if (!timeline && tracker.type === 'EXPRESS') notes.push(`no log events for ${record.executionId} in ${tracker.source} (yet: CloudWatch Logs delivers them seconds late)`);
  return { ...(timeline ? { timeline } : {}), notes, source: tracker.source };
}

/** The timeline, its source, and the stale-ledger verdict, as `submit` and `status` print them. */
export function printExecution(io: Io, record: JobRecord | undefined, timeline: Timeline | undefined, source: string | undefined): void {
  if (!timeline) return;
  println(io.stdout, `${renderTimeline(io, timeline)}`);
  if (source) println(io.stdout, `(from ${source}${timeline.status === 'RUNNING' ? '; still running' : ''})`);
  const stale = staleLedgerNote(record, timeline.status);
  if (stale) println(io.stdout, stale);
}
