import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { type InputFile, type Io, type RunOptions, type RunOutcome, expandInputs, runImages } from '@imgflow/cli';
import { LocalStack } from '@imgflow/local-runtime';
import { type JobNotification, TERMINAL_STATUSES, jobIdFor } from '@imgflow/pipeline';
import { photoLike, random } from '@imgflow/samples';
import sharp from 'sharp';
import { noise, pngDeclaring } from './formats.js';
import { Harness } from './harness.js';
import { type IamCheck, iamCheck, sumIamChecks } from './iam.js';

const execFileAsync = promisify(execFile);

/** An Io that keeps what `imgflow run` prints (not a TTY: plain lines). */
export function quietIo(): Io & { text(): string } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  return { stdout: sink, stderr: sink, env: {}, text: () => chunks.join('') };
}

/** Samples the process's resident memory while `run` runs; returns its result and the peak in MB. */
export async function withPeakRss<T>(run: () => Promise<T>): Promise<{ result: T; peakRssMb: number }> {
  let peak = process.memoryUsage().rss;
  const timer = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  try {
    const result = await run();
    peak = Math.max(peak, process.memoryUsage().rss);
    return { result, peakRssMb: Math.round(peak / 1024 / 1024) };
  } finally {
    clearInterval(timer);
  }
}

/**
 * `imgflow run` (runImages), with the notifications its local runtime published: they are read
 * from the runtime's queues just before it stops (fauxqs lives in memory and dies with it).
 */
export async function runImagesObserved(
  options: RunOptions,
): Promise<{ outcome: RunOutcome; notifications: JobNotification[]; output: string; iam: IamCheck; resentAtStart: string[] }> {
  const notifications: JobNotification[] = [];
  const iam: IamCheck[] = [];
  // The jobs a killed run finished but never marked notified, which this run's start-up notified.
  const resentAtStart: string[] = [];
  const prototype = LocalStack.prototype as { stop: () => Promise<void> };
  const stop = prototype.stop;
  prototype.stop = async function (this: LocalStack) {
    notifications.push(...(await this.drainNotifications()));
    iam.push(iamCheck(this.iam));
    resentAtStart.push(...this.resentNotifications);
    return stop.call(this);
  };
  const io = quietIo();
  try {
    const outcome = await runImages({ retryPauseMs: 5, ...options }, io);
    return { outcome, notifications, output: io.text(), iam: sumIamChecks(iam), resentAtStart };
  } finally {
    prototype.stop = stop;
  }
}

export interface DataDirAudit {
  images: number;
  byStatus: Record<string, number>;
  /** Uploads without exactly one terminal record, or never notified. */
  lost: string[];
  /** Extra records, extra notifications, output objects no record owns. */
  duplicates: string[];
  leftoverWork: number;
  outputs: number;
}

/**
 * Reads a data folder after runs: for every input file, exactly one terminal record and exactly
 * one notification (seen in `notifications`, or — for jobs finished by a process that was
 * killed, whose SNS emulator died with it — the record's `notified` flag); outputs exactly those
 * the records list; no work objects.
 */
export async function auditDataDir(
  dataDir: string,
  files: readonly InputFile[],
  notifications: readonly JobNotification[],
  killedPid?: number,
  resentAtStart: readonly string[] = [],
): Promise<DataDirAudit> {
  const harness = await Harness.start({ dataDir });
  try {
    const { stack } = harness;
    const lost: string[] = [];
    const duplicates: string[] = [];
    const byStatus: Record<string, number> = {};
    if (stack.releasedClaims.length > 0) lost.push(`${stack.releasedClaims.length} job(s) still claimed after the run`);
    if (stack.resentNotifications.length > 0) lost.push(`${stack.resentNotifications.length} finished job(s) had not been notified`);
    const seen = new Map<string, number>();
    for (const message of notifications) seen.set(message.jobId, (seen.get(message.jobId) ?? 0) + 1);
    const owned = new Set<string>();
    for (const file of files) {
      const bytes = await readFile(file.path);
      const etag = createHash('md5').update(bytes).digest('hex');
      // The upload bucket is versioned by default: the job id includes the version the run uploaded.
      const head = await harness.observer.s3.send(new HeadObjectCommand({ Bucket: stack.uploadBucket, Key: file.key })).catch(() => undefined);
      const versionId = head?.VersionId;
      const jobId = jobIdFor({ bucket: stack.uploadBucket, key: file.key, ...(versionId ? { versionId } : {}), etag, size: bytes.length });
      const records = await harness.ledger.listBySourceKey(file.key);
      if (records.length > 1) duplicates.push(`${file.key}: ${records.length} records`);
      const record = records.find((each) => each.jobId === jobId);
      if (!record || !TERMINAL_STATUSES.includes(record.status)) {
        lost.push(`${file.key}: ${record ? `left ${record.status}` : 'no record'}`);
        continue;
      }
      byStatus[record.status] = (byStatus[record.status] ?? 0) + 1;
      for (const output of record.outputs ?? []) owned.add(output.key);
      if (record.manifestKey) owned.add(record.manifestKey);
      const killedRun = killedPid !== undefined && record.executionId.includes(`-${killedPid}-`);
      // A killed run's own notification is known from its record (its SNS emulator died with it),
      // unless the record was marked by the re-run's start-up: then the killed run died between
      // claiming the notification and marking it, where it may or may not have published (the
      // documented at-least-once window, docs/architecture.md), and the re-run's one is counted.
      const killedRunNotified = killedRun && record.notified && !resentAtStart.includes(jobId);
      const count = (seen.get(jobId) ?? 0) + (killedRunNotified ? 1 : 0);
      if (count === 0 || !record.notified) lost.push(`${file.key}: no notification`);
      if (count > 1) duplicates.push(`${file.key}: ${count} notifications`);
    }
    const stored = await harness.listKeys(stack.config.outputBucket, stack.config.outputPrefix);
    for (const key of stored) if (!owned.has(key)) duplicates.push(`output ${key} belongs to no record`);
    for (const key of owned) if (!stored.includes(key)) lost.push(`output ${key} is recorded but missing`);
    const leftoverWork = (await harness.listKeys(stack.config.outputBucket, stack.config.workPrefix)).length;
    await stack.drainNotifications();
    // Outputs, not the manifests beside them (one per SUCCEEDED image).
    const outputs = stored.filter((key) => !key.endsWith('/manifest.json')).length;
    return { images: files.length, byStatus, lost, duplicates, leftoverWork, outputs };
  } finally {
    await harness.stop();
  }
}

