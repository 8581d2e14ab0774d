import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, DescribeMapRunCommand, ListMapRunsCommand, SFNClient, StartExecutionCommand } from '@aws-sdk/client-sfn';
import { DEFAULT_RECIPE_INPUT } from '@imgflow/image-core';
import { type LocalStack, UPLOAD_BUCKET } from '@imgflow/local-runtime';
import type { JobNotification } from '@imgflow/pipeline';
import { mockClient } from 'aws-sdk-client-mock';
import sharp from 'sharp';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type BackfillItemResult, backfill } from '../src/commands/backfill.js';
import { md5Hex } from '../src/executions.js';
import { openLocalLedger } from '../src/ledger.js';
import { captureIo, spawnCli, tempDir } from './helpers.js';

let root: { path: string; remove: () => Promise<void> };

/** `count` small images, each of other bytes (no content-cache hits), alternately JPEG and PNG, and one text file. */
async function writeFolder(folder: string, count: number): Promise<void> {
  await mkdir(folder, { recursive: true });
  for (let index = 0; index < count; index += 1) {
    const format = index % 2 === 0 ? 'jpeg' : 'png';
    const image = sharp({ create: { width: 64, height: 48, channels: 3, background: { r: (index * 37) % 256, g: (index * 11) % 256, b: 255 - index } } });
    await (format === 'jpeg' ? image.jpeg() : image.png()).toFile(join(folder, `img-${String(index).padStart(3, '0')}.${format === 'jpeg' ? 'jpg' : 'png'}`));
  }
  await writeFile(join(folder, 'readme.txt'), 'this is text, not an image\n');
}

/** What the local runtime published, read before it stops (the SNS emulator lives in memory). */
function notificationsInto(list: JobNotification[]): (stack: LocalStack) => Promise<void> {
  return async (stack) => {
    list.push(...(await stack.drainNotifications()));
  };
}

function statuses(results: readonly BackfillItemResult[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const result of results) counts[result.status] = (counts[result.status] ?? 0) + 1;
  return counts;
}

beforeAll(async () => {
  root = await tempDir();
  // A bench result as `make bench` writes it, with only what the dry run reads: imgflow on Express, arm64, $74.39 per million.
  await writeFile(
    join(root.path, 'bench.json'),
    JSON.stringify({ schema: 'imgflow.bench/1', mode: 'full', finishedAt: '2026-03-01T12:00:00.000Z', cost: { prices: { region: 'us-east-1' }, perMillion: { imgflow: { express: { arm64: { total: 74.39 } } } } } }),
  );
});

afterAll(async () => {
  await root.remove();
});

