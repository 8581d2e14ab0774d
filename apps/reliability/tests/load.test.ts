import { describe, expect, it } from 'vitest';
import { LAMBDA_MEMORY_MB, LARGE_IMAGE_EXPECTED, largeImageChecks, runLoad } from '../src/load.js';

describe('imgflow run under load (CI size)', () => {
  it('ends every input in exactly one terminal record and one notification, with no work objects left', async () => {
    const result = await runLoad({ images: 30, concurrency: 3, seed: 2, maxMegapixels: 8 });
    expect(result.images).toBe(30);
    expect(result.lost).toEqual([]);
    expect(result.duplicates).toEqual([]);
    expect(result.leftoverWork).toBe(0);
    expect(result.invalid).toBe(3);
    expect(result.byStatus).toEqual({ SUCCEEDED: 27, REJECTED: 3 });
    expect(result.outputs).toBe(27 * 9);
    expect(result.peakInFlight).toBeGreaterThan(1);
    expect(result.peakInFlight).toBeLessThanOrEqual(3);
    expect(result.peakRssMb).toBeGreaterThan(0);
    // Every AWS call of the run was checked against the rendered policies, and none was refused.
    expect(result.iam.denials).toEqual([]);
    expect(result.iam.denied).toBe(0);
    expect(result.iam.checked).toBeGreaterThan(27 * 20);
    console.info(`load: 30 images, peak RSS ${result.peakRssMb} MB, ${result.iam.checked} AWS calls checked against IAM, ${result.iam.denied} denied`);
  });
});

describe('large images', () => {
  it('processes a 50 MP JPEG and PNG within a 1024 MB Lambda, and refuses what the limits refuse, naming the limit', async () => {
    const results = await largeImageChecks();
    for (const result of results) {
      const expected = LARGE_IMAGE_EXPECTED[result.case];
      expect({ name: result.name, status: result.status, code: result.code }).toEqual({ name: result.name, status: expected.status, code: expected.code });
      expect(result.maxRssMb, result.name).toBeLessThan(LAMBDA_MEMORY_MB);
      expect(result.maxRssMb, result.name).toBeGreaterThan(0);
    }
    expect(results.find((result) => result.case === 'jpeg')?.outputs).toBe(9);
    console.info(results.map((result) => `${result.name}: ${result.status} ${result.code ?? ''} peak ${result.maxRssMb} MB`).join('\n'));
  });
});
