import { describe, expect, it } from 'vitest';
import { type HandlerHook, InvocationMeter } from '../src/invocations.js';

/** Burns CPU on this thread for about `ms`. */
function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // busy
  }
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function hook(): HandlerHook {
  return { aroundHandler: (_state, run) => run() };
}

describe('InvocationMeter', () => {
  it('gives the handlers the CPU they use and the engine the rest', async () => {
    const around = hook();
    const meter = new InvocationMeter();
    meter.attach(around);
    meter.reset();
    spin(30);
    await around.aroundHandler('ValidateImage', async () => spin(40));
    spin(20);
    const profile = meter.finish();
    expect(profile.invocations.map((call) => call.state)).toEqual(['ValidateImage']);
    const [call] = profile.invocations;
    // CPU figures are loose (other test files run beside this one); wall times are not.
    expect(call?.cpuMs).toBeGreaterThan(0);
    expect(call?.ms).toBeGreaterThanOrEqual(39);
    expect(profile.engineCpuMs).toBeGreaterThan(0);
    expect(profile.handlerCpuMs).toBeCloseTo(call?.cpuMs ?? 0, 6);
    expect(profile.overlapCpuMs).toBe(0);
  });

  it('splits the CPU of overlapping handlers (the Parallel state) equally and counts it once', async () => {
    const around = hook();
    const meter = new InvocationMeter();
    meter.attach(around);
    meter.reset();
    await Promise.all([
      around.aroundHandler('ResizeImage', async () => {
        await pause(5);
        spin(40);
      }),
      around.aroundHandler('ApplyFilters', async () => {
        await pause(60);
      }),
    ]);
    const profile = meter.finish();
    const byState = Object.fromEntries(profile.invocations.map((call) => [call.state, call]));
    expect(byState.ApplyFilters?.ms).toBeGreaterThanOrEqual(59);
    // ApplyFilters used no CPU of its own, but ran the whole time: it takes half of what ran beside it.
    expect(byState.ApplyFilters?.cpuMs).toBeGreaterThan(0.3 * (byState.ResizeImage?.cpuMs ?? 0));
    expect(profile.overlapCpuMs).toBeGreaterThan(0);
    expect((byState.ResizeImage?.cpuMs ?? 0) + (byState.ApplyFilters?.cpuMs ?? 0)).toBeCloseTo(profile.handlerCpuMs, 6);
  });

  it('times a handler that fails, and lets the failure out', async () => {
    const around = hook();
    const meter = new InvocationMeter();
    meter.attach(around);
    meter.reset();
    await expect(around.aroundHandler('OptimizeImage', async () => Promise.reject(new Error('no')))).rejects.toThrow('no');
    expect(meter.finish().invocations.map((call) => call.state)).toEqual(['OptimizeImage']);
  });
});
