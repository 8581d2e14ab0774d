/**
 * What AWS does to an execution that no Catch sees, and to Lambda under load, each ending in one
 * terminal record and one notification: executions stopped by the workflow type's limit or by
 * a payload over 256 KiB (swept), Express replays, out-of-memory, throttling, and an upload
 * whose StartExecution was refused (dead-lettered, then redriven).
 */
import { type ExecutionReport, type LocalStackOptions, PAYLOAD_LIMIT_BYTES } from '@imgflow/local-runtime';
import { type JobNotification, type JobRecord, TERMINAL_STATUSES, jobIdFor } from '@imgflow/pipeline';
import { photoLike } from '@imgflow/samples';
import sharp from 'sharp';
import type { ScenarioResult } from './faults.js';
import { Harness, objectCreatedEvent } from './harness.js';

/** A lifecycle scenario's result: a fault row, with the two figures the issue must see at 0. */
export interface LifecycleResult extends ScenarioResult {
  /** Jobs of the scenario still PENDING/PROCESSING at its end (must be 0). */
  leftProcessing: number;
  /** Notifications beyond one per job (must be 0). */
  duplicateNotifications: number;
}

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** A moment past every lease (the contract's lease is 15 minutes): what the sweeper's schedule reaches. */
const pastLeases = () => new Date(Date.now() + 3_600_000);
let sequence = 0;

interface Outcome {
  jobIds: string[];
  reports: ExecutionReport[];
  fired: number;
  retries?: number;
  problems: string[];
}

/** Counts what the scenario left: records not terminal, notifications per job, work objects. */
async function settle(harness: Harness, name: string, expected: { status: JobRecord['status']; code?: string }, outcome: Outcome): Promise<LifecycleResult> {
  const { stack } = harness;
  await stack.whenIdle();
  const notifications: JobNotification[] = await stack.drainNotifications();
  const problems = [...outcome.problems];
  let leftProcessing = 0;
  let duplicateNotifications = 0;
  const statuses = new Set<string>();
  const codes = new Set<string>();
  for (const jobId of outcome.jobIds) {
    const record = await harness.ledger.get(jobId);
    if (!record) {
      problems.push(`no record for ${jobId}`);
      continue;
    }
    statuses.add(record.status);
    if (record.reasonCode) codes.add(record.reasonCode);
    if (!TERMINAL_STATUSES.includes(record.status)) leftProcessing += 1;
    if (record.status !== expected.status) problems.push(`${jobId}: ${record.status}, expected ${expected.status}`);
    if (expected.code && record.reasonCode !== expected.code) problems.push(`${jobId}: reason ${record.reasonCode ?? '(none)'}, expected ${expected.code}`);
    const mine = notifications.filter((message) => message.jobId === jobId);
    if (mine.length === 0) problems.push(`${jobId}: no notification`);
    duplicateNotifications += Math.max(0, mine.length - 1);
    if (mine.some((message) => message.status !== record.status)) problems.push(`${jobId}: a notification says ${mine.map((message) => message.status).join(', ')}`);
  }
  const work = await harness.listKeys(stack.config.outputBucket, stack.config.workPrefix);
  if (work.length > 0) problems.push(`${work.length} work object(s) left`);
  if (leftProcessing > 0) problems.push(`${leftProcessing} job(s) left PENDING/PROCESSING`);
  if (duplicateNotifications > 0) problems.push(`${duplicateNotifications} duplicate notification(s)`);
  if (outcome.fired === 0) problems.push('the fault never fired');
  return {
    name,
    kind: 'permanent',
    status: [...statuses].join('/') || 'none',
    ...(codes.size > 0 ? { code: [...codes].join('/') } : {}),
    fired: outcome.fired,
    retries: outcome.retries ?? outcome.reports.reduce((sum, report) => sum + report.retries, 0),
    problems,
    leftProcessing,
    duplicateNotifications,
  };
}

async function photo(): Promise<Buffer> {
  sequence += 1;
  return photoLike({ width: 640, height: 480, seed: 5000 + sequence, format: 'jpeg' });
}

/**
 * Runs `scenario` on a harness of its own (each needs other stack options), warmed by one upload
 * first. With `trigger: false` uploads start nothing: the scenario starts its executions itself.
 */
async function onHarness(options: LocalStackOptions, scenario: (harness: Harness) => Promise<LifecycleResult>, trigger = true): Promise<LifecycleResult> {
  const harness = await Harness.start(options);
  try {
    // Warm the functions: their cold starts are not what a scaled time limit should measure.
    await harness.upload('lifecycle/warm.jpg', await photoLike({ width: 64, height: 48, seed: 4999, format: 'jpeg' }));
    await harness.stack.whenIdle();
    await harness.stack.drainNotifications();
    if (!trigger) harness.stack.disableTrigger();
    return await scenario(harness);
  } finally {
    await harness.stop();
  }
}

/** An execution stopped where no Catch runs (`run` stops it), then the sweeper's scheduled run past the lease. */
async function stoppedThenSwept(harness: Harness, key: string, run: (event: ReturnType<typeof objectCreatedEvent>) => Promise<ExecutionReport>, fired: () => number, ended: { status: string; error: string }): Promise<Outcome> {
  const { stack } = harness;
  const object = await stack.upload(key, await photo());
  const jobId = jobIdFor(object);
  const report = await run(objectCreatedEvent(object));
  const problems: string[] = [];
  if (report.status !== ended.status || report.error?.name !== ended.error) problems.push(`execution ended ${report.status} ${report.error?.name ?? ''}, expected ${ended.status} ${ended.error}`);
  if (report.path.includes('NotifyError') || report.path.includes('NotifySuccess')) problems.push('a Notify state ran after an uncatchable stop');
  // The Lambda still running when the execution stopped goes on (as on AWS); let it end.
  await pause(2000);
  const before = await harness.ledger.get(jobId);
  if (before?.status !== 'PROCESSING') problems.push(`before the sweep the job was ${before?.status ?? 'missing'}, expected PROCESSING (nothing recorded its end)`);
  const summary = await stack.sweep({ now: pastLeases() });
  if (!summary.abandoned.includes(jobId)) problems.push(`the sweep did not end the job (${JSON.stringify(summary)})`);
  return { jobIds: [jobId], reports: [report], fired: fired(), problems };
}

/** Every lifecycle scenario, one after another (each on its own stack). */
export async function runLifecycleScenarios(): Promise<LifecycleResult[]> {
  const results: LifecycleResult[] = [];
  const abandoned = { status: 'FAILED' as const, code: 'EXECUTION_ABANDONED' };

  results.push(
    await onHarness({}, async (harness) => {
      const { stack } = harness;
      // EXPRESS's 300 s scaled to 0.8 s; ResizeImage held 1.5 s.
      stack.faults.failState('ResizeImage', { times: 1, delayMs: 1500, delayOnly: true, error: () => new Error('unused') });
      const runner = stack.runner.withOptions({ workflowType: 'EXPRESS', maxDurationMs: 800 });
      const outcome = await stoppedThenSwept(harness, 'lifecycle/express-timeout.jpg', (event) => runner.execute(event), () => stack.faults.fired.get('state:ResizeImage') ?? 0, {
        status: 'TIMED_OUT',
        error: 'States.Timeout',
      });
      return settle(harness, 'Express time limit (scaled): TIMED_OUT, no Catch; swept after the lease', abandoned, outcome);
    }, false),
  );

  results.push(
    await onHarness({}, async (harness) => {
      const { stack } = harness;
      stack.faults.padResult('ResizeImage', { times: 1, bytes: PAYLOAD_LIMIT_BYTES });
      const outcome = await stoppedThenSwept(harness, 'lifecycle/payload.jpg', (event) => stack.runner.execute(event), () => stack.faults.fired.get('result:ResizeImage') ?? 0, {
        status: 'FAILED',
        error: 'States.DataLimitExceeded',
      });
      return settle(harness, 'state over 256 KiB: States.DataLimitExceeded, no Catch; swept after the lease', abandoned, outcome);
    }, false),
  );

  results.push(
    await onHarness({}, async (harness) => {
      const { stack } = harness;
      const object = await stack.upload('lifecycle/replay.jpg', await photo());
      const event = objectCreatedEvent(object);
      // The same execution (same name, same ARN) delivered twice at once, then once more after it ended.
      const name = `replay-${Date.now().toString(36)}`;
      const reports = await Promise.all([stack.execute(event, undefined, { name }), stack.execute(event, undefined, { name })]);
      reports.push(await stack.execute(event, undefined, { name }));
      const problems: string[] = [];
      const resized = reports.reduce((sum, report) => sum + (report.invocations.ResizeImage ?? 0), 0);
      if (resized > 2) problems.push(`ResizeImage ran ${resized} times for three copies`);
      const result = await settle(harness, 'Express replay: one execution run three times with its name', { status: 'SUCCEEDED' }, { jobIds: [jobIdFor(object)], reports, fired: reports.length, problems });
      return { ...result, kind: 'transient' };
    }, false),
  );

  results.push(
    await onHarness(
      {
        memory: { 'imgflow-resize': 160 },
        // A full-size 35 MP rendition cannot fit beside the runtime in 160 MB.
        recipe: { renditions: [{ name: 'full', width: 7000 }], formats: ['webp'] },
      },
      async (harness) => {
        const png = await sharp({ create: { width: 7000, height: 5000, channels: 3, background: { r: 40, g: 120, b: 200 } } }).png({ compressionLevel: 9 }).toBuffer();
        const { jobId, report } = await harness.upload('lifecycle/out-of-memory.png', png);
        const problems = report?.path.includes('NotifyError') ? [] : ['NotifyError did not run'];
        const record = await harness.ledger.get(jobId);
        if (record?.reasonError !== 'Lambda.Unknown') problems.push(`the error was ${record?.reasonError ?? '(none)'}, expected Lambda.Unknown`);
        return settle(harness, 'Lambda out of memory (resize at 160 MB, 35 MP): Lambda.Unknown, not retried', { status: 'FAILED', code: 'LAMBDA_ERROR' }, {
          jobIds: [jobId],
          reports: report ? [report] : [],
          fired: record?.reasonError === 'Lambda.Unknown' ? 1 : 0,
          problems,
        });
      },
    ),
  );

  results.push(
    await onHarness(
      // The Retry pauses at 1 s (not the harness's 5 ms): a throttled invocation is retried once the
      // running one can have ended, as the ASL's backoff gives it time to on AWS.
      { concurrency: { 'imgflow-resize': 1 }, retryPauseMs: 1000 }, async (harness) => {
      const { stack } = harness;
      const throttledBefore = stack.functions.resize.throttles;
      // The first ResizeImage holds the function's one slot for 1.5 s: the other upload's is throttled meanwhile.
      stack.faults.failState('ResizeImage', { times: 1, delayMs: 1500, delayOnly: true, error: () => new Error('unused') });
      const bodies = await Promise.all([photo(), photo()]);
      const uploads = await Promise.all(bodies.map((body, index) => harness.upload(`lifecycle/throttled-${index}.jpg`, body)));
      const reports = uploads.flatMap((upload) => (upload.report ? [upload.report] : []));
      const problems = reports.length === uploads.length ? [] : ['an execution did not finish'];
      const result = await settle(harness, 'Lambda throttled (resize reserved concurrency 1, 2 uploads at once): retried', { status: 'SUCCEEDED' }, {
        jobIds: uploads.map((upload) => upload.jobId),
        reports,
        fired: stack.functions.resize.throttles - throttledBefore,
        problems,
      });
      return { ...result, kind: 'transient' };
    }),
  );

  results.push(
    await onHarness({}, async (harness) => {
      const { stack } = harness;
      const deadBefore = stack.deadLetters.length;
      // The EventBridge rule's role without states:StartExecution: EventBridge does not retry, the event goes to the DLQ.
      stack.iam.setRemovals({ trigger: ['StartWorkflow'] });
      const object = await stack.upload('lifecycle/never-started.jpg', await photo());
      await pause(500);
      await stack.whenIdle();
      stack.iam.setRemovals({});
      const problems: string[] = [];
      const letters = stack.deadLetters.slice(deadBefore);
      if (letters.length !== 1 || letters[0]?.ERROR_CODE !== 'NO_PERMISSIONS') problems.push(`dead letters: ${JSON.stringify(letters.map((letter) => letter.ERROR_CODE))}`);
      if (await harness.ledger.get(jobIdFor(object))) problems.push('a record exists for an execution that never started');
      // The operator redrives the DLQ once the permission is back: the event starts its execution.
      const reports = [];
      for (const letter of letters) reports.push(await stack.execute(letter.event));
      const result = await settle(harness, 'StartExecution refused: event in the DLQ (NO_PERMISSIONS), redriven', { status: 'SUCCEEDED' }, { jobIds: [jobIdFor(object)], reports, fired: letters.length, problems });
      return { ...result, kind: 'transient' };
    }),
  );
  return results;
}
