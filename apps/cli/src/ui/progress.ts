import { performance } from 'node:perf_hooks';
import type { ExecutionUpdate } from '@imgflow/local-runtime';
import cliProgress from 'cli-progress';
import { type Io, println } from '../io.js';
import { formatDuration } from './format.js';

/** The workflow's Task states as the progress display groups them (NotifySuccess and NotifyError are one). */
export const STEP_LABELS: ReadonlyArray<readonly [label: string, matches: (state: string) => boolean]> = [
  ['validate', (state) => state === 'ValidateImage'],
  ['resize', (state) => state === 'ResizeImage'],
  ['filter', (state) => state === 'ApplyFilters'],
  ['optimize', (state) => state === 'OptimizeImage'],
  ['notify', (state) => state.startsWith('Notify')],
];

function labelOf(state: string): string | undefined {
  return STEP_LABELS.find(([, matches]) => matches(state))?.[0];
}

/**
 * How many executions are in each step right now, from the runner's updates. An execution can
 * be in two steps at once (the Parallel branches); a failed state may never report its exit,
 * so a catch or the end of the execution clears it too.
 */
export class StepCounter {
  private readonly current = new Map<string, Map<string, string>>();

  update(update: ExecutionUpdate): void {
    if (update.type === 'entered') {
      const label = labelOf(update.state);
      if (!label) return;
      const states = this.current.get(update.name) ?? new Map<string, string>();
      states.set(update.state, label);
      this.current.set(update.name, states);
    } else if (update.type === 'exited' || update.type === 'caught') {
      this.current.get(update.name)?.delete(update.state);
    } else if (update.type === 'finished') {
      this.current.delete(update.name);
    }
  }

  counts(): Record<string, number> {
    const counts: Record<string, number> = Object.fromEntries(STEP_LABELS.map(([label]) => [label, 0]));
    for (const states of this.current.values()) {
      for (const label of states.values()) counts[label] = (counts[label] ?? 0) + 1;
    }
    return counts;
  }

  /** "validate 1 · resize 2 · filter 2 · optimize 0 · notify 0" */
  describe(): string {
    return Object.entries(this.counts())
      .map(([label, count]) => `${label} ${count}`)
      .join(' · ');
  }
}

/**
 * The live display of `imgflow run`: on a terminal, one bar (done/total, ETA) with the step
 * counts in its payload; elsewhere (CI, a pipe), one plain line per finished image.
 */
export class RunProgress {
  private readonly steps = new StepCounter();
  private readonly bar?: cliProgress.SingleBar;
  private done = 0;

