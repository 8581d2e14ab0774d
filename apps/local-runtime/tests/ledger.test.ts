import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateTableCommand, type CreateTableCommandInput, DynamoDBClient, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import {
  type ContentClaim,
  type ContentClaimRecord,
  JobLedger,
  type JobRecord,
  STATUS_INDEX,
  STATUS_SHARDS,
  contentClaimKey,
  createClients,
  destroyClients,
  ensureJobsTable,
  jobIdFor,
  jobsTableDefinition,
  statusShard,
} from '@imgflow/pipeline';
import { FaultPlan, MemoryLedger } from '@imgflow/pipeline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ExecutionReport, JOBS_TABLE, LOCAL_CREDENTIALS, LOCAL_REGION, LocalStack, startEmulators } from '../src/index.js';
import { photoJpeg } from './helpers.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Uploads every key at once and waits for all their executions. */
async function uploadTogether(stack: LocalStack, keys: string[], body: Buffer): Promise<{ reports: ExecutionReport[]; records: JobRecord[] }> {
  const reports: ExecutionReport[] = [];
  stack.enableTrigger((update) => {
    if (update.type === 'finished' && keys.includes(update.report.event.detail.object.key)) reports.push(update.report);
  });
  const objects = await Promise.all(keys.map((key) => stack.upload(key, body)));
  for (let tries = 0; tries < 500 && reports.length < keys.length; tries += 1) {
    await pause(10);
    await stack.whenIdle();
  }
  const records = await Promise.all(objects.map(async (object) => (await stack.ledger.get(jobIdFor(object))) as JobRecord));
  return { reports, records };
}

async function contentItem(stack: LocalStack, record: JobRecord): Promise<ContentClaimRecord | undefined> {
  const { Item } = await stack.clients.dynamo.send(
    new GetCommand({ TableName: JOBS_TABLE, Key: { jobId: contentClaimKey(record.sha256 ?? '', record.recipe ?? '') }, ConsistentRead: true }),
  );
  return Item as ContentClaimRecord | undefined;
}

