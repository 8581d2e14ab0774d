import { describe, expect, it } from 'vitest';
import { type ReliabilityReport, figures, passed, renderReport } from '../src/report.js';

function sample(): ReliabilityReport {
  const audit = { images: 3, byStatus: { SUCCEEDED: 3 }, lost: [], duplicates: [], leftoverWork: 0, outputs: 27 };
  return {
    generatedAt: '2026-01-01T00:00:00.000Z',
    mode: 'quick',
    load: { ...audit, concurrency: 2, peakInFlight: 2, invalid: 0, peakRssMb: 300, maxRssMb: 310, seconds: 4, iam: { checked: 100, denied: 0, denials: [] } },
    restart: { ...audit, killedAfter: 1, firstRunFinished: 1 },
    faults: [{ name: 'S3 GetObject 503', kind: 'transient', status: 'SUCCEEDED', fired: 1, retries: 1, problems: [] }],
    lifecycle: [{ name: 'Express time limit', kind: 'permanent', status: 'FAILED', code: 'EXECUTION_ABANDONED', fired: 1, retries: 0, problems: [], leftProcessing: 0, duplicateNotifications: 0 }],
    hostile: [{ name: 'zero-byte file', key: 'a', expected: { status: 'REJECTED', code: 'EMPTY_FILE' }, status: 'REJECTED', code: 'EMPTY_FILE', problems: [] }],
    keyLayout: { keys: 2, problems: [] },
    largeImages: [{ name: '50 MP JPEG', case: 'jpeg', megapixels: 50, bytes: 1, status: 'SUCCEEDED', outputs: 9, maxRssMb: 200 }],
    logs: { jobs: 1, logLines: 5, notifications: 1, findings: [] },
    audit: { status: 'not run', reason: 'the audit endpoint could not be used (responded with 405)', high: 0, critical: 0, packages: [] },
    iam: { checked: 120, denied: 0, denials: [] },
  };
}

describe('the reliability report', () => {
  it('passes when every must-be-zero figure is zero, and prints the table with the audit skip and its reason', () => {
    const report = sample();
    const values = figures(report);
    expect(values).toMatchObject({ faultsInjected: 1, faultsSurvived: 1, hostileTried: 3, hostileRejected: 3, recordsLost: 0, duplicates: 0, leftoverWork: 0, largeImagePeakMb: 200 });
    expect(passed(values)).toBe(true);
    const table = renderReport(report);
    expect(table).toContain('| records lost (must be 0)');
    expect(table).toMatch(/\| jobs left PENDING\/PROCESSING \(must be 0\) +\| 0 +\|/);
    expect(table).toMatch(/\| duplicate notifications \(must be 0\) +\| 0 +\|/);
    expect(table).toMatch(/\| {3}Express time limit +\| ok +\| FAILED EXECUTION_ABANDONED; fired 1, retries 0 +\|/);
    expect(table).toMatch(/\| AWS calls checked against IAM +\| 120, denied: 0 +\|/);
    expect(table).toContain('not run: the audit endpoint could not be used (responded with 405)');
    expect(table.trim().endsWith('reliability: PASSED')).toBe(true);
  });

  it.each([
    ['a lost record', (report: ReliabilityReport) => report.load.lost.push('x: no record')],
    ['a duplicate notification', (report: ReliabilityReport) => report.restart.duplicates.push('x: 2 notifications')],
    ['a leftover work object', (report: ReliabilityReport) => Object.assign(report.load, { leftoverWork: 1 })],
    ['a fault not survived', (report: ReliabilityReport) => report.faults[0]?.problems.push('ledger status PENDING')],
    ['a large image over 1024 MB', (report: ReliabilityReport) => Object.assign(report.largeImages[0] ?? {}, { maxRssMb: 1100 })],
    ['an advisory', (report: ReliabilityReport) => Object.assign(report.audit, { status: 'failed', high: 1 })],
    ['a retry of a permanent error', (report: ReliabilityReport) => Object.assign(report.hostile[0] ?? {}, { retries: 1 })],
    ['a job left PROCESSING', (report: ReliabilityReport) => Object.assign(report.lifecycle[0] ?? {}, { leftProcessing: 1 })],
    ['a duplicate notification of a replay', (report: ReliabilityReport) => Object.assign(report.lifecycle[0] ?? {}, { duplicateNotifications: 1 })],
    ['a lifecycle scenario not handled', (report: ReliabilityReport) => report.lifecycle[0]?.problems.push('the sweep did not end the job')],
    ['an IAM denial', (report: ReliabilityReport) => Object.assign(report.iam, { denied: 1, denials: ['User: … is not authorized to perform: s3:GetObject'] })],
  ])('fails on %s', (_name, spoil) => {
    const report = sample();
    spoil(report);
    expect(passed(figures(report))).toBe(false);
    expect(renderReport(report).trim().endsWith('reliability: FAILED')).toBe(true);
  });
});
