import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type BackfillOutcome, backfill, expandInputs } from '@imgflow/cli';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { DEFAULT_RECIPE_INPUT } from '@imgflow/image-core';
import { type JobNotification, TERMINAL_STATUSES } from '@imgflow/pipeline';
import sharp from 'sharp';
import { cliBin } from './faults.js';
import { Harness } from './harness.js';
import { quietIo } from './load.js';

/** What the backfill scenario measured. */
export interface BackfillResult {
  /** Objects backfilled (images and the non-images among them). */
  images: number;
  invalid: number;
  concurrency: number;
  /** The ledger's final status of each object's job. */
  byStatus: Record<string, number>;
  /** The first run's items that ended before it was SIGKILLed. */
  killedAfter: number;
  /** Items the resumed run processed (the rest it skipped: already handled). */
  resumedProcessed: number;
  /** Wall time of the killed run and the resumed one (not the unchanged re-run). */
  seconds: number;
  imagesPerSecond: number;
  /**
   * Objects processed twice (must be 0): finished by the killed run and processed again by the
   * resumed one, or with more than one record or notification.
   */
  processedTwice: number;
  /** Items the unchanged re-run processed (must be 0: the ledger skips them all). */
  unchangedRerunProcessed: number;
  /** A re-run after the recipe gained one rendition (absent in reports written before it existed). */
  recipeChange?: RecipeChangeResult;
  problems: string[];
}

/** The backfill after a recipe change that adds one rendition: only that rendition is rendered. */
export interface RecipeChangeResult {
  /** The rendition the recipe gained. */
  added: string;
  /** Images re-rendered (every SUCCEEDED one). */
  rerendered: number;
  /** Outputs written: the new rendition's, in each format. */
  newOutputs: number;
  /** Outputs of the other renditions that changed (must be 0: key, bytes, hash or LastModified). */
  keptRewritten: number;
  seconds: number;
}

/** The default recipe plus a rendition smaller than the generated objects, so every image gains one output per format. */
const ADDED_RENDITION = { name: 'xs', width: 32 };

const FORMATS = ['jpeg', 'png', 'webp', 'gif', 'tiff', 'avif'] as const;

/**
 * `count` small generated objects (64×48, each of other bytes, cycling through JPEG, PNG, WebP,
 * GIF, TIFF and AVIF) and every 50th (from the 10th) a text file, which the workflow rejects.
 */
export async function generateBackfillInputs(dir: string, count: number): Promise<{ invalid: number }> {
  await mkdir(dir, { recursive: true });
  let invalid = 0;
  for (let index = 0; index < count; index += 1) {
    const name = `obj-${String(index).padStart(4, '0')}`;
    if (index % 50 === 9) {
      invalid += 1;
      await writeFile(join(dir, `${name}.jpg`), `not an image: ${index}\n`);
      continue;
    }
    const format = FORMATS[index % FORMATS.length] as (typeof FORMATS)[number];
    const image = sharp({ create: { width: 64, height: 48, channels: 3, background: { r: index % 256, g: Math.floor(index / 256) * 40, b: (index * 7) % 256 } } });
    await image.toFormat(format).toFile(join(dir, `${name}.${format === 'jpeg' ? 'jpg' : format}`));
  }
  return { invalid };
}

/** A run of `imgflow backfill` in this process, with the notifications its runtime published. */
async function backfillObserved(inputs: string, dataDir: string, concurrency: number, cwd: string): Promise<{ outcome: BackfillOutcome; notifications: JobNotification[] }> {
  const notifications: JobNotification[] = [];
  const outcome = await backfill(
    {
      source: inputs,
      data: dataDir,
      concurrency,
      cwd,
      retryPauseMs: 5,
      observe: async (stack) => {
        notifications.push(...(await stack.drainNotifications()));
      },
    },
    quietIo(),
  );
  return { outcome, notifications };
}

/**
 * `imgflow backfill` of `images` objects already in the bucket, at `concurrency`: the first run
 * (a child process) SIGKILLed once half of them ended, run again (it must finish the rest and
 * process nothing the killed run finished), then run again unchanged (it must process 0). Every
 * object must end with one record and one notification.
 */
