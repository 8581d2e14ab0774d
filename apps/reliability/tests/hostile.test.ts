import { probe } from '@imgflow/image-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Harness } from '../src/harness.js';
import { BOMB_DIMENSIONS, type HostileCase, hostileCases, keyLayoutProblems, runHostile } from '../src/hostile.js';

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
  });
});

describe('the hostile inputs themselves', () => {
  it('has a decompression bomb for every accepted format, each probing as huge from its header', async () => {
    const bombs = cases.filter((hostile) => hostile.declaredPixels !== undefined);
    expect(bombs).toHaveLength(Object.keys(BOMB_DIMENSIONS).length);
    for (const bomb of bombs) {
      const info = await probe(bomb.body);
      expect(info.width * info.height, bomb.name).toBe(bomb.declaredPixels);
      expect(info.width * info.height, bomb.name).toBeGreaterThan(50_000_000);
      expect(bomb.body.length, bomb.name).toBeLessThan(64 * 1024);
    }
    expect(new Set(bombs.map((bomb) => bomb.key.split('.').pop()))).toEqual(new Set(['png', 'jpg', 'gif', 'webp', 'tiff', 'avif']));
  });

  it('keeps keys the emulator cannot store inside renditions/ with safe names (outputStem)', () => {
    const { keys, problems } = keyLayoutProblems();
    expect(keys.length).toBeGreaterThan(0);
    expect(problems).toEqual([]);
  });
});