describe('imgflow backfill of a folder', () => {
  let folder: string;
  let data: string;
  const images = 30;

  beforeAll(async () => {
    folder = join(root.path, 'existing');
    data = join(root.path, 'state');
    await writeFolder(folder, images);
  });

  it('--dry-run lists the objects, the count and the modeled cost, and starts nothing', async () => {
    const bench = join(root.path, 'bench.json');
    const io = captureIo();
    const outcome = await backfill({ source: folder, data, dryRun: true, benchResults: bench, cwd: root.path }, io);
    expect(io.err()).toBe('');
    expect(outcome.exitCode).toBe(0);
    expect(outcome.dryRun).toMatchObject({ items: images + 1 });
    const text = io.out();
    expect(text).toContain(`imgflow backfill --dry-run: ${images + 1} objects in ${folder}`);
    expect(text).toMatch(/│ uploads\/img-000\.jpg\s+│ \d+ B\s+│ process\s+│/);
    expect(text).toContain('… and 11 more');
    expect(text).toContain('would process 31 images (no local ledger yet), 2 at a time');
    // 31 × $74.39 per million
    expect(text).toContain('modeled AWS cost: 31 images × $0.000074 = $0.0023 (Express workflow, arm64, us-east-1 on-demand; $74.39 per million images, from bench.json of 2026-03-01)');
    expect(text).toContain('dry run: nothing was started');
    expect(existsSync(data)).toBe(false);
  });

  it('processes every object already there with exact counts: SUCCEEDED 30, REJECTED 1', async () => {
    const io = captureIo();
    const notifications: JobNotification[] = [];
    const outcome = await backfill({ source: folder, data, concurrency: 3, cwd: root.path, observe: notificationsInto(notifications) }, io);
    expect(io.err()).toBe('');
    expect(outcome.exitCode).toBe(1);
    expect(outcome.items).toBe(images + 1);
    expect(statuses(outcome.results)).toEqual({ SUCCEEDED: images, REJECTED: 1 });
    expect(outcome.results.find((result) => result.key === 'uploads/readme.txt')?.reason?.code).toBe('UNKNOWN_FORMAT');
    expect(outcome.peakInFlight).toBeGreaterThan(1);
    expect(outcome.peakInFlight).toBeLessThanOrEqual(3);
    // Put without triggering: one execution per object, the backfill's own, so one notification each.
    expect(notifications).toHaveLength(images + 1);
    expect(new Set(notifications.map((message) => message.jobId)).size).toBe(images + 1);

    const text = io.out();
    expect(text.match(/^\[\d+\/31\] /gm)).toHaveLength(31);
    expect(text).toMatch(/^\[\d+\/31\] SUCCEEDED uploads\/img-\d{3}\.(jpg|png) in .+ images\/s · ETA /m);
    expect(text).toMatch(/│ SUCCEEDED\s+│\s+│ 30\s+│/);
    expect(text).toMatch(/│ REJECTED\s+│ UNKNOWN_FORMAT\s+│ 1\s+│/);
    expect(text).toMatch(/│ uploads\/readme\.txt\s+│ REJECTED\s+│ UNKNOWN_FORMAT: /);
    expect(text).toMatch(/^31 images: 31 processed \(30 succeeded, 1 rejected, 0 failed\), 0 skipped \(already handled\) in \d+\.\ds, \d+\.\d images\/s$/m);
  });

  it('a re-run over the same objects processes 0, and says so', async () => {
    const io = captureIo();
    const notifications: JobNotification[] = [];
    const outcome = await backfill({ source: folder, data, concurrency: 3, cwd: root.path, observe: notificationsInto(notifications) }, io);
    expect(io.err()).toBe('');
    expect(outcome.exitCode).toBe(0);
    expect(outcome.processed).toBe(0);
    expect(statuses(outcome.results)).toEqual({ SKIPPED: images + 1 });
    expect(notifications).toEqual([]);
    const text = io.out();
    expect(text).toMatch(/│ SKIPPED\s+│ already handled \(SUCCEEDED\)\s+│ 30\s+│/);
    expect(text).toMatch(/│ SKIPPED\s+│ already handled \(REJECTED\)\s+│ 1\s+│/);
    expect(text).toMatch(/^31 images: 0 processed \(0 succeeded, 0 rejected, 0 failed\), 31 skipped \(already handled\) in /m);
    expect(text).toContain('nothing to do: all 31 images were already handled by an earlier run (0 processed)');

    // Still one version of each object (bytes already there are not put again), one record per job.
    const handle = await openLocalLedger(data);
    try {
      for (const name of ['img-000.jpg', 'img-001.png', 'readme.txt']) {
        expect(await handle?.ledger.listBySourceKey(`uploads/${name}`)).toHaveLength(1);
      }
    } finally {
      await handle?.close();
    }
  });

  it('--dry-run on that state names what a run would skip', async () => {
    const io = captureIo();
    const outcome = await backfill({ source: `s3://${UPLOAD_BUCKET}/uploads/img-00`, data, dryRun: true, benchResults: join(root.path, 'bench.json'), cwd: root.path }, io);
    expect(outcome.exitCode).toBe(0);
    expect(outcome.dryRun).toMatchObject({ items: 10, alreadyHandled: 10 });
    expect(io.out()).toMatch(/│ uploads\/img-001\.png\s+│ \d+ B\s+│ skip \(SUCCEEDED before\)\s+│/);
    expect(io.out()).toContain('would process 0 images (10 already handled: skipped)');
  });

  // Last in this block: it changes the recorded recipe of every image.
  it('--changed-recipe starts only the images made with another recipe, and renders only the rendition the recipe gained', async () => {
    const unchanged = captureIo();
    const none = await backfill({ source: folder, data, changedRecipe: true, cwd: root.path }, unchanged);
    expect(none.results).toEqual([]);
    expect(unchanged.out()).toContain('imgflow backfill --changed-recipe: 0 of 31 objects were made with another recipe; only those run');

    const recipe = join(root.path, 'plus-xs.json');
    await writeFile(recipe, JSON.stringify({ ...DEFAULT_RECIPE_INPUT, renditions: [...(DEFAULT_RECIPE_INPUT.renditions ?? []), { name: 'xs', width: 16 }] }));
    const io = captureIo();
    const notifications: JobNotification[] = [];
    const outcome = await backfill({ source: folder, data, recipe, changedRecipe: true, concurrency: 3, cwd: root.path, observe: notificationsInto(notifications) }, io);
    expect(io.err()).toBe('');
    // The 30 images; the REJECTED text file is not re-run by a recipe change.
    expect(io.out()).toContain('imgflow backfill --changed-recipe: 30 of 31 objects were made with another recipe; only those run');
    expect(statuses(outcome.results)).toEqual({ SUCCEEDED: images });
    expect(notifications).toHaveLength(images);
    const handle = await openLocalLedger(data);
    try {
      const [record] = (await handle?.ledger.listBySourceKey('uploads/img-000.jpg')) ?? [];
      // The default recipe's outputs kept, the xs rendition's added in each format.
      expect(record?.outputs?.filter((output) => output.rendition === 'xs').map((output) => output.format)).toEqual(['avif', 'webp', 'jpeg']);
      expect(record?.outputs?.filter((output) => output.rendition !== 'xs').every((output) => !/\.[0-9a-f]{8}\./.test(output.key))).toBe(true);
      expect(record?.outputs).toHaveLength(12);
    } finally {
      await handle?.close();
    }
  });

  it('refuses a bucket the local runtime does not have, and remote options without --remote', async () => {
    const io = captureIo();
    expect((await backfill({ source: 's3://my-photos/2024/', data, cwd: root.path }, io)).exitCode).toBe(2);
    expect(io.err()).toBe(`imgflow backfill: the local runtime's upload bucket is ${UPLOAD_BUCKET}, not my-photos: give s3://${UPLOAD_BUCKET}/<prefix> (or --remote for a deployment)\n`);
    const other = captureIo();
    expect((await backfill({ source: folder, stateMachineArn: 'arn:aws:states:us-east-1:123456789012:stateMachine:b', cwd: root.path }, other)).exitCode).toBe(2);
    expect(other.err()).toContain('--state-machine-arn and --prefix go with --remote');
  });
});