export interface LoadOptions {
  images: number;
  concurrency: number;
  seed?: number;
  /** Largest image in megapixels (default 12). */
  maxMegapixels?: number;
}

export interface LoadResult extends DataDirAudit {
  concurrency: number;
  peakInFlight: number;
  invalid: number;
  peakRssMb: number;
  /** The process's lifetime high-water mark (getrusage), which includes image generation. */
  maxRssMb: number;
  seconds: number;
  /** IAM as enforced during the run. */
  iam: IamCheck;
}

/**
 * Writes `count` generated inputs to `dir`: photo-like JPEG/PNG/WebP of 0.3–`maxMegapixels` MP
 * (most small, some large, as uploads are), and about 10% invalid or hostile files.
 */
export async function generateInputs(dir: string, count: number, seed = 1, maxMegapixels = 12): Promise<{ invalid: number }> {
  await mkdir(dir, { recursive: true });
  const next = random(seed);
  const formats = ['jpeg', 'png', 'webp'] as const;
  let invalid = 0;
  const base = await photoLike({ width: 640, height: 480, seed, format: 'jpeg' });
  for (let index = 0; index < count; index += 1) {
    const name = `img-${String(index).padStart(4, '0')}`;
    if (index % 10 === 7) {
      invalid += 1;
      const kind = Math.floor(index / 10) % 5;
      const hostile: Array<[string, Buffer]> = [
        ['jpg', noise(2048 + index, index + 1)],
        ['jpg', base.subarray(0, Math.floor(base.length / 2))],
        ['png', Buffer.from(`<html><body>${index}</body></html>`)],
        ['webp', Buffer.alloc(0)],
        ['png', pngDeclaring(await photoLike({ width: 16, height: 16, seed: index, format: 'png' }), 60_000, 60_000 + index)],
      ];
      const [extension, body] = hostile[kind] as [string, Buffer];
      await writeFile(join(dir, `${name}.${extension}`), body);
      continue;
    }
    const roll = next();
    const megapixels = roll < 0.7 ? 0.3 + next() * 1.7 : roll < 0.9 ? 2 + next() * 4 : 6 + next() * (maxMegapixels - 6);
    const aspect = 1.2 + next() * 0.4;
    const width = Math.round(Math.sqrt(megapixels * 1_000_000 * aspect));
    const height = Math.round((megapixels * 1_000_000) / width);
    const format = formats[index % formats.length] as (typeof formats)[number];
    await writeFile(join(dir, `${name}.${format === 'jpeg' ? 'jpg' : format}`), await photoLike({ width, height, seed: seed * 10_000 + index, format }));
  }
  return { invalid };
}

