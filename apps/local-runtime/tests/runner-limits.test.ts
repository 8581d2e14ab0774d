import { type ContentClaim, JobLedger, type JobRecord, type ObjectRef, createClients, destroyClients, ensureJobsTable, jobIdFor } from '@imgflow/pipeline';
import { FaultPlan, MemoryLedger } from '@imgflow/pipeline/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type AslDefinition,
  type ExecutionUpdate,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  LocalStack,
  PAYLOAD_LIMIT_BYTES,
  WorkflowRunner,
  renderDefinition,
  startEmulators,
} from '../src/index.js';
import { objectCreatedEvent, photoJpeg } from './helpers.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The rendered workflow with fake handlers: each Task's answer is scripted, every invocation
 * counted. Enough to see what the runner does with what the handlers return.
 */
describe('WorkflowRunner: the 256 KiB payload limit (States.DataLimitExceeded, no Catch)', () => {
  let definition: AslDefinition;
  const event = objectCreatedEvent({ bucket: 'uploads', key: 'big.jpg', etag: 'e', size: 1 });
  const job = { jobId: 'j1', source: { bucket: 'uploads', key: 'big.jpg', etag: 'e', size: 1 } };

  beforeAll(async () => {
    definition = await renderDefinition();
  });

  function fakeRunner(answers: Record<string, (input: unknown) => unknown>) {
    const invoked: string[] = [];
    const handlers = Object.fromEntries(
      ['ValidateImage', 'ResizeImage', 'ApplyFilters', 'OptimizeImage', 'NotifySuccess', 'NotifyError'].map((state) => [
        state,
        async (input: unknown) => {
          invoked.push(state);
          return (answers[state] ?? (() => ({ status: 'SUCCEEDED' })))(input);
        },
      ]),
    );
    return { invoked, runner: new WorkflowRunner(definition, handlers, { region: LOCAL_REGION, account: '000000000000', retryPauseMs: 1 }) };
  }

  it('a Task result over 256 KiB fails the execution; NotifyError never runs and no Catch is reported', async () => {
    const { invoked, runner } = fakeRunner({ ValidateImage: () => ({ outcome: 'valid', job, pad: 'x'.repeat(PAYLOAD_LIMIT_BYTES) }) });
    const updates: ExecutionUpdate[] = [];
    const report = await runner.execute(event, (update) => updates.push(update));
    expect(report.status).toBe('FAILED');
    expect(report.error).toEqual({
      name: 'States.DataLimitExceeded',
      cause: 'The state/task ValidateImage returned a result with a size exceeding the maximum number of bytes service limit.',
    });
    expect(invoked).toEqual(['ValidateImage']);
    expect(report.path).toEqual(['ValidateImage']);
    expect(updates.some((update) => update.type === 'caught')).toBe(false);
  });

  it('a result of exactly 256 KiB is within the limit', async () => {
    const base = JSON.stringify({ outcome: 'duplicate', jobId: 'j1', existingStatus: 'SUCCEEDED', pad: '' });
    const pad = 'x'.repeat(PAYLOAD_LIMIT_BYTES - Buffer.byteLength(base));
    const { runner } = fakeRunner({ ValidateImage: () => ({ outcome: 'duplicate', jobId: 'j1', existingStatus: 'SUCCEEDED', pad }) });
    const report = await runner.execute(event);
    expect(report).toMatchObject({ status: 'SUCCEEDED', maxPayloadBytes: PAYLOAD_LIMIT_BYTES });
    expect(report.path.at(-1)).toBe('AlreadyHandled');
  });

  it('a state output over the limit (each result under it, merged by ResultPath) fails before the next Task runs', async () => {
    const { invoked, runner } = fakeRunner({
      ValidateImage: () => ({ outcome: 'valid', job, pad: 'v'.repeat(150_000) }),
      ResizeImage: () => ({ step: 'resize', pad: 'r'.repeat(60_000) }),
      ApplyFilters: () => ({ step: 'filter', pad: 'f'.repeat(60_000) }),
    });
    const report = await runner.execute(event);
    expect(report.status).toBe('FAILED');
    expect(report.error?.name).toBe('States.DataLimitExceeded');
    expect(report.error?.cause).toContain('ProcessImage');
    expect(invoked).not.toContain('OptimizeImage');
    expect(invoked).not.toContain('NotifyError');
  });

  it('checks its options and the execution name up front', async () => {
    const { runner } = fakeRunner({});
    expect(() => runner.withOptions({ maxDurationMs: 0 })).toThrow('Expected a positive number of milliseconds for maxDurationMs but received 0 of type number');
    expect(() => runner.withOptions({ workflowType: 'QUICK' as never })).toThrow('Expected one of EXPRESS, STANDARD for workflowType but received QUICK of type string');
    await expect(runner.execute(event, undefined, { name: 'has space' })).rejects.toThrow(
      "Expected 1 to 80 letters, digits, '-' or '_' for name but received has space of type string",
    );
  });

  it('an execution started with a name has that name in its execution id', async () => {
    const seen: unknown[] = [];
    const { runner } = fakeRunner({
      ValidateImage: (input) => {
        seen.push(input);
        return { outcome: 'duplicate', jobId: 'j1', existingStatus: 'SUCCEEDED' };
      },
    });
    const report = await runner.execute(event, undefined, { name: 'replay-me' });
    expect(report.name).toBe('replay-me');
    expect(report.executionId).toBe('arn:aws:states:us-east-1:000000000000:execution:imgflow:replay-me');
    expect(seen).toEqual([expect.objectContaining({ executionId: report.executionId })]);
  });
});

