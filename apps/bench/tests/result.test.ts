import { DEFAULT_RECIPE } from '@imgflow/image-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { type BenchResult, rotate, runBench } from '../src/bench.js';
import { renderReport } from '../src/report.js';
import { smallImage } from './helpers.js';

describe('the JSON result', () => {
  let result: BenchResult;

  beforeAll(async () => {
    const image = await smallImage();
    result = await runBench({
      mode: 'quick',
      corpus: [image],
      repetitions: 1,
      recipe: DEFAULT_RECIPE,
      variants: ['floor', 'imgflow', 'naive'],
      isolate: false,
      concurrency2: false,
      root: process.cwd(),
      skipped: [{ variant: 'imagemagick', reason: 'test' }],
      log: () => undefined,
    });
  });

  it('has the documented shape', () => {
    const json = JSON.parse(JSON.stringify(result)) as BenchResult;
    expect(json.schema).toBe('imgflow.bench/1');
    expect(Object.keys(json).sort()).toEqual(
      ['corpus', 'cost', 'counters', 'durationSeconds', 'finishedAt', 'machine', 'mode', 'outputs', 'ratios', 'recipe', 'repetitions', 'runs', 'schema', 'skipped', 'startedAt', 'targets', 'variants'].sort(),
    );
    expect(Object.keys(json.variants).sort()).toEqual(['floor', 'imgflow', 'naive']);
    for (const summary of Object.values(json.variants)) {
      expect(Object.keys(summary).sort()).toEqual(
        [
          'baselineRssMiB',
          'cpuMethod',
          'cpuMsPerImage',
          'engineCpuMsPerImage',
          'failures',
          'handlerCpuMsPerImage',
          'images',
          'imagesPerSecond',
          'name',
          'overlapCpuMsPerImage',
          'peakRssMiB',
          'peakRssMiBAtC2',
          'rssMethod',
          'runs',
          'serviceCpuMsPerImage',
          'states',
          'wallMs',
        ].sort(),
      );
      expect(summary.runs).toBe(1);
      expect(summary.failures).toBe(0);
    }
    expect(json.runs).toHaveLength(3);
    // What Lambda bills, per Task state; the engine apart; the floor is one function doing everything.
    const imgflow = json.variants.imgflow;
    expect(Object.keys(imgflow?.states ?? {}).sort()).toEqual(['ApplyFilters', 'NotifySuccess', 'OptimizeImage', 'ResizeImage', 'ValidateImage']);
    for (const state of Object.values(imgflow?.states ?? {})) expect(state.perImage).toBe(1);
    expect(imgflow?.handlerCpuMsPerImage).toBeGreaterThan(0);
    expect(imgflow?.engineCpuMsPerImage).toBeGreaterThanOrEqual(0);
    expect((imgflow?.handlerCpuMsPerImage ?? 0) + (imgflow?.engineCpuMsPerImage ?? 0)).toBeCloseTo(imgflow?.cpuMsPerImage ?? 0, 6);
    const stateCpu = Object.values(imgflow?.states ?? {}).reduce((total, state) => total + state.cpuMsPerImage, 0);
    expect(stateCpu).toBeCloseTo(imgflow?.handlerCpuMsPerImage ?? 0, 6);
    expect(json.variants.floor?.handlerCpuMsPerImage).toBe(json.variants.floor?.cpuMsPerImage);
    expect(Object.keys(json.variants.floor?.states ?? {})).toEqual(['Floor']);
    expect(json.variants.naive?.handlerCpuMsPerImage).toBeNull();
    const run = json.runs.find((each) => each.variant === 'imgflow');
    expect(run?.invocations?.map((call) => call.state).sort()).toEqual(['ApplyFilters', 'NotifySuccess', 'OptimizeImage', 'ResizeImage', 'ValidateImage']);
    expect(json.ratios.vsFloor.imgflow?.handlerCpu?.pairs).toBe(1);
    expect(json.ratios.vsFloor.imgflow?.cpu.pairs).toBe(1);
    expect(json.ratios.vsNaive.imgflow?.wall.pairs).toBe(1);
    for (const variant of ['floor', 'imgflow', 'naive'] as const) {
      const outputs = Object.values(json.outputs[variant] ?? {})[0] ?? [];
      expect(outputs).toHaveLength(9);
      for (const output of outputs) {
        expect(output.ssim).toBeGreaterThan(0.9);
        expect(output.ssim).toBeLessThanOrEqual(1);
        expect(output.bytes).toBeGreaterThan(0);
      }
      expect(json.cost.perMillion[variant]?.standard.arm64.total).toBeGreaterThan(0);
      expect(json.cost.perMillion[variant]?.express.x86_64.total).toBeGreaterThan(0);
    }
    expect(json.targets.map((target) => target.id)).toEqual([
      'cpu-vs-floor',
      'handler-cpu-vs-floor',
      'throughput-c1-vs-floor',
      'issue15-throughput-c1-vs-floor',
      'throughput-c2-vs-floor',
      'cpu-vs-naive',
      'throughput-c1-vs-imagemagick',
      'issue15-throughput-c1-vs-imagemagick',
      'throughput-c2-vs-imagemagick',
      'payload',
      'cost-express-vs-floor',
      'issue15-cost-express-vs-floor',
      'cost-standard-vs-naive',
    ]);
    expect(json.targets.find((target) => target.id === 'handler-cpu-vs-floor')?.pass).not.toBeNull();
    expect(json.targets.find((target) => target.id === 'payload')?.pass).toBe(true);
    // Not measured in this run: reported as such, never as a pass or a miss.
    expect(json.targets.find((target) => target.id === 'throughput-c1-vs-imagemagick')?.pass).toBeNull();
  });

  it('prints every table', () => {
    const text = renderReport(result);
    for (const heading of ['Time and CPU per image', 'Where the CPU goes, per Task state', 'Exact counters per image', 'SSIM', 'Modeled AWS cost per million images', 'Targets']) expect(text).toContain(heading);
  });

  it('rotates the variant order per image and repetition', () => {
    expect(rotate(['a', 'b', 'c'], 0)).toEqual(['a', 'b', 'c']);
    expect(rotate(['a', 'b', 'c'], 4)).toEqual(['b', 'c', 'a']);
  });
});