/** Several hundred (or, for CI, a few dozen) generated images through `imgflow run` with concurrency. */
export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const root = await mkdtemp(join(tmpdir(), 'imgflow-load-'));
  try {
    const inputs = join(root, 'inputs');
    const { invalid } = await generateInputs(inputs, options.images, options.seed ?? 1, options.maxMegapixels ?? 12);
    const started = Date.now();
    const dataDir = join(root, 'data');
    const { result, peakRssMb } = await withPeakRss(() =>
      runImagesObserved({ inputs: [inputs], data: dataDir, out: join(root, 'out'), concurrency: options.concurrency, cwd: root }),
    );
    const seconds = (Date.now() - started) / 1000;
    const files = await expandInputs([inputs], root);
    const audit = await auditDataDir(dataDir, files, result.notifications);
    if (result.outcome.results.length !== files.length) audit.lost.push(`imgflow run reported ${result.outcome.results.length} of ${files.length} files`);
    return {
      ...audit,
      concurrency: options.concurrency,
      peakInFlight: result.outcome.peakInFlight,
      invalid,
      peakRssMb,
      maxRssMb: Math.round(process.resourceUsage().maxRSS / 1024),
      seconds: Math.round(seconds),
      iam: result.iam,
    };
  } finally {
    await rm(root, { recursive: true, force: true });
  }
}

export interface LargeImageResult {
  name: string;
  case: LargeImageCase;
  megapixels: number;
  bytes: number;
  status: string;
  code?: string;
  outputs: number;
  /** Peak resident memory of the child process that ran the whole workflow for this one image. */
  maxRssMb: number;
}

/** The compiled child entry (apps/reliability/dist/child.js): build the package first (`npx tsup`). */
export function childScript(): string {
  return fileURLToPath(new URL(import.meta.url.endsWith('.ts') ? '../dist/child.js' : './child.js', import.meta.url));
}

/** Runs one file's image work in a child process; its peak RSS is the image's cost. */
export async function runInChild(file: string): Promise<Omit<LargeImageResult, 'name' | 'case' | 'megapixels' | 'bytes'>> {
  const script = childScript();
  if (!existsSync(script)) throw new Error(`${script} is missing: build apps/reliability first (npx tsup)`);
  const { stdout } = await execFileAsync(process.execPath, [script, file], { maxBuffer: 1024 * 1024 });
  const line = stdout.trim().split('\n').pop() ?? '{}';
  return JSON.parse(line) as Omit<LargeImageResult, 'name' | 'case' | 'megapixels' | 'bytes'>;
}

/** A 1024 MB Lambda: the budget one image's whole workflow must fit in. */
export const LAMBDA_MEMORY_MB = 1024;

export type LargeImageCase = 'jpeg' | 'png' | 'photo-png' | 'over-limit';

/** Expected ends of the large-image cases: processed, or refused by a limit with its reason. */
export const LARGE_IMAGE_EXPECTED: Record<LargeImageCase, { status: string; code?: string }> = {
  jpeg: { status: 'SUCCEEDED' },
  png: { status: 'SUCCEEDED' },
  'photo-png': { status: 'REJECTED', code: 'TOO_MANY_BYTES' },
  'over-limit': { status: 'REJECTED', code: 'TOO_MANY_PIXELS' },
};

const LARGE_NAMES: Record<LargeImageCase, string> = {
  jpeg: '50 MP JPEG',
  png: '50 MP PNG',
  'photo-png': '50 MP grainy PNG (over 50 MiB)',
  'over-limit': '60 MP JPEG (over 50 MP)',
};

async function largeImage(which: LargeImageCase): Promise<{ bytes: Buffer; width: number; height: number }> {
  const [width, height] = which === 'over-limit' ? [9487, 6325] : [8660, 5773];
  if (which === 'png') {
    // A 50 MP PNG under the 50 MiB limit (a flat one: decoding costs the same for any content;
    // photographic 50 MP PNGs are over 50 MiB and are the 'photo-png' case).
    const bytes = await sharp({ create: { width, height, channels: 3, background: { r: 90, g: 140, b: 200 } } }).png().toBuffer();
    return { bytes, width, height };
  }
  return { bytes: await photoLike({ width, height, seed: 50, format: which === 'photo-png' ? 'png' : 'jpeg' }), width, height };
}

/**
 * The largest images the default limits accept (50 MP JPEG and PNG), each processed in a child
 * process whose peak RSS is measured; a 50 MP photographic PNG (over 50 MiB) and a 60 MP JPEG
 * that the limits must refuse, naming the limit.
 */
export async function largeImageChecks(which: LargeImageCase[] = ['jpeg', 'png', 'photo-png', 'over-limit']): Promise<LargeImageResult[]> {
  const root = await mkdtemp(join(tmpdir(), 'imgflow-large-'));
  const results: LargeImageResult[] = [];
  try {
    for (const each of which) {
      const { bytes, width, height } = await largeImage(each);
      const file = join(root, `${each}.img`);
      await writeFile(file, bytes);
      const outcome = await runInChild(file);
      results.push({ name: LARGE_NAMES[each], case: each, megapixels: Math.round((width * height) / 100_000) / 10, bytes: bytes.length, ...outcome });
      await rm(file, { force: true });
    }
  } finally {
    await rm(root, { recursive: true, force: true });
  }
  return results;
}
