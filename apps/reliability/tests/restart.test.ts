import { describe, expect, it } from 'vitest';
import { killAndRerun } from '../src/faults.js';

describe('kill-and-rerun', () => {
  it('finishes every image of a SIGKILLed imgflow run on the next run: one record, one notification, no duplicate outputs', async () => {
    const result = await killAndRerun(8, 3);
    expect(result.firstRunFinished).toBeGreaterThanOrEqual(3);
    expect(result.firstRunFinished).toBeLessThan(8);
    expect(result.lost).toEqual([]);
    expect(result.duplicates).toEqual([]);
    expect(result.leftoverWork).toBe(0);
    expect(result.byStatus).toEqual({ SUCCEEDED: 8 });
    expect(result.outputs).toBe(8 * 9);
  });
});
