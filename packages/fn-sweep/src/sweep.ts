import { sweeper } from '@imgflow/contract';
import {
  type JobRecord,
  type JobStatus,
  type Rejection,
  type StepContext,
  type StepDeps,
  TERMINAL_STATUSES,
  bundleKeys,
  defineStep,
  notificationFromRecord,
} from '@imgflow/pipeline';
import { ExecutionAbandonedError } from './errors.js';

/** What EventBridge's schedule sends (a "Scheduled Event"); the sweeper reads nothing of it. */
export interface ScheduledEvent {
  'detail-type'?: string;
  time?: string;
}

export interface SweepOptions {
  /** The moment leases and ages are judged by. Default: the deps' clock. */
  now?: Date;
  /**
   * A finished job not notified this many seconds after its outcome was recorded gets its
   * notification from the sweeper (the notify step died between recording and publishing).
   * Default: the lease (IMGFLOW_LEASE_SECONDS), longer than any notify step's retries. The local
   * runtime at start-up passes 0: no execution of an earlier run is alive.
   */
  notifyAfterSeconds?: number;
  /**
   * How far back (seconds before `now - notifyAfterSeconds`) finished jobs are looked at:
   * every run reads the jobs finished in that window, so it is bounded. Default: one hour (a
   * dozen runs at the default schedule). Infinity: every finished job ever (local start-up).
   */
  notifyWindowSeconds?: number;
  /**
   * Whether PENDING/PROCESSING jobs past their lease are ended FAILED (default true). The local
   * runtime's start-up sweep passes false: it releases the claims of its own killed run for the
   * re-run to take over instead (JobLedger.releaseClaims).
   */
  abandonExpired?: boolean;
  /** At most this many jobs ended or notified per run; the next run takes the rest. Default: the contract's max_jobs_per_run. */
  maxJobs?: number;
  /** Index entries read per query (the listing pages through all of them). Default 100. */
  pageSize?: number;
  /** Jobs worked on at once. Default 4. */
  concurrency?: number;
  /** Stop taking new jobs when fewer milliseconds than this are left of the invocation. Default 10 000. */
  reserveMillis?: number;
}

/** One job (or one listing) the sweep could not finish; the others went on. */
export interface SweepFailure {
  /** Absent when a listing failed. */
  jobId?: string;
  stage: 'list' | 'abandon' | 'cleanup' | 'notify';
  error: string;
  message: string;
}

export interface SweepSummary {
  /** Jobs read: PENDING/PROCESSING ones, and finished ones in the notification window. */
  examined: number;
  /** Jobs ended FAILED with the abandoned reason by this run. */
  abandoned: string[];
  /** Finished jobs whose missing notification this run published (abandoned ones not counted). */
  notified: string[];
  errors: SweepFailure[];
  /** True when the run stopped at its job limit or time budget: the next run takes the rest. */
  truncated: boolean;
}

/** The seconds a sweep holds a job's notification while it publishes: a sweep that dies lets it run out. */
function notifyClaimSeconds(): number {
  return 2 * sweeper().timeout_seconds;
}

/** The FAILED reason of a job whose execution died. */
export function abandonedRejection(record: JobRecord): Rejection {
  const error = new ExecutionAbandonedError(
    `Execution ${record.executionId} stopped without recording an outcome (the workflow's time limit, or a stopped execution); its lease expired at ${record.leaseExpiresAt}`,
  );
  return { error: error.name, code: error.code, message: error.message };
}

function failure(stage: SweepFailure['stage'], error: unknown, jobId?: string): SweepFailure {
  const cause = error instanceof Error ? error : new Error(String(error));
  return { ...(jobId ? { jobId } : {}), stage, error: cause.name, message: cause.message };
}

