import { STEP_NAMES, step } from '@imgflow/contract';
import { describe, expect, it } from 'vitest';
import { costPerImage, memorySizes, perMillion } from '../src/cost.js';
import { LAMBDA_MEMORY_MB } from '../src/prices.js';
import { pairedRatio, percentile } from '../src/stats.js';

const example = {
  counters: { lambdaInvocations: 2, transitions: 8, s3: { gets: 3, puts: 10, copies: 0, lists: 1, deletes: 1 } },
  lambda: [
    { role: 'validate' as const, ms: 100 },
    { role: 'optimize' as const, ms: 1000 },
  ],
  workflowMs: 1234,
};

describe('the cost model', () => {
  it('prices one image on Standard, arm64, by hand', () => {
    const cost = costPerImage(example, 'standard', 'arm64', LAMBDA_MEMORY_MB);
    // 0.1 s × 0.5 GB + 1 s × 2 GB = 2.05 GB-s at $0.0000133334
    expect(cost.lambdaCompute).toBeCloseTo(2.05 * 0.0000133334, 12);
    // 2 requests at $0.20 per million
    expect(cost.lambdaRequests).toBeCloseTo(4e-7, 12);
    // 8 transitions at $0.025 per thousand
    expect(cost.stepFunctions).toBeCloseTo(0.0002, 12);
    // 3 GETs at $0.0004/1000, 10 PUTs and 1 LIST at $0.005/1000, DELETE free
    expect(cost.s3).toBeCloseTo(3 * 4e-7 + 11 * 5e-6, 12);
    expect(cost.total).toBeCloseTo(0.00002733347 + 4e-7 + 0.0002 + 0.0000562, 12);
  });

  it('prices the ledger: write units of the table and of each index, read units, on demand', () => {
    const withLedger = { ...example, counters: { ...example.counters, dynamodb: { tableWrites: 10, indexWrites: { byStatus: 5, bySourceKey: 1 }, readUnits: 3 } } };
    const cost = costPerImage(withLedger, 'express', 'arm64', LAMBDA_MEMORY_MB);
    // 16 write units at $0.625 per million, 3 read units at $0.125 per million
    expect(cost.dynamodb).toBeCloseTo(16 * 0.625e-6 + 3 * 0.125e-6, 14);
    expect(cost.total - costPerImage(example, 'express', 'arm64', LAMBDA_MEMORY_MB).total).toBeCloseTo(cost.dynamodb, 14);
    expect(costPerImage(example, 'express', 'arm64', LAMBDA_MEMORY_MB).dynamodb).toBe(0);
  });

  it('prices Express by request and by 64 MB × duration rounded up to 100 ms', () => {
    const cost = costPerImage(example, 'express', 'x86_64', LAMBDA_MEMORY_MB);
    // 1234 ms → 1.3 s × 0.0625 GB × $0.00001667, plus $1 per million requests
    expect(cost.stepFunctions).toBeCloseTo(1e-6 + 1.3 * 0.0625 * 0.00001667, 14);
    expect(cost.lambdaCompute).toBeCloseTo(2.05 * 0.0000166667, 12);
  });

  it('has no workflow cost without a workflow (the floor)', () => {
    const { workflowMs: _none, ...floor } = example;
    expect(costPerImage(floor, 'standard', 'arm64', LAMBDA_MEMORY_MB).stepFunctions).toBe(0);
    expect(costPerImage(floor, 'express', 'arm64', LAMBDA_MEMORY_MB).stepFunctions).toBe(0);
  });

  it('scales the mean per image to a million images', () => {
    const a = costPerImage(example, 'standard', 'arm64', LAMBDA_MEMORY_MB);
    const b = costPerImage({ ...example, counters: { ...example.counters, transitions: 0 } }, 'standard', 'arm64', LAMBDA_MEMORY_MB);
    expect(perMillion([a, b]).total).toBeCloseTo(((a.total + b.total) / 2) * 1e6, 6);
    expect(perMillion([a, b]).stepFunctions).toBeCloseTo(100, 6);
  });

  it('prices the memory sizes of the workflow contract', () => {
    const { sizes, source } = memorySizes();
    expect(Object.keys(sizes).sort()).toEqual(['filter', 'floor', 'notify', 'optimize', 'resize', 'validate']);
    for (const name of STEP_NAMES) expect(sizes[name]).toBe(step(name).memory_mb);
    expect(sizes.floor).toBe(Math.max(...STEP_NAMES.map((name) => step(name).memory_mb)));
    expect(source).toContain('contract.json');
  });
});

describe('statistics', () => {
  it('interpolates percentiles', () => {
    expect(percentile([1, 2, 3, 4], 50)).toBe(2.5);
    expect(percentile([5], 95)).toBe(5);
  });

  it('compares pair by pair', () => {
    const ratio = pairedRatio([
      [2, 1],
      [8, 4],
      [3, 3],
    ]);
    expect(ratio.pairs).toBe(3);
    expect(ratio.ofTotals).toBeCloseTo(13 / 8, 12);
    expect(ratio.median).toBe(2);
    expect(ratio.min).toBe(1);
    expect(ratio.max).toBe(2);
    expect(ratio.geomean).toBeCloseTo(Math.cbrt(4), 12);
  });
});