  constructor(
    private readonly io: Io,
    private readonly total: number,
  ) {
    if (io.stdout.isTTY) {
      this.bar = new cliProgress.SingleBar(
        {
          stream: io.stdout,
          format: 'imgflow {bar} {value}/{total} images | ETA {eta_formatted} | {steps}',
          hideCursor: true,
          clearOnComplete: false,
          etaBuffer: 20,
          barsize: 24,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(total, 0, { steps: this.steps.describe() });
    }
  }

  update(update: ExecutionUpdate): void {
    this.steps.update(update);
    this.bar?.update({ steps: this.steps.describe() });
  }

  /** One image finished; `line` is what a non-terminal shows for it. */
  finished(line: string): void {
    this.done += 1;
    if (this.bar) this.bar.update(this.done, { steps: this.steps.describe() });
    else println(this.io.stdout, `[${this.done}/${this.total}] ${line}`);
  }

  note(line: string): void {
    if (this.bar) println(this.io.stderr, line);
    else println(this.io.stdout, line);
  }

  stop(): void {
    this.bar?.stop();
  }

  get counts(): Record<string, number> {
    return this.steps.counts();
  }
}

/**
 * The progress of one followed job: on a terminal, one live line rewritten in place (the ledger
 * status and the latest step); elsewhere (CI, a pipe), a line per status change and per step.
 */
export class FollowProgress {
  private status = '';
  private step = '';
  private drawn = false;
  private readonly live: boolean;

  constructor(private readonly io: Io) {
    this.live = io.stdout.isTTY === true;
  }

  private clock(): string {
    return new Date().toISOString().slice(11, 19);
  }

  /** The ledger status (or WAITING); printed when it changes. */
  setStatus(text: string): void {
    if (text === this.status) return;
    this.status = text;
    if (this.live) this.draw();
    else println(this.io.stdout, `${this.clock()} ${text}`);
  }

  /** A step of the execution: entered a state, a retry, the execution's end. */
  setStep(text: string): void {
    this.step = text;
    if (this.live) this.draw();
    else println(this.io.stdout, `${this.clock()}   ${text}`);
  }

  /** A warning that must not be overwritten by the live line. */
  note(text: string): void {
    if (this.live && this.drawn) this.io.stdout.write('\r\x1b[2K');
    println(this.io.stderr, text);
    if (this.live && this.drawn) this.draw();
  }

  /** Leaves the live line as it is and moves below it. */
  end(): void {
    if (this.live && this.drawn) this.io.stdout.write('\n');
    this.drawn = false;
  }

  private draw(): void {
    const text = `${this.clock()} ${this.status}${this.step ? ` · ${this.step}` : ''}`;
    const width = this.io.stdout.columns ?? 120;
    this.io.stdout.write(`\r\x1b[2K${text.length > width - 1 ? `${text.slice(0, Math.max(0, width - 2))}…` : text}`);
    this.drawn = true;
  }
}

/** What a backfill's items ended as so far (`skipped`: already handled by an earlier run, the ledger said). */
export interface BackfillTally {
  succeeded: number;
  rejected: number;
  failed: number;
  skipped: number;
}

export type BackfillTallyKey = keyof BackfillTally;

/**
 * The live display of `imgflow backfill`: on a terminal, one bar (ended/total) with the tally,
 * images per second and the ETA; elsewhere (CI, a pipe), one plain line per ended item (local) or
 * per change of the counts (a Map Run on AWS), each with the same figures.
 */
export class BackfillProgress {
  private readonly bar?: cliProgress.SingleBar;
  private readonly started = performance.now();
  private ended = 0;
  private tally: BackfillTally = { succeeded: 0, rejected: 0, failed: 0, skipped: 0 };
  private lastLine = '';

  constructor(
    private readonly io: Io,
    private total: number,
  ) {
    if (io.stdout.isTTY) {
      this.bar = new cliProgress.SingleBar(
        {
          stream: io.stdout,
          format: 'backfill {bar} {value}/{total} | {tally} | {speed}',
          hideCursor: true,
          clearOnComplete: false,
          barsize: 24,
        },
        cliProgress.Presets.shades_classic,
      );
      this.bar.start(total, 0, this.payload());
    }
  }

  /** Items ended per second since the start. */
  rate(): number {
    const seconds = (performance.now() - this.started) / 1000;
    return seconds > 0 ? this.ended / seconds : 0;
  }

  /** Time left at the rate so far; undefined before anything ended. */
  etaMs(): number | undefined {
    const rate = this.rate();
    return rate > 0 ? ((this.total - this.ended) / rate) * 1000 : undefined;
  }

  /** "12 succeeded · 1 rejected · 0 failed · 3 skipped" */
  describeTally(): string {
    const { succeeded, rejected, failed, skipped } = this.tally;
    return `${succeeded} succeeded · ${rejected} rejected · ${failed} failed · ${skipped} skipped`;
  }

  /** "2.4 images/s · ETA 40s" */
  describeSpeed(): string {
    const eta = this.etaMs();
    return `${this.rate().toFixed(1)} images/s · ETA ${this.ended >= this.total ? '0s' : eta === undefined ? '-' : formatDuration(eta)}`;
  }

  private payload(): { tally: string; speed: string } {
    return { tally: this.describeTally(), speed: this.describeSpeed() };
  }

  /** One item ended (counted under `kind`, or not counted: an interrupted item); `line` is what a non-terminal shows for it. */
  finished(kind: BackfillTallyKey | undefined, line: string): void {
    this.ended += 1;
    if (kind) this.tally[kind] += 1;
    if (this.bar) this.bar.update(this.ended, this.payload());
    else println(this.io.stdout, `[${this.ended}/${this.total}] ${line} · ${this.describeSpeed()}`);
  }

  /**
   * Counts from elsewhere (a Map Run's item counts) replace the tally; `detail` (e.g. running and
   * pending) is shown after it. Off a terminal, a line is printed only when something changed.
   */
  set(ended: number, tally: BackfillTally, total: number, detail = ''): void {
    this.ended = ended;
    this.tally = { ...tally };
    if (total !== this.total) {
      this.total = total;
      this.bar?.setTotal(total);
    }
    const extra = detail ? ` · ${detail}` : '';
    if (this.bar) {
      this.bar.update(ended, { tally: `${this.describeTally()}${extra}`, speed: this.describeSpeed() });
      return;
    }
    const line = `${ended}/${total} · ${this.describeTally()}${extra}`;
    if (line === this.lastLine) return;
    this.lastLine = line;
    println(this.io.stdout, `${new Date().toISOString().slice(11, 19)} ${line} · ${this.describeSpeed()}`);
  }

  note(line: string): void {
    if (this.bar) println(this.io.stderr, line);
    else println(this.io.stdout, line);
  }

  stop(): void {
    this.bar?.stop();
  }
}
