import { spawn } from 'node:child_process';
import { once as eventOnce } from 'node:events';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { expandInputs } from '@imgflow/cli';
import { type Fault, type LocalStackOptions, awsError } from '@imgflow/local-runtime';
import { photoLike } from '@imgflow/samples';
import { Harness, type UploadExpectation, checkUpload, objectCreatedEvent } from './harness.js';
import { type DataDirAudit, auditDataDir, runImagesObserved } from './load.js';

/** One fault (or set of faults) injected into one job, and what must come of it. */
export interface FaultScenario {
  name: string;
  /** transient: retried, the job succeeds; permanent: the job ends with a reason and an error notification. */
  kind: 'transient' | 'permanent';
  /** Plans the faults on the stack's injector; `fired` keys (e.g. "s3:GetObjectCommand") that must fire. */
  inject(harness: Harness): string[];
  /** The upload: a valid photo (default) or bytes that are no image. */
  body?: 'photo' | 'garbage';
  expect: UploadExpectation;
  /** Transient scenarios: the workflow must have retried at least this often. */
  minRetries?: number;
  /** Scenarios that need their own stack (Lambda timeouts). */
  stackOptions?: LocalStackOptions;
  /** Milliseconds to keep watching after the execution ended (an abandoned handler may still write). */
  settleMs?: number;
}

export interface ScenarioResult {
  name: string;
  kind: FaultScenario['kind'];
  status?: string;
  code?: string;
  fired: number;
  retries: number;
  problems: string[];
}

const always = (error: () => Error): Fault => ({ times: 1000, error });
const once = (error: () => Error, times = 1): Fault => ({ times, error });
const slowDown = () => awsError('SlowDown', 503, 'Please reduce your request rate.');
const internalError = () => awsError('InternalError', 500, 'We encountered an internal error. Please try again.');
/** What DynamoDB sends when a table is throttled: the SDK's own exception class (HTTP 400, retryable by name). */
const throttled = () =>
  new ProvisionedThroughputExceededException({
    message: 'The level of configured provisioned throughput for the table was exceeded.',
    $metadata: { httpStatusCode: 400 },
  });

/**
 * Faults at every step of the local runtime. The DynamoDB command names are those the
 * DocumentClient's middleware sees: its UpdateCommand/GetCommand travel as
 * UpdateItemCommand/GetItemCommand of the underlying client (no function queries an index).
 */
