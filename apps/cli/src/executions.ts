import { createHash } from 'node:crypto';
import { worstCaseSeconds } from '@imgflow/contract';
import type { ExecutionReport, ExecutionUpdate } from '@imgflow/local-runtime';
import { jobIdFor, objectFromEvent } from '@imgflow/pipeline';

/** What became of the execution an upload should have started. */
export type ExecutionOutcome =
  | { kind: 'finished'; report: ExecutionReport }
  /** No execution started for the upload within the start timeout (the trigger dropped or refused its event). */
  | { kind: 'not-started'; waitedMs: number }
  /** The execution started but did not end within the execution timeout (last resort: it is still running). */
  | { kind: 'timed-out'; waitedMs: number; execution: string; lastState?: string }
  /** The run was stopped (SIGINT/SIGTERM) before the execution ended. */
  | { kind: 'interrupted'; execution?: string; lastState?: string };

/** The upload as its Object Created event should describe it. */
export interface UploadedObject {
  key: string;
  /** MD5 of the body in hex: the ETag S3 gives a single-part PUT. */
  etag: string;
  size: number;
}

export interface TrackerLimits {
  /** How long after its PUT returned an upload may go without an execution. */
  startTimeoutMs: number;
  /** How long a started execution may run before the wait for it gives up. */
  executionTimeoutMs: number;
}

/** The local trigger starts an execution while S3 handles the PUT: a few seconds is ample. */
export const DEFAULT_START_TIMEOUT_MS = 15_000;

/**
 * The longest an execution can take (the contract's `worstCaseSeconds()`: every attempt of every
 * Task to its TimeoutSeconds and every retry pause at full length, the rule the workflow module
 * checks at plan), plus a minute: past this, the wait for it ends with a row saying it is still
 * running, never a hang.
 */
export function executionTimeoutMs(): number {
  return (worstCaseSeconds() + 60) * 1000;
}

export function md5Hex(body: Buffer): string {
  return createHash('md5').update(body).digest('hex');
}

/** `+` as a space, then `%XX`: S3's notification encoding, which a trigger may apply or undo. */
function formDecoded(key: string): string | undefined {
  try {
    return decodeURIComponent(key.replace(/\+/g, ' '));
  } catch {
    return undefined;
  }
}

function formEncoded(key: string): string {
  return encodeURIComponent(key).replace(/%2F/g, '/').replace(/%20/g, '+');
}

/** Whether an event key can stand for the uploaded key through S3's event-key encoding, either way. */
export function keysCorrespond(uploaded: string, eventKey: string): boolean {
  return uploaded === eventKey || formDecoded(uploaded) === eventKey || formDecoded(eventKey) === uploaded || formEncoded(uploaded) === eventKey;
}