describe('the workflow type time limit (TIMED_OUT, States.Timeout, no Catch)', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await LocalStack.start({ retryPauseMs: 5 });
    // One run first: the functions' cold starts do not count against the scaled limit below.
    await stack.runner.execute(objectCreatedEvent(await stack.upload('limits/warm.jpg', await photoJpeg(64, 48, 70))));
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('an EXPRESS execution past its (scaled) 5 minutes ends TIMED_OUT: no NotifyError, the job left PROCESSING', async () => {
    await stack.drainNotifications();
    const object = await stack.upload('limits/slow.jpg', await photoJpeg(320, 240, 71));
    const jobId = jobIdFor(object);
    // 300 s scaled down to 0.8 s; OptimizeImage held for 1.5 s.
    const runner = stack.runner.withOptions({ workflowType: 'EXPRESS', maxDurationMs: 800 });
    stack.faults.failState('OptimizeImage', { times: 1, delayMs: 1500, delayOnly: true, error: () => new Error('unused') });
    const report = await runner.execute(objectCreatedEvent(object));
    expect(report.status).toBe('TIMED_OUT');
    expect(report.error?.name).toBe('States.Timeout');
    expect(report.path).not.toContain('NotifyError');
    expect(report.path).not.toContain('NotifySuccess');
    // As on AWS: nothing recorded the end of the job. Its lease runs on; once it expires, the
    // sweeper (fn-sweep, written separately) ends it FAILED and publishes job.failed.
    expect((await stack.ledger.get(jobId))?.status).toBe('PROCESSING');
    expect((await stack.drainNotifications()).filter((message) => message.jobId === jobId)).toEqual([]);
    // The held OptimizeImage runs on (Lambda is not stopped with the execution): let it end.
    await pause(1200);
    expect((await stack.ledger.get(jobId))?.status).toBe('PROCESSING');
    expect((await stack.drainNotifications()).filter((message) => message.jobId === jobId)).toEqual([]);
  });
});

