import { REASON_CODES, probe } from '@imgflow/image-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness } from '../src/harness.js';
import {
  BOMB_DIMENSIONS,
  type HostileCase,
  type HostileResult,
  hostileCases,
  keyLayoutProblems,
  renderHostileTable,
  retriesOnPermanentErrors,
  runHostile,
} from '../src/hostile.js';

const cases = await hostileCases();

describe('hostile and broken inputs, through the local runtime', () => {
  let harness: Harness;
  beforeAll(async () => {
    harness = await Harness.start();
  });
  afterAll(async () => {
    await harness.stop();
  });

  it.each(cases.map((hostile) => [hostile.name, hostile] as [string, HostileCase]))('%s', async (_name, hostile) => {
    const [result] = await runHostile(harness, [hostile]);
    expect(result?.problems).toEqual([]);
    expect(result?.status).toBe(hostile.expect.status);
    if (hostile.expect.status === 'REJECTED') expect(result?.code).toBe(hostile.expect.code);
    // No fault is injected: a rejection is permanent and never retried, and nothing else is retried either.
    expect(result?.retries).toBe(0);
  });
});

describe('the hostile inputs themselves', () => {
  it('has a decompression bomb for every accepted format, each probing as huge from its header', async () => {
    const bombs = cases.filter((hostile) => hostile.declaredPixels !== undefined);
    expect(bombs.length).toBeGreaterThanOrEqual(Object.keys(BOMB_DIMENSIONS).length);
    for (const bomb of bombs) {
      const info = await probe(bomb.body);
      expect(info.width * info.height, bomb.name).toBe(bomb.declaredPixels);
      expect(info.width * info.height, bomb.name).toBeGreaterThan(50_000_000);
      expect(bomb.body.length, bomb.name).toBeLessThan(64 * 1024);
    }
    expect(new Set(bombs.map((bomb) => bomb.key.split('.').pop()))).toEqual(new Set(['png', 'jpg', 'gif', 'webp', 'tiff', 'avif']));
  });

  it('has at least 80 inputs, each with a unique name and key, an exact expectation and a small body', () => {
    expect(cases.length).toBeGreaterThanOrEqual(80);
    expect(new Set(cases.map((hostile) => hostile.name)).size).toBe(cases.length);
    expect(new Set(cases.map((hostile) => hostile.key)).size).toBe(cases.length);
    for (const hostile of cases) {
      if (hostile.expect.status === 'REJECTED') expect(REASON_CODES, hostile.name).toContain(hostile.expect.code);
      expect(hostile.body.length, hostile.name).toBeLessThan(2 * 1024 * 1024);
    }
  });

  it('covers what issue 12 lists: every SVG spelling, refused formats, truncation of every accepted format, 0 to 3 bytes', () => {
    const names = cases.map((hostile) => hostile.name);
    const count = (prefix: string) => names.filter((name) => name.startsWith(prefix)).length;
    expect(count('SVG: ')).toBeGreaterThanOrEqual(10);
    expect(count('foreign: ')).toBeGreaterThanOrEqual(10);
    for (const format of ['JPEG', 'PNG', 'WebP', 'GIF', 'TIFF', 'AVIF']) expect(count(`truncated ${format}: `), format).toBeGreaterThanOrEqual(2);
    expect(new Set(cases.filter((hostile) => hostile.body.length <= 3).map((hostile) => hostile.body.length))).toEqual(new Set([0, 1, 2, 3]));
    expect(cases.filter((hostile) => hostile.expect.status === 'REJECTED' && hostile.expect.code === 'TOO_MANY_FRAMES').length).toBeGreaterThanOrEqual(2);
  });

  it('renders one table row per input, with the count of retries on permanent errors', () => {
    const results: HostileResult[] = [
      { name: 'a', key: 'a', expected: { status: 'REJECTED', code: 'TRUNCATED' }, status: 'REJECTED', code: 'TRUNCATED', retries: 0, problems: [] },
      { name: 'b', key: 'b', expected: { status: 'REJECTED', code: 'CORRUPT_IMAGE' }, status: 'REJECTED', code: 'CORRUPT_IMAGE', retries: 2, problems: ['retried 2 time(s) on a permanent error (CORRUPT_IMAGE)'] },
    ];
    expect(retriesOnPermanentErrors(results)).toBe(2);
    const table = renderHostileTable(results);
    expect(table).toMatch(/\| a +\| REJECTED TRUNCATED +\| REJECTED TRUNCATED +\| 0 +\| ok +\|/);
    expect(table).toContain('FAILED: retried 2 time(s) on a permanent error');
    expect(table).toContain('2 hostile inputs, 1 handled as required; retries on permanent errors: 2');
  });

  it('keeps keys the emulator cannot store inside renditions/ with safe names (outputStem)', () => {
    const { keys, problems } = keyLayoutProblems();
    expect(keys.length).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  });
});