describe('the content cache under simultaneous uploads (content claims)', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    stack = await LocalStack.start({ retryPauseMs: 5 });
  });

  afterAll(async () => {
    await stack.stop();
  });

  it('two identical uploads at the same moment under different keys: one processes, the other copies its outputs', async () => {
    const { reports, records } = await uploadTogether(stack, ['same/left.jpg', 'same/right.jpg'], await photoJpeg(800, 600, 21));
    expect(reports.map((report) => report.status)).toEqual(['SUCCEEDED', 'SUCCEEDED']);
    // The bytes were decoded and encoded once: one ResizeImage in both executions together.
    expect(reports.reduce((sum, report) => sum + (report.invocations.ResizeImage ?? 0), 0)).toBe(1);
    const processed = records.filter((record) => !record.cacheHit);
    const copied = records.filter((record) => record.cacheHit);
    expect(processed).toHaveLength(1);
    expect(copied).toHaveLength(1);
    expect(copied[0]).toMatchObject({ status: 'SUCCEEDED', cachedFrom: processed[0]?.jobId });
    expect(copied[0]?.outputs).toHaveLength(9);
    expect(await contentItem(stack, processed[0] as JobRecord)).toMatchObject({ kind: 'content', owner: processed[0]?.jobId, claimState: 'DONE' });
  });

  it('three at once: still one processing', async () => {
    const { reports, records } = await uploadTogether(stack, ['three/a.jpg', 'three/b.jpg', 'three/c.jpg'], await photoJpeg(640, 480, 22));
    expect(reports.reduce((sum, report) => sum + (report.invocations.ResizeImage ?? 0), 0)).toBe(1);
    expect(records.filter((record) => record.cacheHit).length).toBe(2);
    expect(new Set(records.map((record) => record.status))).toEqual(new Set(['SUCCEEDED']));
  });

  it('a job that fails lets go of its content at once: the next upload of the bytes processes without waiting', async () => {
    const bytes = await photoJpeg(500, 400, 23);
    stack.faults.failState('OptimizeImage', { times: 1, error: () => Object.assign(new Error('the recipe cannot be applied'), { name: 'RecipeError' }) });
    const [failed] = (await uploadTogether(stack, ['released/first.jpg'], bytes)).records;
    expect(failed?.status).toBe('FAILED');
    expect(await contentItem(stack, failed as JobRecord)).toMatchObject({ owner: failed?.jobId, claimState: 'CLAIMED' });
    expect(Date.parse((await contentItem(stack, failed as JobRecord))?.leaseExpiresAt ?? '')).toBeLessThan(Date.now());

    const { reports, records } = await uploadTogether(stack, ['released/second.jpg'], bytes);
    expect(records[0]).toMatchObject({ status: 'SUCCEEDED', cacheHit: false });
    expect(reports[0]?.durationMs).toBeLessThan(4000);
    expect(await contentItem(stack, records[0] as JobRecord)).toMatchObject({ owner: records[0]?.jobId, claimState: 'DONE' });
  });

  it('waits a few seconds for a job processing the same bytes, then processes them too (both SUCCEEDED, the first to finish is the entry)', async () => {
    const bytes = await photoJpeg(480, 360, 24);
    // The first execution to reach OptimizeImage holds it 7 s: longer than the 5 s a second job waits.
    stack.faults.failState('OptimizeImage', { times: 1, delayMs: 7000, delayOnly: true, error: () => new Error('unused') });
    const { reports, records } = await uploadTogether(stack, ['slow/a.jpg', 'slow/b.jpg'], bytes);
    expect(records.map((record) => [record.status, record.cacheHit])).toEqual([
      ['SUCCEEDED', false],
      ['SUCCEEDED', false],
    ]);
    expect(reports.reduce((sum, report) => sum + (report.invocations.ResizeImage ?? 0), 0)).toBe(2);
    const entry = await contentItem(stack, records[0] as JobRecord);
    expect(entry?.claimState).toBe('DONE');
    // The one not held up finished first.
    const fastest = [...records].sort((a, b) => a.updatedAt.localeCompare(b.updatedAt))[0];
    expect(entry?.owner).toBe(fastest?.jobId);
  }, 60_000);

  it('keeps content claims out of every index, and byStatus spread over its shards with keys only', async () => {
    for (let index = 0; index < 12; index += 1) await uploadTogether(stack, [`spread/${index}.jpg`], await photoJpeg(64, 48, 100 + index));
    const entries: Array<Record<string, unknown>> = [];
    for (let shard = 0; shard < STATUS_SHARDS; shard += 1) {
      const { Items = [] } = await stack.clients.dynamo.send(
        new QueryCommand({ TableName: JOBS_TABLE, IndexName: STATUS_INDEX, KeyConditionExpression: '#k = :v', ExpressionAttributeNames: { '#k': 'statusShard' }, ExpressionAttributeValues: { ':v': `SUCCEEDED#${shard}` } }),
      );
      entries.push(...Items);
    }
    const succeeded = await stack.ledger.listByStatus('SUCCEEDED', 1000);
    expect(entries).toHaveLength(succeeded.length);
    expect(new Set(entries.map((entry) => entry.statusShard)).size).toBeGreaterThan(1);
    for (const entry of entries) expect(Object.keys(entry).sort()).toEqual(['jobId', 'statusShard', 'updatedAt']);
    expect(entries.every((entry) => !String(entry.jobId).startsWith('content#'))).toBe(true);
    // Newest first, across shards.
    const times = succeeded.map((record) => record.updatedAt);
    expect(times).toEqual([...times].sort().reverse());
    expect(succeeded.every((record) => record.statusShard === statusShard('SUCCEEDED', record.jobId))).toBe(true);
  }, 60_000);
});

/** What the table looked like before content claims and sharded keys-only indexes. */
function previousTableDefinition(tableName: string): CreateTableCommandInput {
  const index = (name: string, hashKey: string) => ({
    IndexName: name,
    KeySchema: [
      { AttributeName: hashKey, KeyType: 'HASH' as const },
      { AttributeName: 'updatedAt', KeyType: 'RANGE' as const },
    ],
    Projection: { ProjectionType: 'ALL' as const },
  });
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: ['jobId', 'status', 'contentKey', 'sourceKey', 'updatedAt'].map((name) => ({ AttributeName: name, AttributeType: 'S' as const })),
    KeySchema: [{ AttributeName: 'jobId', KeyType: 'HASH' }],
    GlobalSecondaryIndexes: [index('byStatus', 'status'), index('byContent', 'contentKey'), index('bySourceKey', 'sourceKey')],
  };
}