/** Runs `work` on every item, at most `limit` at a time. */
async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    for (let index = next++; index < items.length; index = next++) await work(items[index] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/**
 * One sweep. Every step is a conditional write on what was read, so sweeps that race (two
 * scheduled runs overlapping, the local runtime's and a test's) end and notify each job once:
 *
 * 1. Every PENDING/PROCESSING job whose lease expired is ended FAILED (ExecutionAbandonedError,
 *    EXECUTION_ABANDONED) while it is still as read: same status, same owning execution, lease
 *    still expired (JobLedger.abandon). Its work objects are removed (the keys NotifyError
 *    removes, bundleKeys), job.failed is published on the error topic as NotifyError would
 *    (notificationFromRecord) and the job is marked notified.
 * 2. Every finished job (SUCCEEDED, REJECTED, FAILED) left without its notification for longer
 *    than `notifyAfterSeconds` gets it, on its topic, once (JobLedger.claimNotification).
 *
 * A failure on one job is recorded in `errors` and the sweep goes on with the others; a job
 * whose clean-up or notification failed is taken up again by a later run (the lifecycle rule on
 * the work prefix is the clean-up's backstop).
 */
export async function sweep(deps: StepDeps, options: SweepOptions = {}, context?: StepContext): Promise<SweepSummary> {
  const { config, ledger, logger } = deps;
  const now = options.now ?? deps.clock();
  const nowIso = now.toISOString();
  const maxJobs = options.maxJobs ?? sweeper().max_jobs_per_run;
  const concurrency = options.concurrency ?? 4;
  const reserveMillis = options.reserveMillis ?? 10_000;
  const summary: SweepSummary = { examined: 0, abandoned: [], notified: [], errors: [], truncated: false };
  const worked = () => summary.abandoned.length + summary.notified.length;
  const outOfBudget = () => {
    const left = context?.getRemainingTimeInMillis?.();
    if (worked() >= maxJobs || (left !== undefined && left < reserveMillis)) summary.truncated = true;
    return summary.truncated;
  };

  /** Publishes a finished job's notification on its topic and marks it notified; false when it could not. */
  const publish = async (record: JobRecord): Promise<boolean> => {
    const message = notificationFromRecord(record);
    if (!message) return false;
    try {
      await deps.notifier.publish(record.status === 'SUCCEEDED' ? config.successTopicArn : config.errorTopicArn, message);
      await ledger.markNotified(record.jobId, record.executionId);
      return true;
    } catch (error) {
      summary.errors.push(failure('notify', error, record.jobId));
      return false;
    }
  };

  const abandon = async (record: JobRecord) => {
    if (outOfBudget()) return;
    let written: JobRecord | false;
    try {
      written = await ledger.abandon(record, now, abandonedRejection(record), notifyClaimSeconds());
    } catch (error) {
      summary.errors.push(failure('abandon', error, record.jobId));
      return;
    }
    // Another sweep got there first, or a re-run claimed the job since it was read: not ours.
    if (!written) return;
    summary.abandoned.push(record.jobId);
    try {
      await deps.storage.deleteKeys(config.outputBucket, bundleKeys(config.workPrefix, record.jobId));
    } catch (error) {
      summary.errors.push(failure('cleanup', error, record.jobId));
    }
    await publish(written);
  };

  const resend = async (record: JobRecord) => {
    if (record.notified || outOfBudget()) return;
    try {
      if (!(await ledger.claimNotification(record, now, notifyClaimSeconds()))) return;
    } catch (error) {
      summary.errors.push(failure('notify', error, record.jobId));
      return;
    }
    if (await publish(record)) summary.notified.push(record.jobId);
    // A notify step that died before its clean-up left the job's work objects behind.
    try {
      await deps.storage.deleteKeys(config.outputBucket, bundleKeys(config.workPrefix, record.jobId));
    } catch (error) {
      summary.errors.push(failure('cleanup', error, record.jobId));
    }
  };

  const pass = async (status: JobStatus, window: { updatedAfter?: string; updatedBefore?: string }, work: (record: JobRecord) => Promise<void>, select: (record: JobRecord) => boolean) => {
    try {
      for await (const page of ledger.pagesByStatus(status, { ...window, pageSize: options.pageSize ?? 100 })) {
        summary.examined += page.length;
        await eachLimited(page.filter(select), concurrency, work);
        if (outOfBudget()) return;
      }
    } catch (error) {
      summary.errors.push(failure('list', error));
    }
  };

  for (const status of options.abandonExpired === false ? [] : (['PENDING', 'PROCESSING'] as const)) {
    if (outOfBudget()) break;
    await pass(status, { updatedBefore: nowIso }, abandon, (record) => record.leaseExpiresAt !== undefined && record.leaseExpiresAt < nowIso);
  }

  const notifyAfter = options.notifyAfterSeconds ?? config.leaseSeconds;
  const notifyWindow = options.notifyWindowSeconds ?? 3600;
  const newest = now.getTime() - notifyAfter * 1000;
  const window = {
    updatedBefore: new Date(newest).toISOString(),
    ...(Number.isFinite(notifyWindow) ? { updatedAfter: new Date(newest - notifyWindow * 1000).toISOString() } : {}),
  };
  for (const status of TERMINAL_STATUSES) {
    if (outOfBudget()) break;
    await pass(status, window, resend, (record) => !record.notified);
  }

  if (summary.errors.length > 0) logger.error('the sweep left jobs to a later run', { errors: summary.errors });
  logger.info('sweep summary', { examined: summary.examined, abandoned: summary.abandoned, notified: summary.notified, truncated: summary.truncated });
  return summary;
}

/** The scheduled Lambda: one sweep per invocation, its summary as the result. */
export function createSweepHandler(getDeps: () => StepDeps, options: Omit<SweepOptions, 'now'> = {}): (event?: ScheduledEvent, context?: StepContext) => Promise<SweepSummary> {
  return (event, context) => defineStep('Sweep', getDeps, (_event: ScheduledEvent | undefined, deps) => sweep(deps, options, context))(event, context);
}