export function faultScenarios(): FaultScenario[] {
  const succeeded: UploadExpectation = { status: 'SUCCEEDED', notifications: 1 };
  const s3 = (harness: Harness, command: string, fault: Fault) => {
    harness.stack.faults.failAws('s3', command, fault);
    return [`s3:${command}`];
  };
  const dynamo = (harness: Harness, command: string, fault: Fault) => {
    harness.stack.faults.failAws('dynamodb', command, fault);
    return [`dynamodb:${command}`];
  };
  return [
    { name: 'S3 GetObject 503 SlowDown once', kind: 'transient', inject: (h) => s3(h, 'GetObjectCommand', once(slowDown)), expect: succeeded, minRetries: 1 },
    { name: 'S3 GetObject 500 InternalError twice', kind: 'transient', inject: (h) => s3(h, 'GetObjectCommand', once(internalError, 2)), expect: succeeded, minRetries: 2 },
    { name: 'S3 PutObject 500 InternalError twice', kind: 'transient', inject: (h) => s3(h, 'PutObjectCommand', once(internalError, 2)), expect: succeeded, minRetries: 2 },
    {
      name: 'S3 GetObject slow (1.5 s)',
      kind: 'transient',
      inject: (h) => s3(h, 'GetObjectCommand', { times: 2, delayMs: 1500, delayOnly: true, error: slowDown }),
      expect: succeeded,
    },
    {
      name: 'S3 PutObject slow (1 s)',
      kind: 'transient',
      inject: (h) => s3(h, 'PutObjectCommand', { times: 3, delayMs: 1000, delayOnly: true, error: slowDown }),
      expect: succeeded,
    },
    { name: 'DynamoDB UpdateItem throttled', kind: 'transient', inject: (h) => dynamo(h, 'UpdateItemCommand', once(throttled, 2)), expect: succeeded, minRetries: 1 },
    // The first GetItem is the content claim's read; the retry's claim then reads its own job back (the second).
    { name: 'DynamoDB GetItem throttled twice (content claim, claim read-back)', kind: 'transient', inject: (h) => dynamo(h, 'GetItemCommand', once(throttled, 2)), expect: succeeded, minRetries: 2 },
    { name: 'DynamoDB GetItem throttled', kind: 'transient', inject: (h) => dynamo(h, 'GetItemCommand', once(throttled)), expect: succeeded, minRetries: 1 },
    {
      name: 'SNS Publish fails once',
      kind: 'transient',
      inject: (h) => {
        h.stack.faults.failAws('sns', 'PublishCommand', once(internalError));
        return ['sns:PublishCommand'];
      },
      expect: succeeded,
      minRetries: 1,
    },
    {
      name: 'handler fails transiently (ImageProcessingError ×2 in ResizeImage)',
      kind: 'transient',
      inject: (h) => {
        h.stack.faults.failState('ResizeImage', once(() => Object.assign(new Error('vips_resize: out of memory'), { name: 'ImageProcessingError', code: 'PROCESSING_FAILED' }), 2));
        return ['state:ResizeImage'];
      },
      expect: succeeded,
      minRetries: 2,
    },
    {
      name: 'S3 GetObject down (500 on every attempt)',
      kind: 'permanent',
      inject: (h) => s3(h, 'GetObjectCommand', always(internalError)),
      expect: { status: 'FAILED', code: 'STORAGE_UNAVAILABLE', notifications: 1, executionError: 'JobFailed' },
    },
    {
      name: 'S3 PutObject down (503 on every attempt)',
      kind: 'permanent',
      inject: (h) => s3(h, 'PutObjectCommand', always(slowDown)),
      expect: { status: 'FAILED', code: 'STORAGE_UNAVAILABLE', notifications: 1, executionError: 'JobFailed' },
    },
    {
      name: 'S3 PutObject AccessDenied (a role without the permission)',
      kind: 'permanent',
      inject: (h) => s3(h, 'PutObjectCommand', always(() => awsError('AccessDenied', 403, 'Access Denied'))),
      expect: { status: 'FAILED', code: 'ACCESS_DENIED', notifications: 1, executionError: 'JobFailed' },
    },
    {
      name: 'SNS down for a successful job',
      kind: 'permanent',
      inject: (h) => {
        h.stack.faults.failAws('sns', 'PublishCommand', always(internalError));
        return ['sns:PublishCommand'];
      },
      // The job is recorded; the missing notification is visible: the execution fails NotificationFailed.
      expect: { status: 'SUCCEEDED', notifications: 0, executionError: 'NotificationFailed' },
    },
    {
      name: 'handler crashes (TypeError in OptimizeImage)',
      kind: 'permanent',
      inject: (h) => {
        h.stack.faults.failState('OptimizeImage', once(() => new TypeError("Cannot read properties of undefined (reading 'width')")));
        return ['state:OptimizeImage'];
      },
      expect: { status: 'FAILED', code: 'INTERNAL_ERROR', notifications: 1, executionError: 'JobFailed' },
    },
    {
      name: 'handler exceeds its Lambda timeout (ResizeImage, 0.5 s)',
      kind: 'permanent',
      stackOptions: { timeouts: { 'imgflow-resize': 0.5 } },
      inject: (h) => {
        h.stack.faults.failState('ResizeImage', { times: 1, delayMs: 1500, delayOnly: true, error: () => new Error('unused') });
        return ['state:ResizeImage'];
      },
      expect: { status: 'FAILED', code: 'LAMBDA_TIMEOUT', notifications: 1, executionError: 'JobFailed' },
      // The abandoned invocation wakes up after 1.5 s: whatever it does then must leave no trace.
      settleMs: 3000,
    },
  ];
}

let sequence = 0;

