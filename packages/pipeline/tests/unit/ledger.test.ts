import { BatchGetCommand, type DynamoDBDocumentClient, GetCommand, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { type ContentClaimRecord, JobLedger, type JobRecord, STATUS_SHARDS, contentClaimKey, jobsTableDefinition, statusShard } from '../../src/index.js';
import { FaultPlan, MemoryLedger } from '../../src/testing.js';

const NOW = new Date('2030-01-01T00:00:00.000Z');
const job = (jobId: string, sha256 = 'a'.repeat(64)) => ({ jobId, sha256, recipe: 'r1', executionId: `exec-${jobId}` });

function conditionFailed(): Error {
  return Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' });
}

/** A DocumentClient whose every call is answered by `answer`, in order; the calls are kept. */
function scriptedDynamo(answer: (command: unknown, index: number) => unknown): { client: DynamoDBDocumentClient; calls: unknown[] } {
  const calls: unknown[] = [];
  const client = {
    send: async (command: unknown) => {
      calls.push(command);
      const result = answer(command, calls.length - 1);
      if (result instanceof Error) throw result;
      return result;
    },
  } as unknown as DynamoDBDocumentClient;
  return { client, calls };
}

function record(jobId: string, status: JobRecord['status'], updatedAt: string): JobRecord {
  return { jobId, status, sourceBucket: 'b', sourceKey: `k/${jobId}`, etag: 'e', size: 1, executionId: 'x', attempts: 1, createdAt: updatedAt, updatedAt };
}

describe('statusShard', () => {
  it('is the status and a shard from 0 to STATUS_SHARDS-1, the same for a job whatever its status', () => {
    const shard = (value: string) => Number(value.split('#')[1]);
    expect(statusShard('PENDING', 'abc')).toMatch(/^PENDING#\d+$/);
    expect(shard(statusShard('PENDING', 'abc'))).toBe(shard(statusShard('SUCCEEDED', 'abc')));
    const counts = new Array(STATUS_SHARDS).fill(0) as number[];
    for (let index = 0; index < 8000; index += 1) {
      const jobId = (index * 2654435761).toString(16).padStart(32, '0');
      const bucket = shard(statusShard('SUCCEEDED', jobId));
      counts[bucket] = (counts[bucket] ?? 0) + 1;
    }
    // Spread evenly: every shard within 15 % of its fair share.
    for (const count of counts) expect(Math.abs(count - 8000 / STATUS_SHARDS)).toBeLessThan((8000 / STATUS_SHARDS) * 0.15);
  });
});

describe('jobsTableDefinition', () => {
  it('has two KEYS_ONLY indexes and no content index (the content cache reads claim items)', () => {
    const definition = jobsTableDefinition('jobs');
    expect(definition.GlobalSecondaryIndexes?.map((index) => index.IndexName)).toEqual(['byStatus', 'bySourceKey']);
    expect(new Set(definition.GlobalSecondaryIndexes?.map((index) => index.Projection?.ProjectionType))).toEqual(new Set(['KEYS_ONLY']));
    expect(definition.AttributeDefinitions?.map((attribute) => attribute.AttributeName).sort()).toEqual(['createdAt', 'jobId', 'sourceKey', 'statusShard', 'updatedAt']);
  });
});

describe('JobLedger.claimContent (on a scripted DynamoDB)', () => {
  it('claims bytes nobody holds with one conditional write on attribute_not_exists', async () => {
    const { client, calls } = scriptedDynamo((command) => (command instanceof GetCommand ? {} : {}));
    const claim = await new JobLedger(client, 'jobs').claimContent(job('j1'), NOW, 900);
    expect(claim).toEqual({ state: 'owner' });
    const write = calls.find((call) => call instanceof UpdateCommand) as UpdateCommand;
    expect(write.input.Key).toEqual({ jobId: contentClaimKey('a'.repeat(64), 'r1') });
    expect(write.input.ConditionExpression).toBe('attribute_not_exists(#key)');
    expect(write.input.ExpressionAttributeValues).toMatchObject({ ':owner': 'j1', ':claimState': 'CLAIMED', ':leaseExpiresAt': '2030-01-01T00:15:00.000Z' });
  });

  it('loses a race cleanly: the write fails its condition, the item read again belongs to the winner, busy', async () => {
    const winner: ContentClaimRecord = { jobId: 'content#x', kind: 'content', owner: 'j2', claimState: 'CLAIMED', leaseExpiresAt: '2030-01-01T00:15:00.000Z', version: 1, createdAt: '', updatedAt: '' };
    let reads = 0;
    const { client } = scriptedDynamo((command) => {
      if (command instanceof GetCommand) return reads++ === 0 ? {} : { Item: winner };
      return conditionFailed();
    });
    expect(await new JobLedger(client, 'jobs').claimContent(job('j1'), NOW, 900)).toEqual({ state: 'busy', owner: 'j2', leaseExpiresAt: '2030-01-01T00:15:00.000Z' });
  });

  it('answers done with the owner record, read consistently, when the bytes were processed', async () => {
    const owner = { ...record('j0', 'SUCCEEDED', '2029-01-01T00:00:00.000Z'), outputBucket: 'out', outputs: [] };
    const { client, calls } = scriptedDynamo((command) => {
      const key = (command as GetCommand).input.Key?.jobId;
      return key === 'j0' ? { Item: owner } : { Item: { jobId: key, kind: 'content', owner: 'j0', claimState: 'DONE', version: 2 } };
    });
    expect(await new JobLedger(client, 'jobs').claimContent(job('j1'), NOW, 900)).toEqual({ state: 'done', record: owner });
    expect(calls.every((call) => call instanceof GetCommand && call.input.ConsistentRead === true)).toBe(true);
  });

  it('takes over a DONE claim whose owner no longer shows outputs, conditional on the version it read', async () => {
    const { client, calls } = scriptedDynamo((command) => {
      if (command instanceof UpdateCommand) return {};
      const key = (command as GetCommand).input.Key?.jobId;
      return key === 'j0' ? {} : { Item: { jobId: key, kind: 'content', owner: 'j0', claimState: 'DONE', version: 7 } };
    });
    expect(await new JobLedger(client, 'jobs').claimContent(job('j1'), NOW, 900)).toEqual({ state: 'owner' });
    const write = calls.find((call) => call instanceof UpdateCommand) as UpdateCommand;
    expect(write.input.ConditionExpression).toBe('#version = :seen');
    expect(write.input.ExpressionAttributeValues?.[':seen']).toBe(7);
  });
});

describe('JobLedger.listByStatus (on a scripted DynamoDB)', () => {
  it('queries every shard, merges newest first, reads the jobs consistently and drops those whose status moved on', async () => {
    const items: Record<string, JobRecord> = {
      a: record('a', 'SUCCEEDED', '2030-01-01T00:00:03.000Z'),
      b: record('b', 'SUCCEEDED', '2030-01-01T00:00:02.000Z'),
      c: record('c', 'FAILED', '2030-01-01T00:00:05.000Z'),
    };
    const { client, calls } = scriptedDynamo((command) => {
      if (command instanceof QueryCommand) {
        const shard = command.input.ExpressionAttributeValues?.[':value'];
        if (shard === 'SUCCEEDED#1') return { Items: [{ jobId: 'c', updatedAt: '2030-01-01T00:00:04.000Z' }, { jobId: 'b', updatedAt: '2030-01-01T00:00:02.000Z' }] };
        if (shard === 'SUCCEEDED#6') return { Items: [{ jobId: 'a', updatedAt: '2030-01-01T00:00:03.000Z' }] };
        return { Items: [] };
      }
      const keys = (command as BatchGetCommand).input.RequestItems?.jobs?.Keys ?? [];
      return { Responses: { jobs: keys.map((key) => items[key.jobId as string]) } };
    });
    const listed = await new JobLedger(client, 'jobs').listByStatus('SUCCEEDED', 10);
    expect(listed.map((each) => each.jobId)).toEqual(['a', 'b']);
    const queries = calls.filter((call) => call instanceof QueryCommand) as QueryCommand[];
    expect(queries.map((query) => query.input.ExpressionAttributeValues?.[':value']).sort()).toEqual(Array.from({ length: STATUS_SHARDS }, (_, shard) => `SUCCEEDED#${shard}`));
    const batch = calls.find((call) => call instanceof BatchGetCommand) as BatchGetCommand;
    expect(batch.input.RequestItems?.jobs).toMatchObject({ ConsistentRead: true, Keys: [{ jobId: 'c' }, { jobId: 'a' }, { jobId: 'b' }] });
  });
});

describe('MemoryLedger content claims', () => {
  it('one owner among simultaneous claims; done after it succeeds; released when it fails', async () => {
    const ledger = new MemoryLedger(new FaultPlan(), () => NOW);
    const claims = await Promise.all(['j1', 'j2', 'j3'].map((id) => ledger.claimContent(job(id), NOW, 900)));
    expect(claims.map((claim) => claim.state)).toEqual(['owner', 'busy', 'busy']);
    await ledger.claim({ bucket: 'b', key: 'k', etag: 'e', size: 1 }, 'j1', 'exec-j1', NOW, 900);
    await ledger.succeed(job('j1'), { outputBucket: 'out', outputs: [], timings: {}, cacheHit: false });
    expect(await ledger.claimContent(job('j2'), NOW, 900)).toMatchObject({ state: 'done', record: { jobId: 'j1' } });

    const other = job('j4', 'b'.repeat(64));
    expect(await ledger.claimContent(other, NOW, 900)).toEqual({ state: 'owner' });
    await ledger.claim({ bucket: 'b', key: 'k4', etag: 'e', size: 1 }, 'j4', 'exec-j4', NOW, 900);
    await ledger.markProcessing({ ...other, source: { bucket: 'b', key: 'k4', etag: 'e', size: 1 } } as never);
    await ledger.finish({ bucket: 'b', key: 'k4', etag: 'e', size: 1 }, 'j4', 'exec-j4', 'FAILED', { error: 'E', code: 'C', message: 'm' }, {});
    expect(await ledger.claimContent(job('j5', 'b'.repeat(64)), NOW, 900)).toEqual({ state: 'owner' });
  });
});
