import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { ExecutionListener, ExecutionReport, ExecutionUpdate } from '@imgflow/local-runtime';
import { jobIdFor, objectFromEvent } from '@imgflow/pipeline';
import { jobIdOfReport } from '../executions.js';

/** One event of an execution, `at` milliseconds after it started. */
export interface HistoryEvent {
  at: number;
  type: 'entered' | 'exited' | 'retried' | 'caught';
  state: string;
  stateType?: string;
  attempt?: number;
}

/**
 * What the local engine reports of one execution, time-stamped as it happens: the runner's
 * updates carry no clock, so the recorder stamps them on arrival (they come on promise jobs,
 * within a millisecond or so of the engine's own).
 */
export interface ExecutionHistory {
  execution: string;
  jobId?: string;
  sourceKey: string;
  startedAt: string;
  status?: ExecutionReport['status'];
  error?: { name: string; cause: string };
  durationMs?: number;
  events: HistoryEvent[];
}

/** How many executions of one job are kept (a re-run or a redelivery adds one). */
const KEPT_PER_JOB = 5;
const JOB_ID = /^[0-9a-f]{32}$/;

/** Where the histories of a data folder live: `<data>/executions/<jobId>.json`. */
export function historyDir(dataDir: string): string {
  return join(dataDir, 'executions');
}

function jobOfEvent(event: ExecutionReport['event']): string | undefined {
  try {
    return jobIdFor(objectFromEvent(event));
  } catch {
    return undefined;
  }
}

/**
 * Records every execution the trigger starts (attach `listener` with `stack.enableTrigger`) and
 * writes each finished one to the data folder, so `imgflow console` shows its timeline later.
 */
export class ExecutionRecorder {
  private readonly running = new Map<string, { started: number; history: ExecutionHistory }>();
  private readonly writes = new Set<Promise<void>>();
  /** Serializes the writes of one job's file. */
  private readonly queues = new Map<string, Promise<void>>();

  constructor(private readonly dataDir: string) {}

  readonly listener: ExecutionListener = (update: ExecutionUpdate) => {
    const now = Date.now();
    if (update.type === 'started') {
      const jobId = jobOfEvent(update.event);
      this.running.set(update.name, {
        started: now,
        history: { execution: update.name, ...(jobId ? { jobId } : {}), sourceKey: update.event.detail.object.key, startedAt: new Date(now).toISOString(), events: [] },
      });
      return;
    }
    const entry = this.running.get(update.name);
    if (!entry) return;
    const at = now - entry.started;
    if (update.type === 'entered' || update.type === 'exited') entry.history.events.push({ at, type: update.type, state: update.state, stateType: update.stateType });
    else if (update.type === 'retried') entry.history.events.push({ at, type: 'retried', state: update.state, attempt: update.attempt });
    else if (update.type === 'caught') entry.history.events.push({ at, type: 'caught', state: update.state });
    else if (update.type === 'finished') {
      this.running.delete(update.name);
      const { report } = update;
      const jobId = jobIdOfReport(report) ?? entry.history.jobId;
      const history: ExecutionHistory = {
        ...entry.history,
        ...(jobId ? { jobId } : {}),
        status: report.status,
        ...(report.error ? { error: report.error } : {}),
        durationMs: report.durationMs,
      };
      if (jobId && JOB_ID.test(jobId)) this.persist(jobId, history);
    }
  };

  /** Executions still running for a job (their events so far). */
  inFlight(jobId: string): ExecutionHistory[] {
    return [...this.running.values()].filter((entry) => entry.history.jobId === jobId).map((entry) => structuredClone(entry.history));
  }

  private persist(jobId: string, history: ExecutionHistory): void {
    const previous = this.queues.get(jobId) ?? Promise.resolve();
    const write = previous.then(async () => {
      const kept = [...(await readHistories(this.dataDir, jobId)), history].slice(-KEPT_PER_JOB);
      const dir = historyDir(this.dataDir);
      await mkdir(dir, { recursive: true });
      const file = join(dir, `${jobId}.json`);
      // Written aside and renamed: a reader (the console) never sees half a file.
      await writeFile(`${file}.tmp`, JSON.stringify(kept));
      await rename(`${file}.tmp`, file);
    });
    const settled = write.catch(() => undefined);
    this.queues.set(jobId, settled);
    this.writes.add(settled);
    void settled.finally(() => {
      this.writes.delete(settled);
      if (this.queues.get(jobId) === settled) this.queues.delete(jobId);
    });
  }

  /** Resolves once every finished execution is on disk. */
  async flush(): Promise<void> {
    while (this.writes.size > 0) await Promise.all([...this.writes]);
  }
}

/** The recorded executions of a job, oldest first; none when nothing was recorded (or the id is not a job id). */
export async function readHistories(dataDir: string, jobId: string): Promise<ExecutionHistory[]> {
  if (!JOB_ID.test(jobId)) return [];
  try {
    const parsed: unknown = JSON.parse(await readFile(join(historyDir(dataDir), `${jobId}.json`), 'utf8'));
    return Array.isArray(parsed) ? (parsed as ExecutionHistory[]) : [];
  } catch {
    return [];
  }
}
