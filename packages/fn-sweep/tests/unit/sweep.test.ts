import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { sweeper } from '@imgflow/contract';
import {
  type AwsClients,
  type Job,
  JobLedger,
  type JobNotification,
  type JobRecord,
  type Rejection,
  Notifier,
  type StepDeps,
  Storage,
  bundleKey,
  createClients,
  destroyClients,
  ensureJobsTable,
} from '@imgflow/pipeline';
import { FaultPlan, MemoryLogger, MemoryS3, MemorySns, awsError, fakeConfig, fakeJob } from '@imgflow/pipeline/testing';
import dynalite from 'dynalite';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type SweepOptions, createSweepHandler, sweep } from '../../src/index.js';

/**
 * The sweeper against a real DynamoDB protocol (dynalite): its conditional writes and the
 * byStatus index are what make it safe, so the ledger is the real JobLedger; S3 and SNS are the
 * pipeline's in-memory stand-ins under the real Storage and Notifier.
 */
let server: Server;
let clients: AwsClients;
let tables = 0;

beforeAll(async () => {
  server = dynalite({ createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  clients = createClients({ region: 'us-east-1', credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, endpoints: { dynamodb: `http://127.0.0.1:${port}` }, maxAttempts: 1 });
});

afterAll(async () => {
  destroyClients(clients);
  await new Promise((resolve) => server.close(resolve));
});

interface SweepTestDeps extends StepDeps {
  ledger: JobLedger;
  s3: MemoryS3;
  sns: MemorySns;
  faults: FaultPlan;
}

let deps: SweepTestDeps;
/** When the jobs below were claimed (real time: the ledger stamps updatedAt with it). */
let claimedAt: Date;
/** A moment the leases of jobs claimed at claimedAt have expired. */
let afterLease: Date;

function depsWith(ledger: JobLedger, config: StepDeps['config']): SweepTestDeps {
  const faults = new FaultPlan();
  const s3 = new MemoryS3(faults);
  const sns = new MemorySns(faults);
  return {
    config,
    storage: new Storage(s3 as unknown as ConstructorParameters<typeof Storage>[0]),
    ledger,
    notifier: new Notifier(sns as unknown as ConstructorParameters<typeof Notifier>[0]),
    logger: new MemoryLogger(),
    clock: () => new Date(),
    s3,
    sns,
    faults,
  };
}

beforeEach(async () => {
  tables += 1;
  const config = fakeConfig({ jobsTable: `imgflow-sweep-${tables}` });
  await ensureJobsTable(clients.dynamo, config.jobsTable);
  deps = depsWith(new JobLedger(clients.dynamo, config.jobsTable), config);
  claimedAt = new Date();
  afterLease = new Date(claimedAt.getTime() + (config.leaseSeconds + 1) * 1000);
});

let uploads = 0;

/** A job as ValidateImage leaves it: claimed by its execution at claimedAt, PROCESSING, its two bundles in the work prefix. */
async function processingJob(name = `photos/${++uploads}.jpg`, options: { pending?: boolean; at?: Date } = {}): Promise<Job> {
  const job = fakeJob({ bucket: 'imgflow-uploads', key: name, etag: `etag-${name}`, size: 100 }, { format: 'jpeg', width: 1200, height: 800, sha256: 'a'.repeat(64) });
  const claim = await deps.ledger.claim(job.source, job.jobId, job.executionId, options.at ?? claimedAt, deps.config.leaseSeconds);
  expect(claim.claimed).toBe(true);
  if (!options.pending) await deps.ledger.markProcessing(job);
  for (const step of ['resize', 'filter'] as const) deps.s3.seed(deps.config.outputBucket, bundleKey(deps.config.workPrefix, job.jobId, step), Buffer.from(step));
  return job;
}

const workKeys = (jobId: string) => deps.s3.keys(deps.config.outputBucket, `${deps.config.workPrefix}${jobId}/`);
const record = async (jobId: string) => (await deps.ledger.get(jobId)) as JobRecord;
const run = (options: SweepOptions = {}) => sweep(deps, { now: afterLease, ...options });

describe('a job whose execution died (lease expired while PENDING/PROCESSING)', () => {
  it('is ended FAILED with the abandoned reason, its work objects removed, one job.failed published, marked notified', async () => {
    const job = await processingJob();
    const summary = await run();

    expect(summary).toEqual({ examined: 1, abandoned: [job.jobId], notified: [], errors: [], truncated: false });
    const ended = await record(job.jobId);
    expect(ended).toMatchObject({
      status: 'FAILED',
      statusShard: expect.stringMatching(/^FAILED#\d$/),
      executionId: job.executionId,
      reasonError: 'ExecutionAbandonedError',
      reasonCode: 'EXECUTION_ABANDONED',
      updatedAt: afterLease.toISOString(),
      notified: true,
    });
    expect(ended.reasonMessage).toContain(job.executionId);
    expect(ended.leaseExpiresAt).toBeUndefined();
    expect(workKeys(job.jobId)).toEqual([]);

    expect(deps.sns.published).toHaveLength(1);
    const [published] = deps.sns.published;
    expect(published).toMatchObject({ topicArn: deps.config.errorTopicArn, attributes: { status: 'FAILED', event: 'job.failed', reason: 'EXECUTION_ABANDONED' } });
    expect(published?.message).toEqual({
      schema: 'imgflow.job/1',
      event: 'job.failed',
      jobId: job.jobId,
      status: 'FAILED',
      source: { bucket: job.source.bucket, key: job.source.key, etag: job.source.etag, size: job.source.size },
      reason: { code: 'EXECUTION_ABANDONED', error: 'ExecutionAbandonedError', message: ended.reasonMessage as string },
      timings: {},
      executionId: job.executionId,
      finishedAt: afterLease.toISOString(),
    } satisfies JobNotification);
  });

  it('is ended from PENDING too (died in ValidateImage), and the reason is the contract\'s', async () => {
    const job = await processingJob(undefined, { pending: true });
    expect((await run()).abandoned).toEqual([job.jobId]);
    expect(await record(job.jobId)).toMatchObject({ status: 'FAILED', reasonError: sweeper().abandoned.error, reasonCode: sweeper().abandoned.code });
  });

  it('can be claimed again by a re-run of the same upload afterwards', async () => {
    const job = await processingJob();
    await run();
    const again = await deps.ledger.claim(job.source, job.jobId, `${job.executionId}-again`, afterLease, deps.config.leaseSeconds);
    expect(again.claimed).toBe(true);
  });

  it('is ended and notified once when two sweeps race', async () => {
    const jobs = await Promise.all([processingJob(), processingJob(), processingJob()]);
    const other = depsWith(new JobLedger(clients.dynamo, deps.config.jobsTable), deps.config);
    const [first, second] = await Promise.all([run(), sweep(other, { now: afterLease })]);

    expect([...first.abandoned, ...second.abandoned].sort()).toEqual(jobs.map((job) => job.jobId).sort());
    expect([...first.notified, ...second.notified]).toEqual([]);
    expect(deps.sns.published.length + other.sns.published.length).toBe(3);
    // A later sweep finds nothing left to do.
    expect(await run({ now: new Date(afterLease.getTime() + 3_600_000) })).toMatchObject({ abandoned: [], notified: [], errors: [] });
    expect(deps.sns.published.length + other.sns.published.length).toBe(3);
  });

  it('is left alone when a re-run took it over between the sweep\'s read and its write', async () => {
    const job = await processingJob();
    const takenOver = `${job.executionId}-rerun`;
    class RacingLedger extends JobLedger {
      override async abandon(seen: JobRecord, now: Date, rejection: Rejection, notifySeconds: number) {
        await this.claim(job.source, seen.jobId, takenOver, now, deps.config.leaseSeconds);
        return super.abandon(seen, now, rejection, notifySeconds);
      }
    }
    const racing = depsWith(new RacingLedger(clients.dynamo, deps.config.jobsTable), deps.config);
    for (const step of ['resize', 'filter'] as const) racing.s3.seed(deps.config.outputBucket, bundleKey(deps.config.workPrefix, job.jobId, step), Buffer.from(step));

    const summary = await sweep(racing, { now: afterLease });
    expect(summary).toMatchObject({ examined: 1, abandoned: [], errors: [] });
    expect(await record(job.jobId)).toMatchObject({ status: 'PENDING', executionId: takenOver });
    expect((await record(job.jobId)).notified).toBeUndefined();
    expect(racing.sns.published).toEqual([]);
    expect(racing.s3.keys(deps.config.outputBucket, 'work/')).toHaveLength(2);
  });
});

describe('jobs the sweeper leaves alone', () => {
  it('a live job (lease not expired) stays as it is', async () => {
    const job = await processingJob();
    const before = await record(job.jobId);
    const summary = await run({ now: new Date(claimedAt.getTime() + 60_000) });
    expect(summary).toEqual({ examined: 1, abandoned: [], notified: [], errors: [], truncated: false });
    expect(await record(job.jobId)).toEqual(before);
    expect(workKeys(job.jobId)).toHaveLength(2);
    expect(deps.sns.published).toEqual([]);
  });

  it('a finished, notified job stays as it is', async () => {
    const job = await processingJob();
    await deps.ledger.finish(job.source, job.jobId, job.executionId, 'REJECTED', { error: 'ImageTooLargeError', code: 'IMAGE_TOO_LARGE', message: 'too big' }, { validate: 3 });
    await deps.ledger.markNotified(job.jobId, job.executionId);
    const before = await record(job.jobId);
    const summary = await run({ now: new Date(Date.now() + (deps.config.leaseSeconds + 60) * 1000) });
    expect(summary).toMatchObject({ abandoned: [], notified: [], errors: [] });
    expect(await record(job.jobId)).toEqual(before);
    expect(deps.sns.published).toEqual([]);
  });

  it('a finished job not yet notified, but younger than the lease (its notify step may still publish), stays as it is', async () => {
    const job = await processingJob();
    await deps.ledger.finish(job.source, job.jobId, job.executionId, 'FAILED', { error: 'AccessDeniedError', code: 'ACCESS_DENIED', message: 'denied' }, {});
    expect(await run({ now: new Date(Date.now() + 60_000) })).toMatchObject({ abandoned: [], notified: [] });
    expect(deps.sns.published).toEqual([]);
  });
});

describe('finished jobs never notified (the notify step died between recording and publishing)', () => {
  it('get their notification once, on the topic of their status, even when two sweeps race', async () => {
    const succeeded = await processingJob();
    await deps.ledger.succeed(succeeded, { outputBucket: deps.config.outputBucket, outputs: [], timings: { validate: 1 }, cacheHit: false });
    const rejected = await processingJob();
    await deps.ledger.finish(rejected.source, rejected.jobId, rejected.executionId, 'REJECTED', { error: 'InvalidImageError', code: 'INVALID_IMAGE', message: 'not an image' }, {});
    const later = new Date(Date.now() + (deps.config.leaseSeconds + 60) * 1000);

    const other = depsWith(new JobLedger(clients.dynamo, deps.config.jobsTable), deps.config);
    const [first, second] = await Promise.all([run({ now: later }), sweep(other, { now: later })]);
    expect([...first.notified, ...second.notified].sort()).toEqual([succeeded.jobId, rejected.jobId].sort());
    const published = [...deps.sns.published, ...other.sns.published];
    expect(published.map((message) => [message.topicArn, message.attributes.status]).sort()).toEqual(
      [
        [deps.config.errorTopicArn, 'REJECTED'],
        [deps.config.successTopicArn, 'SUCCEEDED'],
      ].sort(),
    );
    expect((await record(succeeded.jobId)).notified).toBe(true);
    expect((await record(rejected.jobId)).notified).toBe(true);
    expect(await run({ now: later })).toMatchObject({ notified: [] });
  });

  it('lose the work objects a notify step that died before its clean-up left behind', async () => {
    const succeeded = await processingJob();
    await deps.ledger.succeed(succeeded, { outputBucket: deps.config.outputBucket, outputs: [], timings: { validate: 1 }, cacheHit: false });
    expect(workKeys(succeeded.jobId)).toHaveLength(2);
    const later = new Date(Date.now() + (deps.config.leaseSeconds + 60) * 1000);
    expect(await run({ now: later })).toMatchObject({ notified: [succeeded.jobId], errors: [] });
    expect(workKeys(succeeded.jobId)).toEqual([]);
  });

  it('outside the window (older than an hour past the lease) are not read again, unless the window is unbounded', async () => {
    const job = await processingJob();
    await deps.ledger.finish(job.source, job.jobId, job.executionId, 'FAILED', { error: 'ConfigurationError', code: 'CONFIGURATION', message: 'x' }, {});
    const muchLater = new Date(Date.now() + (deps.config.leaseSeconds + 7200) * 1000);
    expect(await run({ now: muchLater })).toMatchObject({ examined: 0, notified: [] });
    expect(await run({ now: muchLater, notifyWindowSeconds: Number.POSITIVE_INFINITY })).toMatchObject({ examined: 1, notified: [job.jobId] });
  });

  it('are all notified at once by a sweep told nothing is alive (the local runtime at start-up)', async () => {
    const job = await processingJob();
    await deps.ledger.finish(job.source, job.jobId, job.executionId, 'FAILED', { error: 'ConfigurationError', code: 'CONFIGURATION', message: 'x' }, {});
    expect(await sweep(deps, { notifyAfterSeconds: 0, notifyWindowSeconds: Number.POSITIVE_INFINITY, now: new Date(Date.now() + 1000) })).toMatchObject({ notified: [job.jobId] });
  });
});

describe('limits and failures', () => {
  it('pages through every expired job, however many pages', async () => {
    const jobs = await Promise.all(Array.from({ length: 12 }, () => processingJob()));
    const summary = await run({ pageSize: 1 });
    expect(summary.abandoned.sort()).toEqual(jobs.map((job) => job.jobId).sort());
    expect(summary.examined).toBe(12);
  });

  it('stops at its job limit and says so; the next run takes the rest', async () => {
    await Promise.all(Array.from({ length: 5 }, () => processingJob()));
    const first = await run({ maxJobs: 3, concurrency: 1 });
    expect(first).toMatchObject({ truncated: true });
    expect(first.abandoned).toHaveLength(3);
    const second = await run({ maxJobs: 3 });
    expect(second.abandoned).toHaveLength(2);
    expect(second.truncated).toBe(false);
  });

  it('stops taking jobs when the invocation is nearly out of time', async () => {
    await processingJob();
    const summary = await sweep(deps, { now: afterLease }, { getRemainingTimeInMillis: () => 5_000 });
    expect(summary).toMatchObject({ abandoned: [], truncated: true });
  });

  it('a job whose notification fails does not stop the others; a later sweep publishes it once', async () => {
    const [a, b] = await Promise.all([processingJob(), processingJob()]);
    deps.faults.fail('sns:PublishCommand', awsError('InternalError', 500));
    const summary = await run({ concurrency: 1 });
    expect(summary.abandoned.sort()).toEqual([a?.jobId, b?.jobId].sort());
    expect(summary.errors).toEqual([expect.objectContaining({ stage: 'notify', error: 'NotificationFailedError' })]);
    expect(deps.sns.published).toHaveLength(1);

    const failedJob = summary.errors[0]?.jobId as string;
    expect((await record(failedJob)).notified).toBeUndefined();
    // Once the failed job is older than the lease, a later sweep sends its notification.
    const later = new Date(afterLease.getTime() + (deps.config.leaseSeconds + 60) * 1000);
    expect(await run({ now: later })).toMatchObject({ notified: [failedJob], errors: [] });
    expect(deps.sns.published.filter((message) => (message.message as JobNotification).jobId === failedJob)).toHaveLength(1);
  });

  it('a clean-up that fails is reported and the job is still ended and notified', async () => {
    const job = await processingJob();
    deps.s3.failDeleteKeys(() => true, 'AccessDenied');
    const summary = await run();
    expect(summary.abandoned).toEqual([job.jobId]);
    expect(summary.errors).toEqual([expect.objectContaining({ jobId: job.jobId, stage: 'cleanup', error: 'AccessDeniedError' })]);
    expect(deps.sns.published).toHaveLength(1);
  });
});

describe('the Lambda handler', () => {
  it('sweeps with its deps and returns the summary', async () => {
    const job = await processingJob(undefined, { at: new Date(Date.now() - (deps.config.leaseSeconds + 5) * 1000) });
    const handler = createSweepHandler(() => deps);
    const summary = await handler({ 'detail-type': 'Scheduled Event', time: new Date().toISOString() }, { awsRequestId: 'request-1', getRemainingTimeInMillis: () => 60_000 });
    expect(summary).toMatchObject({ abandoned: [job.jobId], errors: [] });
  });
});
