import type { JobRecord, Timings } from '@imgflow/pipeline';
import type { ExecutionHistory } from './history.js';

/** One state's time in an execution. */
export interface TimelineBar {
  state: string;
  stateType?: string;
  /** Milliseconds from the execution's start. */
  start: number;
  end: number;
  /** When each retry of the state happened (ms from the start). */
  retries: number[];
  /** Set when the state ended in an error (caught, or the execution failed in it). */
  error?: string;
  /** Still running (an execution in flight). */
  running?: boolean;
}

export interface Timeline {
  /** 'execution': the local engine's recorded history; 'timings': the ledger's per-step handler times. */
  source: 'execution' | 'timings';
  execution?: string;
  status?: string;
  error?: { name: string; cause: string };
  totalMs: number;
  bars: TimelineBar[];
}

/** The bars of a recorded execution, in the order its states were entered. */
export function timelineFromHistory(history: ExecutionHistory, now?: number): Timeline {
  const bars: TimelineBar[] = [];
  const open = new Map<string, TimelineBar>();
  let last = 0;
  for (const event of history.events) {
    last = Math.max(last, event.at);
    const bar = open.get(event.state);
    if (event.type === 'entered') {
      // A retried state may be entered again: it stays one bar, with its retries marked.
      if (bar) continue;
      const created: TimelineBar = { state: event.state, ...(event.stateType ? { stateType: event.stateType } : {}), start: event.at, end: event.at, retries: [] };
      bars.push(created);
      open.set(event.state, created);
    } else if (bar && event.type === 'retried') {
      bar.retries.push(event.at);
    } else if (bar && event.type === 'exited') {
      bar.end = event.at;
      open.delete(event.state);
    } else if (bar && event.type === 'caught') {
      bar.end = event.at;
      bar.error = 'caught';
      open.delete(event.state);
    }
  }
  const running = history.status === undefined;
  const totalMs = Math.max(last, history.durationMs ?? (running && now !== undefined ? now - Date.parse(history.startedAt) : last));
  for (const bar of open.values()) {
    bar.end = totalMs;
    if (running) bar.running = true;
    else if (history.status !== 'SUCCEEDED') bar.error = history.error?.name ?? history.status ?? 'failed';
  }
  return {
    source: 'execution',
    execution: history.execution,
    ...(history.status ? { status: history.status } : {}),
    ...(history.error ? { error: history.error } : {}),
    totalMs,
    bars,
  };
}

/**
 * The bars the ledger's per-step timings allow (what works on AWS, EXPRESS included): handler
 * times laid out as the workflow runs them (validate; resize beside filter; optimize; notify).
 * Gaps between states are not recorded there, so the bars touch.
 */
export function timelineFromTimings(record: Pick<JobRecord, 'timings' | 'status' | 'reasonCode'>): Timeline {
  const timings: Timings = record.timings ?? {};
  const bars: TimelineBar[] = [];
  let at = 0;
  const add = (state: string, millis: number | undefined, start: number, stateType = 'Task'): number => {
    if (millis === undefined) return start;
    bars.push({ state, stateType, start, end: start + millis, retries: [] });
    return start + millis;
  };
  at = add('ValidateImage', timings.validate, at);
  if (timings.resize !== undefined || timings.filter !== undefined) {
    const branches = Math.max(timings.resize ?? 0, timings.filter ?? 0);
    bars.push({ state: 'ProcessImage', stateType: 'Parallel', start: at, end: at + branches, retries: [] });
    add('ResizeImage', timings.resize, at);
    add('ApplyFilters', timings.filter, at);
    at += branches;
  }
  at = add('OptimizeImage', timings.optimize, at);
  at = add(record.status === 'SUCCEEDED' ? 'NotifySuccess' : 'NotifyError', timings.notify, at);
  if (record.status === 'FAILED' && bars.length > 0) (bars[bars.length - 1] as TimelineBar).error = record.reasonCode ?? 'FAILED';
  return { source: 'timings', status: record.status, totalMs: at, bars };
}
