import { describe, expect, it } from 'vitest';
import { runBackfillScenario } from '../src/backfill.js';
import { type ReliabilityReport, figures, passed } from '../src/report.js';

describe('imgflow backfill killed halfway, resumed, re-run unchanged (CI size)', () => {
  it('ends every object once: exact counts, nothing processed twice, the unchanged re-run processes 0', async () => {
    const result = await runBackfillScenario(24, 3);
    expect(result.problems).toEqual([]);
    expect(result.images).toBe(24);
    expect(result.invalid).toBe(1);
    expect(result.byStatus).toEqual({ SUCCEEDED: 23, REJECTED: 1 });
    expect(result.killedAfter).toBeGreaterThanOrEqual(12);
    expect(result.killedAfter).toBeLessThan(24);
    expect(result.resumedProcessed).toBeGreaterThan(0);
    expect(result.resumedProcessed).toBeLessThanOrEqual(24 - 12);
    expect(result.processedTwice).toBe(0);
    expect(result.unchangedRerunProcessed).toBe(0);

    // In the report: its must-be-zero figures gate the run.
    const report = { load: { images: 0, lost: [], duplicates: [], leftoverWork: 0, peakRssMb: 0, byStatus: {}, iam: { checked: 0, denied: 0, denials: [] } }, restart: { images: 0, lost: [], duplicates: [], leftoverWork: 0 }, faults: [], lifecycle: [], hostile: [], keyLayout: { keys: 0, problems: [] }, largeImages: [], logs: { jobs: 0, logLines: 0, notifications: 0, findings: [] }, audit: { status: 'not run', high: 0, critical: 0, packages: [] }, iam: { checked: 0, denied: 0, denials: [] } } as unknown as ReliabilityReport;
    expect(passed(figures({ ...report, backfill: result }))).toBe(true);
    expect(passed(figures({ ...report, backfill: { ...result, processedTwice: 1 } }))).toBe(false);
    expect(passed(figures({ ...report, backfill: { ...result, unchangedRerunProcessed: 3 } }))).toBe(false);
    console.info(`backfill: ${result.images} objects in ${result.seconds} s (${result.imagesPerSecond}/s), killed after ${result.killedAfter}, resumed processed ${result.resumedProcessed}`);
  });
});