describe('Express replays: the same execution (same name) run twice', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await LocalStack.start({ retryPauseMs: 5 });
  });
  afterAll(async () => {
    await stack.stop();
  });

  async function uploaded(key: string, seed: number): Promise<{ object: ObjectRef; jobId: string }> {
    await stack.drainNotifications();
    const object = await stack.upload(key, await photoJpeg(320, 240, seed));
    return { object, jobId: jobIdFor(object) };
  }

  const notificationsOf = async (jobId: string) => (await stack.drainNotifications()).filter((message) => message.jobId === jobId);

  it('concurrently: one notification, the record SUCCEEDED once', async () => {
    const { object, jobId } = await uploaded('replay/concurrent.jpg', 81);
    const event = objectCreatedEvent(object);
    const reports = await Promise.all([stack.runner.execute(event, undefined, { name: 'replay-concurrent' }), stack.runner.execute(event, undefined, { name: 'replay-concurrent' })]);
    expect(reports.map((report) => report.executionId)).toEqual([reports[0]?.executionId, reports[0]?.executionId]);
    const record = await stack.ledger.get(jobId);
    expect(record).toMatchObject({ status: 'SUCCEEDED', notified: true, attempts: 1 });
    expect(record?.executionId).toMatch(/:replay-concurrent$/);
    const messages = await notificationsOf(jobId);
    expect(messages.map((message) => message.status)).toEqual(['SUCCEEDED']);
  });

  it("concurrently, one copy held back until the other finished: its failure (the work objects are gone) changes nothing", async () => {
    const { object, jobId } = await uploaded('replay/held.jpg', 82);
    const event = objectCreatedEvent(object);
    // The first copy to reach OptimizeImage waits there; the other finishes, removing the work objects.
    stack.faults.failState('OptimizeImage', { times: 1, delayMs: 1500, delayOnly: true, error: () => new Error('unused') });
    const reports = await Promise.all([stack.runner.execute(event, undefined, { name: 'replay-held' }), stack.runner.execute(event, undefined, { name: 'replay-held' })]);
    expect(reports.some((report) => report.path.at(-1) === 'Done')).toBe(true);
    // The held copy failed (its bundles were removed by the other's NotifySuccess) and ran
    // NotifyError: which found the job ended by its own execution and left it alone.
    expect(reports.some((report) => report.path.includes('NotifyError'))).toBe(true);
    const record = await stack.ledger.get(jobId);
    expect(record).toMatchObject({ status: 'SUCCEEDED', notified: true, attempts: 1 });
    expect((await notificationsOf(jobId)).map((message) => message.status)).toEqual(['SUCCEEDED']);
  });

  it('sequentially: the replay after SUCCEEDED stops at AlreadyHandled and changes nothing', async () => {
    const { object, jobId } = await uploaded('replay/sequential.jpg', 83);
    const event = objectCreatedEvent(object);
    const first = await stack.runner.execute(event, undefined, { name: 'replay-sequential' });
    expect(first.path.at(-1)).toBe('Done');
    const before = await stack.ledger.get(jobId);
    expect(await notificationsOf(jobId)).toHaveLength(1);
    const replay = await stack.runner.execute(event, undefined, { name: 'replay-sequential' });
    expect(replay).toMatchObject({ status: 'SUCCEEDED', executionId: first.executionId });
    expect(replay.path.at(-1)).toBe('AlreadyHandled');
    expect(await stack.ledger.get(jobId)).toEqual(before);
    expect(await notificationsOf(jobId)).toEqual([]);
  });

  it('a replay after FAILED changes nothing; a new delivery (another execution) still takes the job again', async () => {
    const { object, jobId } = await uploaded('replay/failed.jpg', 84);
    const event = objectCreatedEvent(object);
    stack.faults.failState('OptimizeImage', { times: 1, error: () => Object.assign(new Error('the deployment is broken'), { name: 'ConfigurationError' }) });
    const first = await stack.runner.execute(event, undefined, { name: 'replay-failed' });
    expect(first.path).toContain('NotifyError');
    const before = await stack.ledger.get(jobId);
    expect(before?.status).toBe('FAILED');
    expect(await notificationsOf(jobId)).toHaveLength(1);

    const replay = await stack.runner.execute(event, undefined, { name: 'replay-failed' });
    expect(replay.path.at(-1)).toBe('AlreadyHandled');
    expect(await stack.ledger.get(jobId)).toEqual(before);
    expect(await notificationsOf(jobId)).toEqual([]);

    const redelivery = await stack.runner.execute(event);
    expect(redelivery.path.at(-1)).toBe('Done');
    expect(await stack.ledger.get(jobId)).toMatchObject({ status: 'SUCCEEDED', attempts: 2, notified: true });
    expect((await notificationsOf(jobId)).map((message) => message.status)).toEqual(['SUCCEEDED']);
  });
});

/**
 * The replay rules of the ledger, on DynamoDB (dynalite evaluates the condition expressions) and
 * on MemoryLedger (what the Lambda packages' unit tests run on): the same answers.
 */
