import { jobsTableDefinition } from '@imgflow/pipeline';
import { describe, expect, it } from 'vitest';
import { itemSize, readUnits, writeCost, writeUnits } from '../src/dynamodb.js';

const definition = jobsTableDefinition('jobs');
/** The layout before content claims: three indexes projecting everything, keyed on status, contentKey and sourceKey. */
const allProjections = {
  ...definition,
  GlobalSecondaryIndexes: [
    ['byStatus', 'status'],
    ['byContent', 'contentKey'],
    ['bySourceKey', 'sourceKey'],
  ].map(([name, key]) => ({
    IndexName: name,
    KeySchema: [
      { AttributeName: key, KeyType: 'HASH' as const },
      { AttributeName: 'updatedAt', KeyType: 'RANGE' as const },
    ],
    Projection: { ProjectionType: 'ALL' as const },
  })),
};

const pending = { jobId: 'j'.repeat(32), status: 'PENDING', statusShard: 'PENDING#3', sourceKey: 'uploads/a.jpg', createdAt: '2030-01-01T00:00:00.000Z', updatedAt: '2030-01-01T00:00:00.000Z', attempts: 1 };
const processing = { ...pending, status: 'PROCESSING', statusShard: 'PROCESSING#3', updatedAt: '2030-01-01T00:00:01.000Z', sha256: 'a'.repeat(64) };
const outputs = Array.from({ length: 9 }, (_, index) => ({ rendition: `r${index}`, format: 'webp', key: `renditions/uploads/a/r${index}.webp`, width: 320, height: 240, bytes: 12345 }));
const succeeded = { ...processing, status: 'SUCCEEDED', statusShard: 'SUCCEEDED#3', updatedAt: '2030-01-01T00:00:02.000Z', contentKey: `${'a'.repeat(64)}#r1`, outputs };

describe('DynamoDB units as AWS bills them', () => {
  it('sizes items by attribute names and values (strings in UTF-8, lists and maps with their overhead)', () => {
    expect(itemSize({ a: 'xyz' })).toBe(4);
    expect(itemSize({ name: 'é' })).toBe(6);
    expect(itemSize({ l: ['a', 'b'] })).toBe(1 + 3 + 2 * 2);
    expect(itemSize({ m: { k: 'v' } })).toBe(1 + 3 + 1 + 1 + 1);
    expect(writeUnits(0)).toBe(1);
    expect(writeUnits(1024)).toBe(1);
    expect(writeUnits(1025)).toBe(2);
    expect(readUnits(5000, true)).toBe(2);
    expect(readUnits(100, false)).toBe(0.5);
  });

  it('KEYS_ONLY, sharded status: a status change is a delete and a put of one unit each; an attribute change writes no index', () => {
    expect(writeCost(definition, undefined, pending).indexes).toEqual({ byStatus: 1, bySourceKey: 1 });
    expect(writeCost(definition, pending, processing).indexes).toEqual({ byStatus: 2, bySourceKey: 0 });
    expect(writeCost(definition, processing, succeeded).indexes).toEqual({ byStatus: 2, bySourceKey: 0 });
    expect(writeCost(definition, succeeded, { ...succeeded, notified: true }).indexes).toEqual({ byStatus: 0, bySourceKey: 0 });
    // The table write is priced by the larger of the item before and after.
    expect(writeCost(definition, succeeded, { ...succeeded, notified: true }).table).toBe(writeUnits(itemSize({ ...succeeded, notified: true })));
    // A content claim has no index key: in no index.
    expect(writeCost(definition, undefined, { jobId: 'content#x', kind: 'content', owner: 'j', claimState: 'CLAIMED', updatedAt: 't', createdAt: 't', version: 1 }).indexes).toEqual({ byStatus: 0, bySourceKey: 0 });
  });

  it('the three ALL indexes of the earlier layout wrote every change into every index, at the size of the whole item', () => {
    const { statusShard: _a, ...p } = pending;
    const { statusShard: _b, ...q } = processing;
    const { statusShard: _c, ...s } = succeeded;
    const total = (before: object | undefined, after: object) => Object.values(writeCost(allProjections, before as never, after as never).indexes).reduce((sum, units) => sum + units, 0);
    const earlier = total(undefined, p) + total(p, q) + total(q, s) + total(s, { ...s, notified: true });
    const now = [writeCost(definition, undefined, pending), writeCost(definition, pending, processing), writeCost(definition, processing, succeeded), writeCost(definition, succeeded, { ...succeeded, notified: true })]
      .flatMap((cost) => Object.values(cost.indexes))
      .reduce((sum, units) => sum + units, 0);
    expect(now).toBe(6);
    expect(earlier).toBeGreaterThanOrEqual(20);
  });
});
