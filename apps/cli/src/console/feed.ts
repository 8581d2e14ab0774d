import type { JobRecord } from '@imgflow/pipeline';
import { type JobSummary, summarize } from './summary.js';

/** A change the feed pushes: the job as it is now, and how many jobs there are. */
export interface JobChange {
  job: JobSummary;
  total: number;
}

type Subscriber = (changes: JobChange[]) => void;

/** A job's fields the views show: a change in any of them is pushed. */
function signature(record: JobRecord): string {
  return [record.status, record.updatedAt, record.outputs?.length ?? 0, record.reasonCode ?? ''].join('|');
}

/**
 * Polls the ledger (every `intervalMs`, only while someone listens) and tells the subscribers
 * which jobs changed since the previous poll: the server-side half of the live Jobs view.
 */
export class JobFeed {
  private readonly subscribers = new Set<Subscriber>();
  private readonly seen = new Map<string, string>();
  private timer?: NodeJS.Timeout;
  private polling?: Promise<void>;
  private primed = false;

  constructor(
    private readonly list: () => Promise<JobRecord[]>,
    private readonly intervalMs = 1000,
  ) {}

  /** Starts listening; resolves once the feed knows the ledger as it is now (changes after that are pushed). */
  async subscribe(subscriber: Subscriber): Promise<() => void> {
    this.subscribers.add(subscriber);
    if (!this.timer) {
      // Primed without pushing: a new page catches up by itself (`since`); what changed while no one listened is pushed.
      await this.poll(!this.primed);
      this.primed = true;
      this.timer ??= setInterval(() => void this.poll(false), this.intervalMs);
    }
    return () => {
      this.subscribers.delete(subscriber);
      if (this.subscribers.size === 0 && this.timer) {
        clearInterval(this.timer);
        this.timer = undefined;
      }
    };
  }

  /** One poll; a poll still running is not overlapped. */
  poll(silent: boolean): Promise<void> {
    this.polling ??= (async () => {
      try {
        const records = await this.list();
        const changed: JobRecord[] = [];
        for (const record of records) {
          const now = signature(record);
          if (this.seen.get(record.jobId) !== now) changed.push(record);
          this.seen.set(record.jobId, now);
        }
        if (silent || changed.length === 0) return;
        const changes = changed.map((record) => ({ job: summarize(record), total: records.length }));
        for (const subscriber of this.subscribers) subscriber(changes);
      } catch {
        // The ledger may be closing, or briefly unavailable: the next poll tries again.
      } finally {
        this.polling = undefined;
      }
    })();
    return this.polling;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.subscribers.clear();
  }
}