function plainEtag(etag: string | undefined): string {
  return (etag ?? '').replace(/"/g, '').toLowerCase();
}

/** One upload waiting for its execution to end. */
export class Expectation {
  /** The execution attributed to this upload, once one started. */
  execution?: string;
  /** The Task state it was last seen in (for a message when it is cut short). */
  lastState?: string;
  readonly outcome: Promise<ExecutionOutcome>;
  private resolveOutcome!: (outcome: ExecutionOutcome) => void;
  private timer?: NodeJS.Timeout;
  private waitingSince = 0;
  settled = false;

  constructor(readonly object: UploadedObject) {
    this.outcome = new Promise((resolve) => {
      this.resolveOutcome = resolve;
    });
  }

  settle(outcome: ExecutionOutcome): void {
    if (this.settled) return;
    this.settled = true;
    clearTimeout(this.timer);
    this.resolveOutcome(outcome);
  }

  /** (Re)starts the one timer: when it fires, `onTimeout` settles the expectation. */
  arm(ms: number, onTimeout: (waitedMs: number) => ExecutionOutcome): void {
    if (this.settled) return;
    clearTimeout(this.timer);
    this.waitingSince = Date.now();
    this.timer = setTimeout(() => this.settle(onTimeout(Date.now() - this.waitingSince)), ms);
    this.timer.unref();
  }
}

/**
 * Matches the executions the trigger starts to the uploads of this run, and ends every wait:
 * an execution is attributed to an upload by its event's key, or, when the trigger wrote the key
 * differently (URL-encoded or decoded: `+`, `%`), by ETag and size. Each upload's wait ends with
 * its execution's report, or after a bounded time with a reason, or when the run is interrupted:
 * never by waiting for a key that may never come.
 */
export class ExecutionTracker {
  private readonly waiting = new Set<Expectation>();
  private readonly byExecution = new Map<string, Expectation>();
  /** Executions of this run that matched no upload (their names). */
  readonly unmatched: string[] = [];
  private running = 0;
  peakInFlight = 0;

  constructor(private readonly limits: TrackerLimits) {}

  /** Registers an upload before its PUT is sent: the local trigger may start its execution before the PUT returns. */
  expect(object: UploadedObject): Expectation {
    const expectation = new Expectation({ ...object, etag: plainEtag(object.etag) });
    this.waiting.add(expectation);
    return expectation;
  }

  /** The PUT returned: from now on the upload waits at most `startTimeoutMs` for its execution to start. */
  uploaded(expectation: Expectation): void {
    if (expectation.execution === undefined) expectation.arm(this.limits.startTimeoutMs, (waitedMs) => this.end(expectation, { kind: 'not-started', waitedMs }));
  }

  /** The PUT failed: nothing to wait for. */
  forget(expectation: Expectation): void {
    this.waiting.delete(expectation);
    expectation.settle({ kind: 'not-started', waitedMs: 0 });
  }

  /** Uploads still waiting for their execution to end. */
  get pending(): number {
    return [...this.waiting].filter((expectation) => !expectation.settled).length;
  }

  /** Executions of this run's uploads that are running now. */
  get inFlight(): number {
    return this.running;
  }

  listener = (update: ExecutionUpdate): void => {
    if (update.type === 'started') {
      const expectation = this.match(update.event.detail.object);
      if (!expectation) {
        this.unmatched.push(update.name);
        return;
      }
      expectation.execution = update.name;
      this.byExecution.set(update.name, expectation);
      this.running += 1;
      this.peakInFlight = Math.max(this.peakInFlight, this.running);
      expectation.arm(this.limits.executionTimeoutMs, (waitedMs) => this.end(expectation, { kind: 'timed-out', waitedMs, execution: update.name, ...(expectation.lastState ? { lastState: expectation.lastState } : {}) }));
      return;
    }
    const expectation = this.byExecution.get(update.name);
    if (!expectation) return;
    if (update.type === 'entered') expectation.lastState = update.state;
    if (update.type === 'finished') this.end(expectation, { kind: 'finished', report: update.report });
  };

  /** Ends every wait still open as interrupted; returns how many there were. */
  interruptAll(): number {
    let count = 0;
    for (const expectation of this.waiting) {
      if (expectation.settled) continue;
      count += 1;
      this.end(expectation, {
        kind: 'interrupted',
        ...(expectation.execution ? { execution: expectation.execution } : {}),
        ...(expectation.lastState ? { lastState: expectation.lastState } : {}),
      });
    }
    return count;
  }

  private end(expectation: Expectation, outcome: ExecutionOutcome): ExecutionOutcome {
    if (!expectation.settled && expectation.execution !== undefined) {
      this.running -= 1;
      this.byExecution.delete(expectation.execution);
    }
    this.waiting.delete(expectation);
    expectation.settle(outcome);
    return outcome;
  }

  /**
   * The upload an execution's event is about: the same key; else a key that corresponds through
   * S3's event-key encoding with the same ETag and size; else the one upload with that ETag and size.
   */
  private match(object: { key: string; etag?: string; size?: number }): Expectation | undefined {
    const candidates = [...this.waiting].filter((expectation) => expectation.execution === undefined && !expectation.settled);
    const exact = candidates.find((expectation) => expectation.object.key === object.key);
    if (exact) return exact;
    const sameBytes = candidates.filter((expectation) => expectation.object.etag === plainEtag(object.etag) && expectation.object.size === object.size);
    const encoded = sameBytes.filter((expectation) => keysCorrespond(expectation.object.key, object.key));
    if (encoded.length >= 1) return encoded[0];
    return sameBytes.length === 1 ? sameBytes[0] : undefined;
  }
}

/** The job an execution worked on, from its own output (whatever key it resolved), else from its event. */
export function jobIdOfReport(report: ExecutionReport): string | undefined {
  const output = report.output as { jobId?: unknown; job?: { jobId?: unknown } } | undefined;
  const fromOutput = output?.job?.jobId ?? output?.jobId;
  if (typeof fromOutput === 'string') return fromOutput;
  try {
    return jobIdFor(objectFromEvent(report.event));
  } catch {
    return undefined;
  }
}
