import { Logger } from '@aws-lambda-powertools/logger';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type StepDeps, defineStep } from '../../src/index.js';

describe('defineStep', () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it('logs why a step failed: the error name and its message reach the log line', async () => {
    const lines: string[] = [];
    // Powertools writes INFO to stdout and WARN/ERROR to stderr, one JSON document a line.
    for (const stream of [process.stdout, process.stderr]) {
      vi.spyOn(stream, 'write').mockImplementation((chunk: string | Uint8Array) => {
        lines.push(String(chunk));
        return true;
      });
    }
    const logger = new Logger({ serviceName: 'imgflow-test', logLevel: 'DEBUG' });
    const step = defineStep('ResizeImage', () => ({ logger }) as unknown as StepDeps, async () => {
      throw Object.assign(new Error('premature end of JPEG image'), { name: 'InvalidImageError', code: 'CORRUPT_IMAGE' });
    });
    await expect(step({})).rejects.toThrow('CORRUPT_IMAGE: premature end of JPEG image');
    vi.restoreAllMocks();
    const failed = lines.map((line) => JSON.parse(line) as Record<string, unknown>).find((entry) => entry.message === 'ResizeImage failed');
    expect(failed).toMatchObject({ level: 'WARN', step: 'ResizeImage', error: 'InvalidImageError', errorMessage: 'CORRUPT_IMAGE: premature end of JPEG image' });
    expect(lines.join('')).not.toContain('reserved key');
  });
});
