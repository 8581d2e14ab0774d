import { performance } from 'node:perf_hooks';

/** One handler invocation as Lambda would bill it: its wall time and the CPU attributed to it. */
export interface Invocation {
  /** The Task state that invoked it (ValidateImage, ResizeImage, …). */
  state: string;
  /** Handler wall time, from the call to its settling: Lambda's billed duration. */
  ms: number;
  /** CPU time (user + system) of the process while it ran; shared equally with any handler running at the same time. */
  cpuMs: number;
}

/** What one execution's CPU went to: the handlers (what Lambda bills) and the engine around them (Step Functions' work on AWS). */
export interface InvocationProfile {
  invocations: Invocation[];
  handlerCpuMs: number;
  engineCpuMs: number;
  /** Of handlerCpuMs: CPU while two or more handlers ran at once (the Parallel state), split equally between them. */
  overlapCpuMs: number;
}

/** The hook the local runtime's in-process handlers run inside (FaultInjector.aroundHandler). */
export interface HandlerHook {
  aroundHandler<T>(state: string, run: () => Promise<T>): Promise<T>;
}

const cpuMs = (usage: NodeJS.CpuUsage) => (usage.user + usage.system) / 1000;

/**
 * Splits one process's CPU between the handlers and the workflow engine, invocation by
 * invocation. process.cpuUsage() is read at every handler start and end; the CPU of each
 * interval between two readings goes to the handlers running then (equally, when the Parallel
 * state runs two at once) or, when none runs, to the engine. Work the engine does while a
 * handler runs is counted as the handler's: the handler figure errs high, never low.
 *
 * It wraps the hook every in-process Task state already calls around its handler (the fault
 * injector's), so the handlers run exactly as `imgflow run` runs them.
 */
export class InvocationMeter {
  private active: Array<{ state: string; started: number; cpuMs: number }> = [];
  private done: Invocation[] = [];
  private lastCpu = process.cpuUsage();
  private handlerCpu = 0;
  private engineCpu = 0;
  private overlapCpu = 0;

  /** Times every handler run through `hook` from now on. */
  attach(hook: HandlerHook): void {
    const around = hook.aroundHandler.bind(hook);
    hook.aroundHandler = <T>(state: string, run: () => Promise<T>): Promise<T> => around(state, () => this.time(state, run));
  }

  /** Starts a new execution's accounting. */
  reset(): void {
    this.active = [];
    this.done = [];
    this.handlerCpu = 0;
    this.engineCpu = 0;
    this.overlapCpu = 0;
    this.lastCpu = process.cpuUsage();
  }

  /** Closes the execution's accounting: the CPU since the last handler ended is the engine's. */
  finish(): InvocationProfile {
    this.settle();
    return { invocations: [...this.done], handlerCpuMs: this.handlerCpu, engineCpuMs: this.engineCpu, overlapCpuMs: this.overlapCpu };
  }

  private async time<T>(state: string, run: () => Promise<T>): Promise<T> {
    this.settle();
    const entry = { state, started: performance.now(), cpuMs: 0 };
    this.active.push(entry);
    try {
      return await run();
    } finally {
      this.settle();
      this.active.splice(this.active.indexOf(entry), 1);
      this.done.push({ state, ms: performance.now() - entry.started, cpuMs: entry.cpuMs });
    }
  }

  /** Credits the CPU since the last reading to whoever was running. */
  private settle(): void {
    const now = process.cpuUsage();
    const used = cpuMs(now) - cpuMs(this.lastCpu);
    this.lastCpu = now;
    if (this.active.length === 0) {
      this.engineCpu += used;
      return;
    }
    this.handlerCpu += used;
    if (this.active.length > 1) this.overlapCpu += used;
    for (const entry of this.active) entry.cpuMs += used / this.active.length;
  }
}
