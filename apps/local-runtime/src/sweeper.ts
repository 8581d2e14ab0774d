import { sweeper } from '@imgflow/contract';
import { type SweepOptions, type SweepSummary, createSweepHandler } from '@imgflow/fn-sweep';
import type { StepDeps } from '@imgflow/pipeline';

/**
 * The sweeper as the local runtime runs it: the real handler of @imgflow/fn-sweep over the deps
 * it is given (the stack gives it clients carrying the sweeper's role, `attachIam(clients,
 * 'sweep', …)`, so every call is checked against the policy Terraform renders for it), with the
 * time budget its Lambda has (the contract's timeout).
 */
export function runSweep(deps: StepDeps, options: SweepOptions = {}): Promise<SweepSummary> {
  const deadline = Date.now() + sweeper().timeout_seconds * 1000;
  return createSweepHandler(() => deps, options)({ 'detail-type': 'Scheduled Event', time: new Date().toISOString() }, { getRemainingTimeInMillis: () => deadline - Date.now() });
}

export interface SweepSchedule {
  /** Stops the schedule and waits for a sweep under way to end. */
  stop(): Promise<void>;
}

/**
 * Runs `sweepOnce` every `periodMs` (the contract's schedule is rate(5 minutes) on AWS), never
 * two at a time: the next run is timed from the end of the previous one. A sweep that throws is
 * reported to `onResult` and the schedule goes on, as EventBridge would invoke again.
 */
export function startSchedule(
  periodMs: number,
  sweepOnce: () => Promise<SweepSummary>,
  onResult: (result: { summary: SweepSummary } | { error: unknown }) => void = () => {},
): SweepSchedule {
  if (!Number.isFinite(periodMs) || periodMs <= 0) throw new Error(`Expected a positive number of milliseconds for periodMs but received ${periodMs} of type ${typeof periodMs}`);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  const tick = () => {
    running = sweepOnce()
      .then((summary) => onResult({ summary }))
      .catch((error: unknown) => onResult({ error }))
      .finally(() => {
        running = undefined;
        if (!stopped) schedule();
      });
  };
  const schedule = () => {
    timer = setTimeout(tick, periodMs);
    // A schedule alone does not keep the process alive (`imgflow dev` stays up on its servers).
    timer.unref();
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}

/** Milliseconds between runs of an EventBridge `rate(...)` expression (the contract's schedule); undefined for a cron expression. */
export function scheduleMillis(expression: string = sweeper().schedule): number | undefined {
  const match = /^rate\((\d+) (minute|hour|day)s?\)$/.exec(expression);
  if (!match) return undefined;
  const unit = { minute: 60_000, hour: 3_600_000, day: 86_400_000 }[match[2] as 'minute' | 'hour' | 'day'];
  return Number(match[1]) * unit;
}