describe('imgflow backfill killed halfway and run again', () => {
  it('ends with every image processed once: one record, one notification, nothing processed twice', async () => {
    const folder = join(root.path, 'kill');
    const data = join(root.path, 'kill-state');
    const images = 12;
    await writeFolder(folder, images);
    const cli = spawnCli(['backfill', folder, '--data', data, '--concurrency', '2']);
    await cli.waitFor(/^\[4\/13\] /m, 90_000);
    cli.child.kill('SIGKILL');
    const { code } = await cli.exited;
    expect(code).toBe(137);
    const pid = cli.child.pid as number;
    // What the killed run finished (its lines), and so must not be processed again.
    const finishedBefore = new Set([...cli.out().matchAll(/^\[\d+\/13\] (?:SUCCEEDED|REJECTED|FAILED)\S* (?:\(\S+\) )?(\S+)/gm)].map((match) => match[1] as string));
    expect(finishedBefore.size).toBeGreaterThanOrEqual(4);
    expect(finishedBefore.size).toBeLessThan(images + 1);

    const io = captureIo();
    const notifications: JobNotification[] = [];
    const rerun = await backfill({ source: folder, data, concurrency: 2, cwd: root.path, observe: notificationsInto(notifications) }, io);
    expect(io.err()).toBe('');
    expect(rerun.exitCode).toBe(1);
    expect(rerun.results).toHaveLength(images + 1);
    const processedAgain = rerun.results.filter((result) => result.status !== 'SKIPPED').map((result) => result.key);
    const skipped = rerun.results.filter((result) => result.status === 'SKIPPED').map((result) => result.key);
    // Nothing the killed run finished is processed again; what it left (or held mid-step) is.
    expect(processedAgain.filter((key) => finishedBefore.has(key))).toEqual([]);
    for (const key of finishedBefore) expect(skipped).toContain(key);
    expect(processedAgain.length).toBeGreaterThan(0);
    expect(rerun.results.filter((result) => result.status === 'FAILED' || result.status === 'INTERRUPTED')).toEqual([]);

    const handle = await openLocalLedger(data);
    try {
      for (let index = 0; index <= images; index += 1) {
        const name = index === images ? 'readme.txt' : `img-${String(index).padStart(3, '0')}.${index % 2 === 0 ? 'jpg' : 'png'}`;
        const key = `uploads/${name}`;
        const bytes = await readFile(join(folder, name));
        const records = await handle?.ledger.listBySourceKey(key);
        // One job per object: the same bytes, its current version (ValidateImage reads it: withListedVersion).
        expect(records?.map((record) => [record.etag, Boolean(record.versionId)]), key).toEqual([[md5Hex(bytes), true]]);
        const record = records?.[0];
        const jobId = record?.jobId;
        expect(record?.status, key).toBe(name === 'readme.txt' ? 'REJECTED' : 'SUCCEEDED');
        expect(record?.notified, key).toBe(true);
        // One notification: the re-run's, or the killed run's (its SNS emulator died with it: the record says it was sent).
        const byRerun = notifications.filter((message) => message.jobId === jobId).length;
        const byKilledRun = byRerun === 0 && record?.executionId.includes(`-${pid}-`) ? 1 : 0;
        expect(byRerun + byKilledRun, key).toBe(1);
      }
    } finally {
      await handle?.close();
    }
  });
});