export async function runBackfillScenario(images: number, concurrency = 3): Promise<BackfillResult> {
  const root = await mkdtemp(join(tmpdir(), 'imgflow-backfill-'));
  const problems: string[] = [];
  try {
    const inputs = join(root, 'existing');
    const { invalid } = await generateBackfillInputs(inputs, images);
    const dataDir = join(root, 'data');
    const total = images;
    const killAt = Math.floor(total / 2);

    const started = performance.now();
    const child = spawn(process.execPath, [cliBin(), 'backfill', inputs, '--data', dataDir, '--concurrency', String(concurrency)], {
      env: { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const finishedByKilledRun = new Set<string>();
    let ended = 0;
    let killed = false;
    let buffered = '';
    child.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const match = /^\[\d+\/\d+\] (SUCCEEDED|REJECTED|FAILED|SKIPPED|INTERRUPTED)\S*(?: \([^)]*\))? (\S+)/.exec(line);
        if (!match) continue;
        ended += 1;
        if (match[1] !== 'SKIPPED' && match[1] !== 'INTERRUPTED') finishedByKilledRun.add(match[2] as string);
      }
      if (!killed && ended >= killAt) {
        killed = true;
        child.kill('SIGKILL');
      }
    });
    child.stderr.resume();
    const [code, signal] = (await once(child, 'exit')) as [number | null, NodeJS.Signals | null];
    const pid = child.pid as number;
    if (signal !== 'SIGKILL') problems.push(`the first run was not killed mid-run (exit ${String(code)}, ${ended} ended)`);
    if (ended >= total) problems.push('the first run ended every item before it was killed');

    const resumed = await backfillObserved(inputs, dataDir, concurrency, root);
    const seconds = (performance.now() - started) / 1000;
    const resumedProcessed = resumed.outcome.results.filter((result) => result.status !== 'SKIPPED');
    const again = resumedProcessed.filter((result) => finishedByKilledRun.has(result.key));
    for (const result of again) problems.push(`${result.key}: finished by the killed run and processed again (${result.status})`);
    const unfinished = resumed.outcome.results.filter((result) => result.status === 'FAILED' || result.status === 'INTERRUPTED');
    for (const result of unfinished) problems.push(`${result.key}: the resumed run ended it ${result.status} ${result.reason?.code ?? ''}`);
    if (resumed.outcome.results.length !== total) problems.push(`the resumed run reported ${resumed.outcome.results.length} of ${total} items`);

    const unchanged = await backfillObserved(inputs, dataDir, concurrency, root);
    const unchangedRerunProcessed = unchanged.outcome.processed + unchanged.notifications.length;
    if (unchanged.outcome.processed > 0) problems.push(`the unchanged re-run processed ${unchanged.outcome.processed} item(s)`);
    if (unchanged.notifications.length > 0) problems.push(`the unchanged re-run sent ${unchanged.notifications.length} notification(s)`);
    if (unchanged.outcome.results.length !== total) problems.push(`the unchanged re-run reported ${unchanged.outcome.results.length} of ${total} items`);

    // The ledger: one terminal, notified record per object, one notification each.
    let duplicated = 0;
    const byStatus: Record<string, number> = {};
    const harness = await Harness.start({ dataDir });
    try {
      const { stack } = harness;
      if (stack.releasedClaims.length > 0) problems.push(`${stack.releasedClaims.length} job(s) still claimed after the runs`);
      if (stack.resentNotifications.length > 0) problems.push(`${stack.resentNotifications.length} finished job(s) had not been notified`);
      const sent = new Map<string, number>();
      for (const message of resumed.notifications) sent.set(message.jobId, (sent.get(message.jobId) ?? 0) + 1);
      for (const file of await expandInputs([inputs], root)) {
        const bytes = await readFile(file.path);
        // The object's job: its bytes (ETag) in its current version (ValidateImage reads the version a listing lacks).
        const etag = createHash('md5').update(bytes).digest('hex');
        const records = await harness.ledger.listBySourceKey(file.key);
        const record = records.find((each) => each.etag === etag);
        const jobId = record?.jobId ?? '';
        if (records.length > 1) {
          duplicated += 1;
          problems.push(`${file.key}: ${records.length} records`);
        }
        if (!record || !TERMINAL_STATUSES.includes(record.status)) {
          problems.push(`${file.key}: ${record ? `left ${record.status} (owner ${record.executionId}, updated ${record.updatedAt}, lease ${record.leaseExpiresAt ?? '-'}, attempts ${record.attempts}; killed run pid ${pid})` : 'no record'}`);
          continue;
        }
        byStatus[record.status] = (byStatus[record.status] ?? 0) + 1;
        const byResumedRun = sent.get(jobId) ?? 0;
        // The killed run's SNS emulator died with it: its notifications are known from the record.
        const byKilledRun = byResumedRun === 0 && record.notified && record.executionId.includes(`-${pid}-`) ? 1 : 0;
        if (!record.notified || byResumedRun + byKilledRun === 0) problems.push(`${file.key}: no notification`);
        if (byResumedRun > 1) {
          duplicated += 1;
          problems.push(`${file.key}: ${byResumedRun} notifications`);
        }
      }
      await stack.drainNotifications();
    } finally {
      await harness.stop();
    }
    if ((byStatus.REJECTED ?? 0) !== invalid || (byStatus.SUCCEEDED ?? 0) !== total - invalid) {
      problems.push(`expected ${total - invalid} SUCCEEDED and ${invalid} REJECTED, got ${JSON.stringify(byStatus)}`);
    }
    const recipeChange = await recipeChangeRun(inputs, dataDir, concurrency, root, problems);
    return {
      images: total,
      invalid,
      concurrency,
      byStatus,
      recipeChange,
      killedAfter: ended,
      resumedProcessed: resumedProcessed.length,
      seconds: Math.round(seconds * 10) / 10,
      imagesPerSecond: Math.round((total / seconds) * 10) / 10,
      processedTwice: again.length + duplicated,
      unchangedRerunProcessed,
      problems,
    };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

interface KeptOutput {
  key: string;
  sha256: string | undefined;
  modified: number | undefined;
}

/** Every SUCCEEDED job's outputs, each with the LastModified of its object. */
async function succeededOutputs(dataDir: string): Promise<Map<string, KeptOutput[]>> {
  const harness = await Harness.start({ dataDir });
  try {
    const outputs = new Map<string, KeptOutput[]>();
    for (const record of await harness.ledger.listByStatus('SUCCEEDED', 5000)) {
      const kept: KeptOutput[] = [];
      for (const output of record.outputs ?? []) {
        const head = await harness.stack.clients.s3.send(new HeadObjectCommand({ Bucket: harness.stack.config.outputBucket, Key: output.key }));
        kept.push({ key: output.key, sha256: output.sha256, modified: head.LastModified?.getTime() });
      }
      outputs.set(record.jobId, kept);
    }
    return outputs;
  } finally {
    await harness.stop();
  }
}

/**
 * The recipe gains one rendition; the backfill runs again. Every SUCCEEDED image must be
 * re-rendered with exactly that rendition's outputs added, and every other output left as it
 * was: the same key, hash and LastModified (a rewrite would show in LastModified, whose
 * resolution is one second: the run waits that long first).
 */
async function recipeChangeRun(inputs: string, dataDir: string, concurrency: number, root: string, problems: string[]): Promise<RecipeChangeResult> {
  const before = await succeededOutputs(dataDir);
  const recipeFile = join(root, 'recipe-plus-one.json');
  await writeFile(recipeFile, JSON.stringify({ ...DEFAULT_RECIPE_INPUT, renditions: [...(DEFAULT_RECIPE_INPUT.renditions ?? []), ADDED_RENDITION] }));
  await new Promise((resolve) => setTimeout(resolve, 1100));
  const started = performance.now();
  const notifications: JobNotification[] = [];
  const outcome = await backfill(
    {
      source: inputs,
      data: dataDir,
      recipe: recipeFile,
      concurrency,
      cwd: root,
      retryPauseMs: 5,
      observe: async (stack) => {
        notifications.push(...(await stack.drainNotifications()));
      },
    },
    quietIo(),
  );
  const seconds = Math.round(((performance.now() - started) / 1000) * 10) / 10;
  const failed = outcome.results.filter((result) => result.status === 'FAILED' || result.status === 'INTERRUPTED');
  for (const result of failed) problems.push(`recipe change: ${result.key} ended ${result.status} ${result.reason?.code ?? ''}`);
  const after = await succeededOutputs(dataDir);
  let newOutputs = 0;
  let keptRewritten = 0;
  let rerendered = 0;
  for (const [jobId, kept] of before) {
    const now = after.get(jobId) ?? [];
    const added = now.filter((output) => output.key.includes(`/${ADDED_RENDITION.name}.`));
    const others = now.filter((output) => !output.key.includes(`/${ADDED_RENDITION.name}.`));
    if (added.length === 0) problems.push(`recipe change: ${jobId} gained no ${ADDED_RENDITION.name} output`);
    else rerendered += 1;
    newOutputs += added.length;
    const unchanged = (output: KeptOutput) => others.some((other) => other.key === output.key && other.sha256 === output.sha256 && other.modified === output.modified);
    const rewritten = kept.filter((output) => !unchanged(output)).length + Math.max(0, others.length - kept.length);
    if (rewritten > 0) problems.push(`recipe change: ${jobId}: ${rewritten} output(s) of unchanged renditions rewritten`);
    keptRewritten += rewritten;
  }
  if (notifications.length !== rerendered) problems.push(`recipe change: ${notifications.length} notification(s) for ${rerendered} re-rendered image(s)`);
  return { added: ADDED_RENDITION.name, rerendered, newOutputs, keptRewritten, seconds };
}
