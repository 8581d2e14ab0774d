import { describe, expect, it } from 'vitest';
import { uploadKey } from '../src/console/server.js';
import { percentile, totals } from '../src/console/summary.js';
import { timelineFromHistory, timelineFromTimings } from '../src/console/timeline.js';
import { jobView } from '../src/console/views/job.js';
import { succeededRecord } from './helpers.js';

describe('console timeline', () => {
  it('turns a recorded history into one bar per state, retries and a caught error marked', () => {
    const timeline = timelineFromHistory({
      execution: 'e1',
      sourceKey: 'uploads/a.jpg',
      startedAt: new Date(0).toISOString(),
      status: 'SUCCEEDED',
      durationMs: 100,
      events: [
        { at: 0, type: 'entered', state: 'ValidateImage', stateType: 'Task' },
        { at: 10, type: 'retried', state: 'ValidateImage', attempt: 1 },
        { at: 12, type: 'entered', state: 'ValidateImage', stateType: 'Task' },
        { at: 20, type: 'exited', state: 'ValidateImage', stateType: 'Task' },
        { at: 21, type: 'entered', state: 'ProcessImage', stateType: 'Parallel' },
        { at: 22, type: 'entered', state: 'ResizeImage', stateType: 'Task' },
        { at: 23, type: 'entered', state: 'ApplyFilters', stateType: 'Task' },
        { at: 30, type: 'caught', state: 'ApplyFilters' },
        { at: 40, type: 'exited', state: 'ResizeImage', stateType: 'Task' },
        { at: 41, type: 'exited', state: 'ProcessImage', stateType: 'Parallel' },
        { at: 42, type: 'entered', state: 'NotifyError', stateType: 'Task' },
        { at: 90, type: 'exited', state: 'NotifyError', stateType: 'Task' },
      ],
    });
    expect(timeline.bars.map((bar) => [bar.state, bar.start, bar.end, bar.retries.length, bar.error])).toEqual([
      ['ValidateImage', 0, 20, 1, undefined],
      ['ProcessImage', 21, 41, 0, undefined],
      ['ResizeImage', 22, 40, 0, undefined],
      ['ApplyFilters', 23, 30, 0, 'caught'],
      ['NotifyError', 42, 90, 0, undefined],
    ]);
    expect(timeline.totalMs).toBe(100);
  });

  it('ends a state the execution failed in at the end, marked with the error', () => {
    const timeline = timelineFromHistory({
      execution: 'e2',
      sourceKey: 'k',
      startedAt: new Date(0).toISOString(),
      status: 'TIMED_OUT',
      error: { name: 'States.Timeout', cause: 'too long' },
      durationMs: 50,
      events: [{ at: 5, type: 'entered', state: 'OptimizeImage', stateType: 'Task' }],
    });
    expect(timeline.bars).toEqual([{ state: 'OptimizeImage', stateType: 'Task', start: 5, end: 50, retries: [], error: 'States.Timeout' }]);
  });

  it('lays the ledger timings out as the workflow runs them', () => {
    const timeline = timelineFromTimings({ status: 'SUCCEEDED', timings: { validate: 10, resize: 30, filter: 5, optimize: 20, notify: 2 } });
    expect(timeline.source).toBe('timings');
    expect(timeline.bars.map((bar) => [bar.state, bar.start, bar.end])).toEqual([
      ['ValidateImage', 0, 10],
      ['ProcessImage', 10, 40],
      ['ResizeImage', 10, 40],
      ['ApplyFilters', 10, 15],
      ['OptimizeImage', 40, 60],
      ['NotifySuccess', 60, 62],
    ]);
    expect(timelineFromTimings({ status: 'REJECTED', reasonCode: 'X', timings: { validate: 3, notify: 1 } }).bars.map((bar) => bar.state)).toEqual(['ValidateImage', 'NotifyError']);
  });
});

describe('console totals', () => {
  it('takes nearest-rank percentiles', () => {
    expect(percentile([], 0.5)).toBeUndefined();
    expect(percentile([1, 2, 3, 4], 0.5)).toBe(2);
    expect(percentile([1, 2, 3, 4], 0.95)).toBe(4);
  });

  it('sums bytes and savings per format and counts reasons', () => {
    const common = { sourceBucket: 'b', etag: 'e', executionId: 'x', attempts: 1, createdAt: '', updatedAt: '' };
    const result = totals([
      { ...common, jobId: 'a', status: 'SUCCEEDED', sourceKey: 'a', size: 1000, timings: { validate: 10 }, outputs: [{ rendition: 's', format: 'webp', key: 'k', width: 1, height: 1, bytes: 250 }] },
      { ...common, jobId: 'b', status: 'REJECTED', sourceKey: 'b', size: 10, reasonCode: 'TOO_BIG', timings: { validate: 30 } },
    ]);
    expect(result).toMatchObject({ images: 2, bytesIn: 1010, bytesOut: 250, p50Ms: 10, p95Ms: 30, reasons: [{ code: 'TOO_BIG', count: 1 }] });
    expect(result.formats).toEqual([{ format: 'webp', outputs: 1, bytesIn: 1000, bytesOut: 250, savings: 0.75 }]);
  });
});

describe('console uploads', () => {
  it('keys an uploaded file by its base name under uploads/', () => {
    expect(uploadKey('photo.jpg')).toBe('uploads/photo.jpg');
    expect(uploadKey('../../x/y.png')).toBe('uploads/y.png');
    expect(uploadKey('C:\\Users\\me\\z.png')).toBe('uploads/z.png');
    expect(uploadKey('<b>.png')).toBe('uploads/<b>.png');
    for (const refused of ['', ' ', '.', '..', 'dir/', 'a\nb.png']) expect(uploadKey(refused)).toBeUndefined();
  });
});

describe('console job page', () => {
  const output = { rendition: 'sm', key: 'renditions/a/sm.webp', width: 320, height: 240, bytes: 9000 };

  it("shows the quality an 'auto' output was given and its score, and says when the target was out of reach", async () => {
    const page = String(
      await jobView(
        succeededRecord([
          { ...output, format: 'webp', autoQuality: { quality: 41, score: 0.9312, target: 0.92, metric: 'ssim', met: true, trials: 3 } },
          { ...output, format: 'avif', key: 'renditions/a/sm.avif', autoQuality: { quality: 80, score: 0.8811, target: 0.9, metric: 'ssim', met: false, trials: 3 } },
          { ...output, format: 'jpeg', key: 'renditions/a/sm.jpeg' },
        ]),
      ),
    );
    const qualities = [...page.matchAll(/data-testid="rendition-quality"[^>]*>([^<]*)</g)].map((match) => match[1]);
    expect(qualities).toEqual(['q41, SSIM 0.931', 'q80, SSIM 0.881 below its target 0.9']);
  });
});