describe('imgflow backfill --remote', () => {
  // Mocked at their classes only here: the local runtime of the tests above uses real S3 clients.
  const mockSfn = () => mockClient(SFNClient);
  const mockS3 = () => mockClient(S3Client);
  let sfn: ReturnType<typeof mockSfn>;
  let s3: ReturnType<typeof mockS3>;
  const STATE_MACHINE = 'arn:aws:states:us-east-1:123456789012:stateMachine:imgflow-backfill';
  const EXECUTION = 'arn:aws:states:us-east-1:123456789012:execution:imgflow-backfill:run-1';
  const MAP_RUN = 'arn:aws:states:us-east-1:123456789012:mapRun:imgflow-backfill/run-1:0b1e63c3';

  beforeAll(() => {
    sfn = mockSfn();
    s3 = mockS3();
  });

  beforeEach(() => {
    sfn.reset();
    s3.reset();
  });

  afterAll(() => {
    sfn.restore();
    s3.restore();
  });

  it('starts the backfill state machine with { prefix } and follows the Map Run until the execution ends', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION, startDate: new Date() });
    sfn
      .on(DescribeExecutionCommand)
      .resolvesOnce({ status: 'RUNNING' })
      .resolvesOnce({ status: 'RUNNING' })
      .resolves({ status: 'SUCCEEDED' });
    sfn
      .on(ListMapRunsCommand)
      .resolvesOnce({ mapRuns: [] })
      .resolves({ mapRuns: [{ mapRunArn: MAP_RUN, executionArn: EXECUTION, stateMachineArn: STATE_MACHINE, startDate: new Date() }] });
    const counts = (succeeded: number, running: number, pending: number) => ({ itemCounts: { pending, running, succeeded, failed: 0, timedOut: 0, aborted: 0, total: 1000, resultsWritten: 0 } });
    sfn
      .on(DescribeMapRunCommand)
      .resolvesOnce({ status: 'RUNNING', ...counts(400, 100, 500) } as never)
      .resolves({ status: 'SUCCEEDED', ...counts(1000, 0, 0) } as never);

    const io = captureIo();
    const outcome = await backfill({ remote: true, stateMachineArn: STATE_MACHINE, source: 's3://photos/2024/', interval: 0 }, io);
    expect(io.err()).toBe('');
    expect(outcome.exitCode).toBe(0);
    expect(sfn.commandCalls(StartExecutionCommand)[0]?.args[0].input).toEqual({ stateMachineArn: STATE_MACHINE, input: '{"prefix":"2024/"}' });
    const text = io.out();
    expect(text).toContain(`imgflow backfill: started ${EXECUTION} with {"prefix":"2024/"}`);
    expect(text).toMatch(/^\d\d:\d\d:\d\d 400\/1000 · 400 succeeded · 0 rejected · 0 failed · 0 skipped · running 100 · pending 500 · /m);
    expect(text).toMatch(/^\d\d:\d\d:\d\d 1000\/1000 · 1000 succeeded /m);
    expect(text).toMatch(/│ succeeded \(processed or already handled\)\s+│ 1000\s+│/);
    expect(text).toMatch(/^1000 images: 1000 succeeded, 0 failed in \d+\.\ds; execution SUCCEEDED$/m);
  });

  it('exits 1 when items failed, and names the missing ARN', async () => {
    sfn.on(StartExecutionCommand).resolves({ executionArn: EXECUTION, startDate: new Date() });
    sfn.on(DescribeExecutionCommand).resolves({ status: 'FAILED', error: 'States.ExceedToleratedFailureThreshold', cause: 'too many items failed' });
    sfn.on(ListMapRunsCommand).resolves({ mapRuns: [{ mapRunArn: MAP_RUN, executionArn: EXECUTION, stateMachineArn: STATE_MACHINE, startDate: new Date() }] });
    sfn.on(DescribeMapRunCommand).resolves({ status: 'FAILED', itemCounts: { pending: 0, running: 0, succeeded: 8, failed: 2, timedOut: 0, aborted: 0, total: 10, resultsWritten: 0 } } as never);
    const io = captureIo();
    const outcome = await backfill({ remote: true, stateMachineArn: STATE_MACHINE, prefix: 'uploads/', interval: 0 }, io);
    expect(outcome.exitCode).toBe(1);
    expect(io.out()).toMatch(/^10 images: 8 succeeded, 2 failed in .*execution FAILED \(States\.ExceedToleratedFailureThreshold: too many items failed\)$/m);

    const missing = captureIo();
    expect((await backfill({ remote: true }, missing)).exitCode).toBe(2);
    expect(missing.err()).toBe('imgflow backfill: --remote needs --state-machine-arn <arn> of the backfill state machine (or $IMGFLOW_BACKFILL_STATE_MACHINE_ARN)\n');
  });

  it('--dry-run lists the bucket and starts nothing', async () => {
    s3.on(ListObjectsV2Command).resolves({
      Contents: [
        { Key: '2024/a.jpg', ETag: '"a"', Size: 1000 },
        { Key: '2024/b.jpg', ETag: '"b"', Size: 2000 },
      ],
    });
    const io = captureIo();
    const outcome = await backfill({ remote: true, dryRun: true, stateMachineArn: STATE_MACHINE, source: 's3://photos/2024/', benchResults: join(root.path, 'bench.json'), cwd: root.path }, io);
    expect(outcome.exitCode).toBe(0);
    expect(sfn.commandCalls(StartExecutionCommand)).toHaveLength(0);
    expect(io.out()).toContain('imgflow backfill --remote --dry-run: 2 objects in s3://photos/2024/');
    expect(io.out()).toContain('modeled AWS cost: 2 images × $0.000074 = $0.00015');
    expect(io.out()).toContain(`dry run: nothing was started (would start ${STATE_MACHINE} with {"prefix":"2024/"})`);
  });
});

describe('the backfill progress', () => {
  it('on a terminal, one live bar with the tally, images per second and the ETA', async () => {
    const { BackfillProgress } = await import('../src/ui/progress.js');
    const io = captureIo();
    Object.assign(io.stdout, { isTTY: true, columns: 160 });
    const progress = new BackfillProgress(io, 4);
    progress.finished('succeeded', 'SUCCEEDED uploads/a.jpg');
    progress.finished('skipped', 'SKIPPED uploads/b.jpg');
    progress.finished('rejected', 'REJECTED uploads/c.txt');
    progress.stop();
    const text = io.out();
    expect(text).toContain('3/4 | 1 succeeded · 1 rejected · 0 failed · 1 skipped | ');
    expect(text).toMatch(/\d+\.\d images\/s · ETA /);
    // No per-image lines on a terminal.
    expect(text).not.toContain('uploads/a.jpg');
  });
});