describe('a data folder of an older imgflow (other indexes)', () => {
  let dataDir: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'imgflow-ledger-'));
  });

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('is migrated when the local runtime starts: every job is kept, listed by status and key, and a killed run is still taken over', async () => {
    const emulators = await startEmulators({ dataDir, buckets: [] });
    const dynamo = new DynamoDBClient({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, endpoint: emulators.endpoints.dynamodb });
    await dynamo.send(new CreateTableCommand(previousTableDefinition(JOBS_TABLE)));
    // As on DynamoDB, a new table is CREATING for a moment: writes wait until it is ACTIVE.
    await waitUntilTableExists({ client: dynamo, maxWaitTime: 30 }, { TableName: JOBS_TABLE });
    const clients = createClients({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, endpoints: emulators.endpoints });
    const old = (jobId: string, status: JobRecord['status'], updatedAt: string): JobRecord => ({
      jobId,
      status,
      sourceBucket: 'imgflow-uploads',
      sourceKey: `old/${jobId}.jpg`,
      etag: 'e',
      size: 1,
      executionId: 'arn:aws:states:us-east-1:000000000000:execution:imgflow:old',
      attempts: 1,
      createdAt: updatedAt,
      updatedAt,
      ...(status === 'PROCESSING' ? { leaseExpiresAt: '2999-01-01T00:00:00.000Z' } : {}),
    });
    await clients.dynamo.send(new PutCommand({ TableName: JOBS_TABLE, Item: old('a'.repeat(32), 'SUCCEEDED', '2026-01-01T00:00:00.000Z') }));
    await clients.dynamo.send(new PutCommand({ TableName: JOBS_TABLE, Item: old('b'.repeat(32), 'PROCESSING', '2026-01-02T00:00:00.000Z') }));
    destroyClients(clients);
    dynamo.destroy();
    await emulators.stop();

    const stack = await LocalStack.start({ dataDir });
    try {
      expect(stack.releasedClaims).toEqual(['b'.repeat(32)]);
      expect((await stack.ledger.listByStatus('SUCCEEDED')).map((record) => record.jobId)).toEqual(['a'.repeat(32)]);
      expect((await stack.ledger.listBySourceKey(`old/${'b'.repeat(32)}.jpg`)).map((record) => record.status)).toEqual(['PROCESSING']);
      expect(await ensureJobsTable(stack.clients.dynamo, JOBS_TABLE)).toBe('current');
    } finally {
      await stack.stop();
    }
  });
});

/**
 * The same calls on the DynamoDB ledger (dynalite) and on MemoryLedger, the in-memory one the
 * Lambda packages' unit tests run on: the same answers.
 */
