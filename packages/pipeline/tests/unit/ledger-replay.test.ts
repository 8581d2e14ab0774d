import { GetCommand, type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { JobLedger, type JobRecord } from '../../src/index.js';
import { FaultPlan, MemoryLedger } from '../../src/testing.js';

/*
 * Express runs an execution at least once: two copies with the same execution id may run the
 * same job. The ledger's rules that make that harmless: a finished record is never changed by an
 * execution, and a job is notified once. (apps/local-runtime/tests/runner-limits.test.ts runs
 * the same rules on dynalite, which evaluates the conditions, and against MemoryLedger.)
 */

const NOW = new Date('2030-01-01T00:00:00.000Z');
const EXEC = 'arn:aws:states:us-east-1:000000000000:execution:imgflow:one';
const OTHER = 'arn:aws:states:us-east-1:000000000000:execution:imgflow:two';
const source = { bucket: 'uploads', key: 'a.jpg', etag: 'e', size: 1 };
const job = { jobId: 'j1', executionId: EXEC, sha256: 'a'.repeat(64), recipe: 'r1' };
const validated = { ...job, source, format: 'jpeg', width: 1, height: 1, frames: 1, icc: false, clean: true, stem: 'a', startedAt: NOW.toISOString() } as never;
const success = { outputBucket: 'out', outputs: [{ rendition: 'sm', format: 'webp' as const, key: 'k', width: 1, height: 1, bytes: 1 }], timings: {}, cacheHit: false };
const failure = { error: 'SourceMissingError', code: 'SOURCE_MISSING', message: 'gone' };

function conditionFailed(): Error {
  return Object.assign(new Error('The conditional request failed'), { name: 'ConditionalCheckFailedException' });
}

function record(status: JobRecord['status'], executionId = EXEC): JobRecord {
  return { jobId: 'j1', status, sourceBucket: 'uploads', sourceKey: 'a.jpg', etag: 'e', size: 1, executionId, attempts: 1, createdAt: '', updatedAt: '' };
}

/** A DocumentClient whose every update fails its condition and whose reads find `item`; the calls are kept. */
function refusingDynamo(item: JobRecord | undefined): { client: DynamoDBDocumentClient; calls: unknown[] } {
  const calls: unknown[] = [];
  const client = {
    send: async (command: unknown) => {
      calls.push(command);
      if (command instanceof GetCommand) return item ? { Item: item } : {};
      throw conditionFailed();
    },
  } as unknown as DynamoDBDocumentClient;
  return { client, calls };
}

/** A DocumentClient that accepts every write (answering `attributes`); the calls are kept. */
function acceptingDynamo(attributes: Partial<JobRecord> = {}): { client: DynamoDBDocumentClient; calls: unknown[] } {
  const calls: unknown[] = [];
  const client = {
    send: async (command: unknown) => {
      calls.push(command);
      return { Attributes: { ...record('PENDING'), ...attributes } };
    },
  } as unknown as DynamoDBDocumentClient;
  return { client, calls };
}

const updates = (calls: unknown[]) => calls.filter((call) => call instanceof UpdateCommand) as UpdateCommand[];

describe('JobLedger conditions (on a scripted DynamoDB)', () => {
  it('claim: a FAILED job is claimed again only by another execution; a re-claim clears the notification claim', async () => {
    const { client, calls } = acceptingDynamo();
    await new JobLedger(client, 'jobs').claim(source, 'j1', EXEC, NOW, 900);
    const [write] = updates(calls);
    expect(write?.input.ConditionExpression).toBe(
      'attribute_not_exists(#jobId) OR (#status = :failed AND #executionId <> :executionId) OR ((#status = :pending OR #status = :processing) AND #leaseExpiresAt < :now)',
    );
    expect(write?.input.ExpressionAttributeValues).toMatchObject({ ':executionId': EXEC, ':failed': 'FAILED' });
    expect(write?.input.UpdateExpression).toMatch(/REMOVE .*#notified, #notifyingUntil$/);
  });

  it.each([
    ['succeed', (ledger: JobLedger) => ledger.succeed(job, success), '(#owner = :owner AND (#status = :pending OR #status = :processing))'],
    ['markProcessing', (ledger: JobLedger) => ledger.markProcessing(validated), '(#owner = :owner AND (#status = :pending OR #status = :processing))'],
    [
      'finish',
      (ledger: JobLedger) => ledger.finish(source, 'j1', EXEC, 'FAILED', failure, {}),
      'attribute_not_exists(#owner) OR (#owner = :owner AND (#status = :pending OR #status = :processing))',
    ],
  ] as const)('%s: writes only while the job is PENDING or PROCESSING and owned', async (_name, write, condition) => {
    const { client, calls } = acceptingDynamo({ status: 'SUCCEEDED', cacheHit: true });
    await write(new JobLedger(client, 'jobs'));
    const [update] = updates(calls);
    expect(update?.input.ConditionExpression).toBe(condition);
    expect(update?.input.ExpressionAttributeValues).toMatchObject({ ':owner': EXEC, ':pending': 'PENDING', ':processing': 'PROCESSING' });
  });

  it('succeed: a job this execution already ended SUCCEEDED is a repeat: true, not written again', async () => {
    const { client, calls } = refusingDynamo({ ...record('SUCCEEDED'), cacheHit: true });
    expect(await new JobLedger(client, 'jobs').succeed(job, success)).toBe(true);
    expect(updates(calls)).toHaveLength(1);
  });

  it.each([
    ['FAILED by this execution', record('FAILED')],
    ['SUCCEEDED by another execution', record('SUCCEEDED', OTHER)],
    ['taken over by another execution', record('PROCESSING', OTHER)],
  ])('succeed: false when the job is %s', async (_label, existing) => {
    const { client } = refusingDynamo(existing);
    expect(await new JobLedger(client, 'jobs').succeed(job, success)).toBe(false);
  });

  it('finish: FAILED over this execution’s SUCCEEDED is refused; over its own FAILED, a repeat (the content claim released again)', async () => {
    expect(await new JobLedger(refusingDynamo(record('SUCCEEDED')).client, 'jobs').finish(source, 'j1', EXEC, 'FAILED', failure, {})).toBe(false);
    expect(await new JobLedger(refusingDynamo(record('REJECTED')).client, 'jobs').finish(source, 'j1', EXEC, 'FAILED', failure, {})).toBe(false);
    const { client, calls } = refusingDynamo({ ...record('FAILED'), sha256: 'a'.repeat(64), recipe: 'r1' });
    expect(await new JobLedger(client, 'jobs').finish(source, 'j1', EXEC, 'FAILED', failure, {})).toBe(true);
    expect(updates(calls).map((call) => call.input.Key?.jobId)).toEqual(['j1', `content#${'a'.repeat(64)}#r1`]);
  });

  it('markProcessing: false once the job ended (a replay stops there)', async () => {
    expect(await new JobLedger(refusingDynamo(record('SUCCEEDED')).client, 'jobs').markProcessing(validated)).toBe(false);
  });

  it('claimNotification: one claim at a time, for a finished job not yet notified; releaseNotification gives back only that claim', async () => {
    const { client, calls } = acceptingDynamo();
    const ledger = new JobLedger(client, 'jobs');
    expect(await ledger.claimNotification({ jobId: 'j1', executionId: EXEC, status: 'SUCCEEDED' }, NOW, 8)).toBe(true);
    await ledger.releaseNotification({ jobId: 'j1', executionId: EXEC }, NOW, 8);
    const [claim, release] = updates(calls);
    expect(claim?.input.ConditionExpression).toBe('#status = :seenStatus AND #owner = :owner AND attribute_not_exists(#notified) AND (attribute_not_exists(#until) OR #until < :now)');
    expect(claim?.input.ExpressionAttributeValues).toMatchObject({ ':until': '2030-01-01T00:00:08.000Z', ':seenStatus': 'SUCCEEDED', ':owner': EXEC });
    expect(release?.input.UpdateExpression).toBe('REMOVE #until');
    expect(release?.input.ConditionExpression).toBe('#owner = :owner AND #until = :until AND attribute_not_exists(#notified)');
    expect(release?.input.ExpressionAttributeValues).toEqual({ ':until': '2030-01-01T00:00:08.000Z', ':owner': EXEC });
  });

  it('claimContent: its own DONE claim (the job already succeeded) is not taken back', async () => {
    const calls: unknown[] = [];
    const client = {
      send: async (command: unknown) => {
        calls.push(command);
        return { Item: { jobId: 'content#x', kind: 'content', owner: 'j1', claimState: 'DONE', version: 3 } };
      },
    } as unknown as DynamoDBDocumentClient;
    expect(await new JobLedger(client, 'jobs').claimContent(job, NOW, 900)).toEqual({ state: 'owner' });
    expect(updates(calls)).toEqual([]);
  });
});

describe('MemoryLedger: two copies of one execution', () => {
  it('both claim and process; the first SUCCEEDED stands, the late copy changes nothing; one notification claim wins', async () => {
    const ledger = new MemoryLedger(new FaultPlan(), () => NOW);
    expect((await ledger.claim(source, 'j1', EXEC, NOW, 900)).claimed).toBe(true);
    expect((await ledger.claim(source, 'j1', EXEC, NOW, 900)).claimed).toBe(true);
    expect(await ledger.markProcessing(validated)).toBe(true);
    expect(await ledger.succeed(job, success)).toBe(true);
    const done = structuredClone(ledger.records.get('j1'));
    expect(await ledger.succeed(job, { ...success, outputs: [] })).toBe(true);
    expect(await ledger.finish(source, 'j1', EXEC, 'FAILED', failure, {})).toBe(false);
    expect(await ledger.markProcessing(validated)).toBe(false);
    expect(ledger.records.get('j1')).toEqual(done);
    const claims = await Promise.all([1, 2].map(() => ledger.claimNotification({ jobId: 'j1', executionId: EXEC, status: 'SUCCEEDED' }, NOW, 8)));
    expect(claims.sort()).toEqual([false, true]);
    expect((await ledger.claim(source, 'j1', EXEC, NOW, 900)).claimed).toBe(false);
  });

  it('a FAILED job: its own replay may not claim it or make it SUCCEEDED; another execution claims it', async () => {
    const ledger = new MemoryLedger(new FaultPlan(), () => NOW);
    await ledger.claim(source, 'j1', EXEC, NOW, 900);
    expect(await ledger.finish(source, 'j1', EXEC, 'FAILED', failure, {})).toBe(true);
    expect(await ledger.finish(source, 'j1', EXEC, 'FAILED', { ...failure, code: 'OTHER' }, {})).toBe(true);
    expect(ledger.records.get('j1')?.reasonCode).toBe('SOURCE_MISSING');
    expect(await ledger.succeed(job, success)).toBe(false);
    expect((await ledger.claim(source, 'j1', EXEC, NOW, 900)).claimed).toBe(false);
    expect((await ledger.claim(source, 'j1', OTHER, NOW, 900)).claimed).toBe(true);
    expect(ledger.records.get('j1')).toMatchObject({ status: 'PENDING', executionId: OTHER, attempts: 2 });
  });
});
