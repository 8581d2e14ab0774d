import { describe, expect, it } from 'vitest';
import { formatBytes, formatDuration, truncate } from '../src/ui/format.js';
import { FollowProgress, StepCounter } from '../src/ui/progress.js';
import { captureIo, succeededRecord } from './helpers.js';
import { outputsTable } from '../src/commands/status.js';

describe('format', () => {
  it('formats bytes in SI units', () => {
    expect(formatBytes(0)).toBe('0 B');
    expect(formatBytes(999)).toBe('999 B');
    expect(formatBytes(1234)).toBe('1.2 kB');
    expect(formatBytes(45_600)).toBe('46 kB');
    expect(formatBytes(3_400_000)).toBe('3.4 MB');
    expect(formatBytes(undefined)).toBe('-');
  });

  it('formats durations', () => {
    expect(formatDuration(850)).toBe('850ms');
    expect(formatDuration(4210)).toBe('4.2s');
    expect(formatDuration(65_000)).toBe('1m05s');
  });

  it('truncates with an ellipsis and flattens whitespace', () => {
    expect(truncate('a  b\nc', 10)).toBe('a b c');
    expect(truncate('abcdefghij', 5)).toBe('abcd…');
  });
});

describe('StepCounter', () => {
  it('counts executions per step, Parallel branches at once, Notify* as one, cleared by catch and finish', () => {
    const steps = new StepCounter();
    steps.update({ type: 'entered', name: 'e1', state: 'ValidateImage', stateType: 'Task' });
    steps.update({ type: 'entered', name: 'e2', state: 'ValidateImage', stateType: 'Task' });
    expect(steps.counts()).toEqual({ validate: 2, resize: 0, filter: 0, optimize: 0, notify: 0 });

    steps.update({ type: 'exited', name: 'e1', state: 'ValidateImage', stateType: 'Task' });
    steps.update({ type: 'entered', name: 'e1', state: 'ProcessImage', stateType: 'Parallel' });
    steps.update({ type: 'entered', name: 'e1', state: 'ResizeImage', stateType: 'Task' });
    steps.update({ type: 'entered', name: 'e1', state: 'ApplyFilters', stateType: 'Task' });
    steps.update({ type: 'caught', name: 'e2', state: 'ValidateImage' });
    steps.update({ type: 'entered', name: 'e2', state: 'NotifyError', stateType: 'Task' });
    expect(steps.counts()).toEqual({ validate: 0, resize: 1, filter: 1, optimize: 0, notify: 1 });
    expect(steps.describe()).toBe('validate 0 · resize 1 · filter 1 · optimize 0 · notify 1');

    steps.update({ type: 'finished', name: 'e1', report: {} as never });
    expect(steps.counts()).toEqual({ validate: 0, resize: 0, filter: 0, optimize: 0, notify: 1 });
  });
});

describe('FollowProgress', () => {
  it('rewrites one live line on a terminal, and prints a line per status and step elsewhere', () => {
    const tty = captureIo();
    Object.assign(tty.stdout, { isTTY: true, columns: 80 });
    const live = new FollowProgress(tty);
    live.setStatus('PROCESSING');
    live.setStep('entered ResizeImage');
    live.end();
    const clear = '\r\u001b[2K';
    expect(tty.out().replace(/\d\d:\d\d:\d\d/g, 'hh:mm:ss')).toBe(`${clear}hh:mm:ss PROCESSING${clear}hh:mm:ss PROCESSING · entered ResizeImage\n`);

    const plain = captureIo();
    const lines = new FollowProgress(plain);
    lines.setStatus('PROCESSING');
    lines.setStatus('PROCESSING');
    lines.setStep('entered ResizeImage');
    lines.end();
    expect(plain.out()).toMatch(/^\d\d:\d\d:\d\d PROCESSING\n\d\d:\d\d:\d\d {3}entered ResizeImage\n$/);
  });
});

describe('the outputs table of a job', () => {
  const output = { rendition: 'sm', width: 320, height: 240, bytes: 2048 };

  it("adds a Quality column when a format's quality was 'auto': the quality, its score, and a target out of reach", () => {
    const text = outputsTable(
      captureIo(),
      succeededRecord([
        { ...output, format: 'webp', key: 'sm.webp', autoQuality: { quality: 41, score: 0.9312, target: 0.92, metric: 'ssim', met: true, trials: 3 } },
        { ...output, format: 'avif', key: 'sm.avif', autoQuality: { quality: 80, score: 0.8811, target: 0.9, metric: 'ssim', met: false, trials: 3 } },
        { ...output, format: 'jpeg', key: 'sm.jpeg' },
      ]),
    );
    expect(text).toContain('Quality');
    expect(text).toContain('q41 · SSIM 0.931');
    expect(text).toContain('q80 · SSIM 0.881 < 0.9');
  });

  it('has no Quality column when every quality was fixed', () => {
    const text = outputsTable(captureIo(), succeededRecord([{ ...output, format: 'jpeg', key: 'sm.jpeg' }]));
    expect(text).not.toContain('Quality');
    expect(text).toContain('sm.jpeg');
  });
});