describe('MemoryLedger keeps JobLedger semantics', () => {
  let emulators: Awaited<ReturnType<typeof startEmulators>>;
  let clients: ReturnType<typeof createClients>;

  beforeAll(async () => {
    emulators = await startEmulators({ buckets: [] });
    clients = createClients({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, endpoints: emulators.endpoints });
    await ensureJobsTable(clients.dynamo, 'parity');
  });

  afterAll(async () => {
    destroyClients(clients);
    await emulators.stop();
  });

  async function scenario(ledger: JobLedger): Promise<unknown[]> {
    const answers: unknown[] = [];
    const summary = (claim: ContentClaim) => (claim.state === 'done' ? `done:${claim.record.jobId}` : claim.state === 'busy' ? `busy:${claim.owner}` : 'owner');
    const source = (key: string) => ({ bucket: 'uploads', key, etag: key, size: 1 });
    const now = () => new Date();
    const job = (jobId: string, sha256: string) => ({ jobId, executionId: `exec-${jobId}`, sha256, recipe: 'r1' });
    const processing = async (jobId: string, sha256: string) => {
      await ledger.markProcessing({ ...job(jobId, sha256), source: source(jobId), format: 'jpeg', width: 1, height: 1, frames: 1, icc: false, clean: true, stem: jobId, startedAt: now().toISOString() } as never);
      await pause(3);
    };
    for (const id of ['j1', 'j2', 'j3', 'j4', 'j5']) {
      answers.push((await ledger.claim(source(id), id, `exec-${id}`, now(), 900)).claimed);
      await pause(3);
    }
    answers.push((await ledger.claim(source('j1'), 'j1', 'exec-other', now(), 900)).claimed);
    // j1 and j2: the same bytes; j1 first.
    answers.push(summary(await ledger.claimContent(job('j1', 'x'), now(), 900)));
    answers.push(summary(await ledger.claimContent(job('j2', 'x'), now(), 900)));
    answers.push(summary(await ledger.claimContent(job('j1', 'x'), now(), 900)));
    await processing('j1', 'x');
    answers.push(await ledger.succeed(job('j1', 'x'), { outputBucket: 'out', outputs: [{ rendition: 'sm', format: 'webp', key: 'k', width: 1, height: 1, bytes: 1 }], timings: {}, cacheHit: false }));
    await pause(3);
    answers.push(summary(await ledger.claimContent(job('j2', 'x'), now(), 900)));
    answers.push(await ledger.succeed(job('j2', 'x'), { outputBucket: 'out', outputs: [], timings: {}, cacheHit: true, cachedFrom: 'j1' }));
    await pause(3);
    // j3 claims other bytes and fails: j4 gets them at once.
    answers.push(summary(await ledger.claimContent(job('j3', 'y'), now(), 900)));
    await processing('j3', 'y');
    answers.push(await ledger.finish(source('j3'), 'j3', 'exec-j3', 'FAILED', { error: 'E', code: 'C', message: 'm' }, {}));
    await pause(3);
    answers.push(summary(await ledger.claimContent(job('j4', 'y'), now(), 900)));
    // j1's outputs turn out to be gone: j5 takes the entry over.
    answers.push(await ledger.takeOverContent(job('j5', 'x'), 'j2', now(), 900));
    answers.push(await ledger.takeOverContent(job('j5', 'x'), 'j1', now(), 900));
    answers.push(summary(await ledger.claimContent(job('j2', 'x'), now(), 900)));
    answers.push(await ledger.finish(source('j5'), 'j5', 'exec-other', 'FAILED', { error: 'E', code: 'C', message: 'm' }, {}));
    for (const status of ['PENDING', 'PROCESSING', 'SUCCEEDED', 'FAILED'] as const) answers.push([status, (await ledger.listByStatus(status)).map((record) => record.jobId)]);
    answers.push((await ledger.listBySourceKey('j3')).map((record) => [record.jobId, record.status, record.statusShard]));
    answers.push((await ledger.releaseClaims(now())).sort());
    answers.push((await ledger.getMany(['j4', 'missing', 'j1'])).map((record) => record.jobId));
    return answers;
  }

  it('releaseClaims also gives back the notification claim a dead notify step left (JobLedger and MemoryLedger alike)', async () => {
    await ensureJobsTable(clients.dynamo, 'release');
    const exec = 'arn:aws:states:us-east-1:000000000000:execution:imgflow:dead';
    const source = { bucket: 'uploads', key: 'n.jpg', etag: 'e', size: 1 };
    const job = { jobId: 'n1', executionId: exec, sha256: 'b'.repeat(64), recipe: 'r1' };
    for (const ledger of [new JobLedger(clients.dynamo, 'release'), new MemoryLedger(new FaultPlan(), () => new Date())]) {
      const now = new Date();
      expect((await ledger.claim(source, 'n1', exec, now, 900)).claimed).toBe(true);
      expect(await ledger.markProcessing({ ...job, source, format: 'jpeg', width: 1, height: 1, frames: 1, icc: false, clean: true, stem: 'n', startedAt: now.toISOString() } as never)).toBe(true);
      expect(await ledger.succeed(job, { outputBucket: 'out', outputs: [], timings: {}, cacheHit: false })).toBe(true);
      const finished = { jobId: 'n1', executionId: exec, status: 'SUCCEEDED' as const };
      expect(await ledger.claimNotification(finished, now, 60)).toBe(true);
      // The notify step dies here: its claim would hold a resend off for a minute.
      expect(await ledger.claimNotification(finished, now, 60)).toBe(false);
      await ledger.releaseClaims(now);
      expect((await ledger.get('n1'))?.notifyingUntil).toBeUndefined();
      expect(await ledger.claimNotification(finished, now, 60)).toBe(true);
    }
  });

  it('gives the same answers to the same calls', async () => {
    const dynamo = await scenario(new JobLedger(clients.dynamo, 'parity'));
    const memory = await scenario(new MemoryLedger(new FaultPlan(), () => new Date()));
    expect(memory).toEqual(dynamo);
    expect(dynamo.slice(0, 9)).toEqual([true, true, true, true, true, false, 'owner', 'busy:j1', 'owner']);
  });

  it('the table definition is what infra/modules/ledger declares (KEYS_ONLY, sharded status)', () => {
    const definition = jobsTableDefinition('t');
    expect(definition.GlobalSecondaryIndexes?.map((index) => [index.IndexName, index.KeySchema?.map((key) => key.AttributeName), index.Projection?.ProjectionType])).toEqual([
      ['byStatus', ['statusShard', 'updatedAt'], 'KEYS_ONLY'],
      ['bySourceKey', ['sourceKey', 'createdAt'], 'KEYS_ONLY'],
    ]);
  });
});