/** Runs one scenario on a harness: injects, uploads, checks every guarantee, clears the faults. */
export async function runScenario(harness: Harness, scenario: FaultScenario): Promise<ScenarioResult> {
  sequence += 1;
  const { faults } = harness.stack;
  faults.clear();
  faults.fired.clear();
  const targets = scenario.inject(harness);
  const body =
    scenario.body === 'garbage'
      ? Buffer.from(`not an image ${sequence}`)
      : await photoLike({ width: 640, height: 480, seed: 1000 + sequence, format: 'jpeg' });
  const key = `faults/${String(sequence).padStart(3, '0')}-${scenario.name.replace(/[^A-Za-z0-9]+/g, '-').toLowerCase()}.jpg`;
  let check = await checkUpload(harness, key, body, scenario.expect);
  faults.clear();
  if (scenario.settleMs) {
    await new Promise((resolve) => setTimeout(resolve, scenario.settleMs));
    const after = await harness.listKeys(harness.stack.config.outputBucket);
    const leftovers = after.filter((each) => each.startsWith(harness.stack.config.workPrefix));
    const late = scenario.expect.status === 'SUCCEEDED' ? [] : after.filter((each) => each.startsWith(`${harness.stack.config.outputPrefix}faults/${String(sequence).padStart(3, '0')}`));
    const lateProblems = [
      ...(leftovers.length ? [`${leftovers.length} work object(s) written after the job ended`] : []),
      ...(late.length ? [`${late.length} output(s) written after the job ended`] : []),
    ];
    check = { ...check, problems: [...check.problems, ...lateProblems] };
  }
  const fired = targets.reduce((sum, target) => sum + (faults.fired.get(target) ?? 0), 0);
  const retries = check.report?.retries ?? 0;
  const problems = [...check.problems];
  if (fired === 0) problems.push(`the fault never fired (${targets.join(', ')})`);
  if (scenario.minRetries !== undefined && retries < scenario.minRetries) problems.push(`${retries} retries, expected at least ${scenario.minRetries}`);
  return {
    name: scenario.name,
    kind: scenario.kind,
    ...(check.record?.status ? { status: check.record.status } : {}),
    ...(check.record?.reasonCode ? { code: check.record.reasonCode } : {}),
    fired,
    retries,
    problems,
  };
}

/** Every scenario, each stack configuration started once. */
export async function runFaultScenarios(scenarios: readonly FaultScenario[] = faultScenarios()): Promise<ScenarioResult[]> {
  const results: ScenarioResult[] = [];
  const groups = new Map<string, FaultScenario[]>();
  for (const scenario of scenarios) {
    const group = JSON.stringify(scenario.stackOptions ?? {});
    groups.set(group, [...(groups.get(group) ?? []), scenario]);
  }
  for (const [options, group] of groups) {
    const harness = await Harness.start(JSON.parse(options) as LocalStackOptions);
    try {
      for (const scenario of group) results.push(await runScenario(harness, scenario));
    } finally {
      await harness.stop();
    }
  }
  return results;
}

/**
 * A conditional-check race: the same upload delivered twice at the same moment, the first
 * claim slowed so both executions are at the conditional write together. Exactly one does the work.
 */