describe('JobLedger replay rules on dynalite, and MemoryLedger the same', () => {
  let emulators: Awaited<ReturnType<typeof startEmulators>>;
  let clients: ReturnType<typeof createClients>;

  beforeAll(async () => {
    emulators = await startEmulators({ buckets: [] });
    clients = createClients({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, endpoints: emulators.endpoints });
    await ensureJobsTable(clients.dynamo, 'replays');
  });

  afterAll(async () => {
    destroyClients(clients);
    await emulators.stop();
  });

  async function scenario(ledger: JobLedger): Promise<unknown[]> {
    const answers: unknown[] = [];
    const source = (key: string) => ({ bucket: 'uploads', key, etag: key, size: 1 });
    const now = new Date();
    const exec = 'arn:aws:states:us-east-1:000000000000:execution:imgflow:one';
    const job = (jobId: string) => ({ jobId, executionId: exec, sha256: `sha-${jobId}`, recipe: 'r1' });
    const full = (jobId: string) =>
      ({ ...job(jobId), source: source(jobId), format: 'jpeg', width: 1, height: 1, frames: 1, icc: false, clean: true, stem: jobId, startedAt: now.toISOString() }) as never;
    const summary = (claim: ContentClaim) => claim.state;
    const strip = (record: JobRecord | undefined) => record && { status: record.status, executionId: record.executionId, reasonCode: record.reasonCode, notified: record.notified ?? false, attempts: record.attempts };
    const success = { outputBucket: 'out', outputs: [{ rendition: 'sm', format: 'webp' as const, key: 'k', width: 1, height: 1, bytes: 1 }], timings: {}, cacheHit: false };
    const failure = { error: 'SourceMissingError', code: 'SOURCE_MISSING', message: 'gone' };

    // Two copies of one execution: both claim, both process, one SUCCEEDED; the late copy's
    // failure and its own markProcessing change nothing.
    answers.push((await ledger.claim(source('a'), 'a', exec, now, 900)).claimed, (await ledger.claim(source('a'), 'a', exec, now, 900)).claimed);
    answers.push(await ledger.markProcessing(full('a')));
    answers.push(summary(await ledger.claimContent(job('a'), now, 900)));
    answers.push(await ledger.succeed(job('a'), success));
    const succeeded = await ledger.get('a');
    answers.push(await ledger.succeed(job('a'), { ...success, outputs: [] }));
    answers.push(await ledger.finish(source('a'), 'a', exec, 'FAILED', failure, {}));
    answers.push(summary(await ledger.claimContent(job('a'), now, 900)));
    answers.push(await ledger.markProcessing(full('a')));
    answers.push((await ledger.get('a'))?.updatedAt === succeeded?.updatedAt, (await ledger.get('a'))?.outputs?.length);
    // The replay arriving after: a duplicate.
    answers.push((await ledger.claim(source('a'), 'a', exec, now, 900)).claimed);
    // One notification: the claim is won once; the winner marks it; nobody claims it again.
    const a = { jobId: 'a', executionId: exec, status: 'SUCCEEDED' as const };
    answers.push(await ledger.claimNotification(a, now, 10), await ledger.claimNotification(a, now, 10));
    await ledger.releaseNotification(a, now, 10);
    answers.push(await ledger.claimNotification(a, now, 10));
    await ledger.markNotified('a', exec);
    answers.push(await ledger.claimNotification(a, new Date(now.getTime() + 60_000), 10));
    answers.push(strip(await ledger.get('a')));

    // FAILED by this execution: its replay may neither claim it again nor make it SUCCEEDED; a
    // new delivery (another execution) claims it.
    await ledger.claim(source('b'), 'b', exec, now, 900);
    answers.push(await ledger.finish(source('b'), 'b', exec, 'FAILED', failure, {}));
    answers.push(await ledger.finish(source('b'), 'b', exec, 'FAILED', { ...failure, code: 'OTHER' }, {}));
    answers.push(await ledger.finish(source('b'), 'b', exec, 'REJECTED', failure, {}));
    answers.push(await ledger.succeed(job('b'), success));
    answers.push((await ledger.claim(source('b'), 'b', exec, now, 900)).claimed);
    answers.push(strip(await ledger.get('b')));
    answers.push((await ledger.claim(source('b'), 'b', 'arn:aws:states:us-east-1:000000000000:execution:imgflow:two', now, 900)).claimed);
    answers.push(strip(await ledger.get('b')));
    return answers;
  }

  it('gives the same answers on both', async () => {
    const dynamo = await scenario(new JobLedger(clients.dynamo, 'replays'));
    const memory = await scenario(new MemoryLedger(new FaultPlan(), () => new Date()));
    expect(dynamo).toEqual([
      true,
      true,
      true,
      'owner',
      true,
      true,
      false,
      'owner',
      false,
      true,
      1,
      false,
      true,
      false,
      true,
      false,
      { status: 'SUCCEEDED', executionId: 'arn:aws:states:us-east-1:000000000000:execution:imgflow:one', reasonCode: undefined, notified: true, attempts: 1 },
      true,
      true,
      false,
      false,
      false,
      { status: 'FAILED', executionId: 'arn:aws:states:us-east-1:000000000000:execution:imgflow:one', reasonCode: 'SOURCE_MISSING', notified: false, attempts: 1 },
      true,
      { status: 'PENDING', executionId: 'arn:aws:states:us-east-1:000000000000:execution:imgflow:two', reasonCode: undefined, notified: false, attempts: 2 },
    ]);
    expect(memory).toEqual(dynamo);
  });
});
