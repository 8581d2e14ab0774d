import { DEFAULT_RECIPE } from '@imgflow/image-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BenchImage } from '../src/corpus.js';
import { naiveModel } from '../src/variants/naive.js';
import { createVariant } from '../src/variants/index.js';
import type { RunResult, Variant } from '../src/variants/types.js';
import { smallImage } from './helpers.js';

const OUTPUTS = DEFAULT_RECIPE.renditions.length * DEFAULT_RECIPE.formats.length;

describe('exact counters on one small generated image (default recipe)', () => {
  let image: BenchImage;
  const variants: Variant[] = [];
  const results: Record<string, RunResult> = {};

  beforeAll(async () => {
    image = await smallImage();
    for (const name of ['floor', 'imgflow', 'naive'] as const) {
      const variant = await createVariant(name, DEFAULT_RECIPE);
      variants.push(variant);
      results[name] = await variant.run({ image, runId: `${name}-test`, keepOutputs: false });
    }
  });

  afterAll(async () => {
    await Promise.all(variants.map((variant) => variant.close()));
  });

  it('imgflow decodes the original exactly once and reads it twice (validate + resize)', () => {
    const counters = results.imgflow?.counters;
    expect(counters?.originalDecodes).toBe(1);
    expect(counters?.totalDecodes).toBe(1);
    expect(counters?.s3.originalGets).toBe(2);
    // The original twice, then the one bundle of renditions.
    expect(counters?.s3.gets).toBe(3);
  });

  it('imgflow writes one object per rendition × format and the manifest, plus one bundle', () => {
    const counters = results.imgflow?.counters;
    expect(counters?.s3.outputPuts).toBe(OUTPUTS + 1);
    expect(counters?.s3.puts).toBe(OUTPUTS + 2);
    expect(results.imgflow?.outputs).toHaveLength(OUTPUTS);
  });

  it('imgflow invokes each handler once and keeps its state small', () => {
    const counters = results.imgflow?.counters;
    expect(counters?.invocations).toEqual({ ValidateImage: 1, ResizeImage: 1, ApplyFilters: 1, OptimizeImage: 1, NotifySuccess: 1 });
    expect(counters?.lambdaInvocations).toBe(5);
    expect(counters?.transitions).toBeGreaterThanOrEqual(7);
    expect(counters?.maxPayloadBytes).toBeGreaterThan(0);
    expect(counters?.maxPayloadBytes).toBeLessThan(16 * 1024);
    expect(results.imgflow?.lambda.map((call) => call.role).sort()).toEqual(['filter', 'notify', 'optimize', 'resize', 'validate']);
  });

  it('imgflow: the ledger calls cost a handful of DynamoDB units, index writes counted (two KEYS_ONLY indexes)', () => {
    const units = results.imgflow?.counters?.dynamodb;
    // Writes: claim, content claim, PROCESSING, SUCCEEDED, content DONE, the notification's claim (before publishing:
    // a replayed execution cannot send it twice), notified. Read: the content claim (notify reads the record only when it loses the claim).
    expect(units?.requests).toEqual({ UpdateItem: 7, GetItem: 1 });
    expect(units?.conditionFailures).toBe(0);
    // byStatus: put (PENDING), delete + put (PROCESSING), delete + put (SUCCEEDED); bySourceKey: one put; markNotified touches neither.
    expect(units?.indexWrites).toEqual({ byStatus: 5, bySourceKey: 1 });
    expect(units?.tableWrites).toBeGreaterThanOrEqual(6);
    // The SUCCEEDED record lists each output with its content hash and rendition fingerprint (the manifest and re-renders need them): a KB more.
    expect(units?.tableWrites).toBeLessThanOrEqual(14);
    console.info(`imgflow ledger per image: ${JSON.stringify(units)}`);
    expect(units?.readUnits).toBeGreaterThanOrEqual(1);
    expect(results.floor?.counters?.dynamodb).toBeUndefined();
  });

  it('a repetition of the same bytes does the same work (no content-cache hit)', async () => {
    const imgflow = variants.find((variant) => variant.name === 'imgflow');
    const again = await imgflow?.run({ image, runId: 'imgflow-test-again', keepOutputs: false });
    const { maxPayloadBytes: first = 0, ...counters } = results.imgflow?.counters ?? {};
    const { maxPayloadBytes: second = 0, ...repeated } = again?.counters ?? {};
    // The manifest names the job, the upload key and the time: its size differs by a few bytes between runs.
    const putBytes = (each: object) => ('s3' in each ? (each.s3 as { putBytes: number }).putBytes : 0);
    const withoutPutBytes = (each: object) => ('s3' in each ? { ...each, s3: { ...(each.s3 as object), putBytes: 0 } } : each);
    expect(withoutPutBytes(repeated)).toEqual(withoutPutBytes(counters));
    expect(Math.abs(putBytes(repeated) - putBytes(counters))).toBeLessThan(1000);
    // The state holds the upload key and execution name, whose lengths differ between runs.
    expect(Math.abs(second - first)).toBeLessThan(200);
  });

  it('naive decodes and moves far more, exactly as its design says', () => {
    const naive = results.naive?.counters;
    const renditions = DEFAULT_RECIPE.renditions.length;
    // validate + one per rendition (resize) read and decode the original.
    expect(naive?.originalDecodes).toBe(1 + renditions);
    expect(naive?.s3.originalGets).toBe(1 + renditions);
    // + one per rendition (filter) + one per output (optimize).
    expect(naive?.totalDecodes).toBe(1 + renditions + renditions + OUTPUTS);
    expect(naive?.s3.gets).toBe(1 + renditions + renditions + OUTPUTS);
    expect(naive?.s3.puts).toBe(renditions + renditions + OUTPUTS);
    expect(naive?.s3.outputPuts).toBe(OUTPUTS);
    expect(naive?.totalDecodes).toBeGreaterThan(results.imgflow?.counters?.totalDecodes ?? Number.POSITIVE_INFINITY);
    expect(naive?.invocations).toEqual(naiveModel(renditions, OUTPUTS).invocations);
    expect(naive?.lambdaInvocations).toBe(1 + renditions + renditions + OUTPUTS + 1);
    expect(naive?.transitions).toBe(20);
  });

  it('the floor decodes once and produces the same outputs', () => {
    expect(results.floor?.counters?.originalDecodes).toBe(1);
    expect(results.floor?.counters?.totalDecodes).toBe(1);
    const shape = (result?: RunResult) => result?.outputs.map(({ rendition, format, width, height }) => ({ rendition, format, width, height })).sort((a, b) => `${a.rendition}${a.format}`.localeCompare(`${b.rendition}${b.format}`));
    expect(shape(results.floor)).toEqual(shape(results.imgflow));
    expect(shape(results.naive)).toEqual(shape(results.imgflow));
  });
});