export async function raceScenario(): Promise<ScenarioResult> {
  const harness = await Harness.start();
  const problems: string[] = [];
  try {
    const { stack } = harness;
    await stack.drainNotifications();
    stack.faults.failAws('dynamodb', 'UpdateItemCommand', { times: 1, delayMs: 200, delayOnly: true, error: throttled });
    const body = await photoLike({ width: 800, height: 600, seed: 77 });
    const key = 'faults/race.jpg';
    const first = harness.nextExecution(key);
    const ref = await stack.upload(key, body);
    // The second delivery starts as soon as the object exists, while the first is still claiming.
    const reports = await Promise.all([first, stack.execute(objectCreatedEvent(ref))]);
    await stack.whenIdle();
    const ends = reports.map((report) => report?.path.at(-1) ?? 'unfinished').sort();
    if (JSON.stringify(ends) !== JSON.stringify(['AlreadyHandled', 'Done'])) problems.push(`executions ended ${ends.join(' + ')}, expected AlreadyHandled + Done`);
    const resized = reports.reduce((sum, report) => sum + (report?.invocations.ResizeImage ?? 0), 0);
    if (resized !== 1) problems.push(`ResizeImage ran ${resized} times`);
    const records = await harness.ledger.listBySourceKey(key);
    if (records.length !== 1 || records[0]?.status !== 'SUCCEEDED' || records[0]?.attempts !== 1) {
      problems.push(`records: ${JSON.stringify(records.map((record) => [record.status, record.attempts]))}`);
    }
    const notifications = (await stack.drainNotifications()).filter((message) => message.source.key === key);
    if (notifications.length !== 1) problems.push(`${notifications.length} notifications`);
    const fired = stack.faults.fired.get('dynamodb:UpdateItemCommand') ?? 0;
    if (fired === 0) problems.push('the delayed claim never fired');
    return { name: 'two executions of one upload at once (conditional claim)', kind: 'transient', status: records[0]?.status ?? 'none', fired, retries: 0, problems };
  } finally {
    await harness.stop();
  }
}

/** apps/cli/bin/imgflow.js, from src/ or dist/ alike (both sit one level under apps/reliability). */
export function cliBin(): string {
  return fileURLToPath(new URL('../../cli/bin/imgflow.js', import.meta.url));
}

export interface RestartResult extends DataDirAudit {
  killedAfter: number;
  firstRunFinished: number;
}

/**
 * Kill-and-rerun: `imgflow run` in a child process on a data folder, SIGKILLed once `killAfter`
 * images have finished (executions in flight are abandoned mid-step, as in a crash), then
 * `imgflow run` again on the same folder and data: every file must end SUCCEEDED with one
 * record, one notification and no duplicate outputs.
 */
export async function killAndRerun(images = 12, killAfter = 4): Promise<RestartResult> {
  const root = await mkdtemp(join(tmpdir(), 'imgflow-kill-'));
  try {
    const inputs = join(root, 'inputs');
    await mkdir(inputs, { recursive: true });
    for (let index = 0; index < images; index += 1) {
      const width = 1600 + (index % 4) * 200;
      await writeFile(join(inputs, `photo-${String(index).padStart(3, '0')}.jpg`), await photoLike({ width, height: Math.round(width * 0.66), seed: 300 + index }));
    }
    const dataDir = join(root, 'data');
    const args = [cliBin(), 'run', inputs, '--data', dataDir, '--out', join(root, 'out-1'), '--concurrency', '3'];
    const child = spawn(process.execPath, args, { env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let finished = 0;
    let killed = false;
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      finished += lines.filter((line) => /^\[\d+\/\d+\] /.test(line)).length;
      if (!killed && finished >= killAfter) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr.resume();
    const [code, signal] = (await eventOnce(child, 'exit')) as [number | null, NodeJS.Signals | null];
    const pid = child.pid;
    const { outcome, notifications, resentAtStart } = await runImagesObserved({ inputs: [inputs], data: dataDir, out: join(root, 'out-2'), concurrency: 3, cwd: root });
    const files = await expandInputs([inputs], root);
    const audit = await auditDataDir(dataDir, files, notifications, pid, resentAtStart);
    if (signal !== 'SIGKILL') audit.lost.push(`the first run was not killed mid-run (exit ${String(code)}, ${finished} finished)`);
    if (finished >= images) audit.lost.push('the first run finished every image before it was killed');
    if ((audit.byStatus.SUCCEEDED ?? 0) !== images) audit.lost.push(`${audit.byStatus.SUCCEEDED ?? 0} of ${images} SUCCEEDED after the re-run`);
    const unfinished = outcome.results.filter((result) => result.status !== 'SUCCEEDED');
    if (unfinished.length > 0) audit.lost.push(`the re-run reported ${unfinished.length} file(s) not SUCCEEDED: ${unfinished.map((result) => `${result.file.key} ${result.reason?.code ?? ''}`).join(', ')}`);
    return { ...audit, killedAfter: killAfter, firstRunFinished: finished };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}
