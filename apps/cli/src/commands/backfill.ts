import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve } from 'node:path';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { S3Client, paginateListObjectsV2 } from '@aws-sdk/client-s3';
import {
  DescribeExecutionCommand,
  DescribeMapRunCommand,
  type DescribeMapRunCommandOutput,
  ListMapRunsCommand,
  SFNClient,
  StartExecutionCommand,
} from '@aws-sdk/client-sfn';
import {
  EMULATOR_BUCKETS,
  type ExecutionReport,
  LOCAL_CREDENTIALS,
  LOCAL_REGION,
  type ListedObject,
  type LocalStack,
  UPLOAD_BUCKET,
  selectBackfillItems,
  startEmulators,
} from '@imgflow/local-runtime';
import { DEFAULT_RECIPE, parseRecipe, recipeFingerprint } from '@imgflow/image-core';
import { type JobLedger, type JobRecord, type ObjectCreatedEvent, Storage, TERMINAL_STATUSES, jobIdFor, objectFromEvent, withListedVersion } from '@imgflow/pipeline';
import { awsCall, parseStateMachineArn } from '../aws.js';
import { EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, UsageError } from '../errors.js';
import { executionTimeoutMs, md5Hex } from '../executions.js';
import { faultsFromEnv, planFaults } from '../faults.js';
import { startLocalRuntime } from '../runtime.js';
import { expandInputs } from '../files.js';
import { type Io, integerOption, println, withExitCode } from '../io.js';
import { openLocalLedger } from '../ledger.js';
import { formatBytes, formatDuration, plural, truncate } from '../ui/format.js';
import { BackfillProgress, type BackfillTallyKey } from '../ui/progress.js';
import { renderTable } from '../ui/table.js';
import { jobIdOfReport } from '../executions.js';
import { DEFAULT_CONCURRENCY, DEFAULT_GRACE_MS, MAX_CONCURRENCY, STOP_TIMEOUT_MS, loadLimits, loadRecipe, within } from './run.js';

export interface BackfillOptions {
  /** A local folder, or `s3://bucket/prefix`: the local upload bucket (under `data`), or with `remote` the deployment's. */
  source?: string;
  /** Executions in flight at once, 1 to 64 (default 2, as `imgflow run`). */
  concurrency?: string | number;
  /** Local state: S3 objects and the ledger (default ./.imgflow). */
  data?: string;
  recipe?: string;
  limits?: string;
  /** List what would run, the count and the modeled AWS cost; start nothing. */
  dryRun?: boolean;
  /**
   * Start only the objects whose latest job SUCCEEDED under another recipe. Without it every
   * listed object is started, and ValidateImage decides: it re-renders those (claiming the
   * SUCCEEDED job again under the new recipe) and skips the unchanged ones (AlreadyHandled).
   * On AWS the Distributed Map starts every object and ValidateImage decides the same way.
   */
  changedRecipe?: boolean;
  /** Start the deployed backfill state machine (a Distributed Map) instead, and follow its Map Run. */
  remote?: boolean;
  stateMachineArn?: string;
  /** With `remote`: the key prefix the backfill lists (default: the prefix of an s3:// source, else everything). */
  prefix?: string;
  /** With `remote`: the execution's name (default: Step Functions picks one). */
  name?: string;
  /** With `remote`: milliseconds between polls of the Map Run (default 2000). */
  interval?: string | number;
  /** A bench result (bench/results/latest.json) to price the dry run with; searched upward from `cwd` otherwise. */
  benchResults?: string;
  cwd?: string;
  retryPauseMs?: number;
  /** After the first SIGINT/SIGTERM, how long executions in flight may still finish (default 5 s). */
  graceMs?: number;
  /** Called with the local runtime once it runs, before any execution (tests: faults). */
  prepare?: (stack: LocalStack) => void | Promise<void>;
  /** Called with the local runtime after the last execution, before it stops (tests: read the notifications, which die with it). */
  observe?: (stack: LocalStack) => void | Promise<void>;
}

/** An item's end: SKIPPED when its ValidateImage found the job already handled (outcome 'duplicate'). */
export type BackfillStatus = 'SUCCEEDED' | 'REJECTED' | 'FAILED' | 'SKIPPED' | 'INTERRUPTED';

export interface BackfillItemResult {
  key: string;
  jobId?: string;
  status: BackfillStatus;
  /**
   * cached: the content cache served it; re-rendered: it had ended before and was processed
   * again (a changed recipe); retried: it had FAILED before; resumed: an interrupted run held it;
   * with SKIPPED, the job's recorded status.
   */
  note?: string;
  reason?: { code: string; message: string };
  durationMs: number;
}

export interface BackfillOutcome {
  exitCode: number;
  results: BackfillItemResult[];
  /** Items listed (what a Map Run would have as items). */
  items: number;
  /** Items this run processed: every ended item but the skipped ones. */
  processed: number;
  interrupted: boolean;
  peakInFlight: number;
  seconds: number;
  /** Jobs of an interrupted run released at start-up, and finished jobs it never notified, notified now. */
  takenOver: { released: number; notified: number };
  dryRun?: DryRunPlan;
}

/** What `imgflow backfill` was asked to go through. */
export type BackfillSource = { kind: 'folder'; path: string; label: string } | { kind: 's3'; bucket: string; prefix: string; label: string };

export function parseSource(source: string, cwd: string): BackfillSource {
  if (source.startsWith('s3://')) {
    const rest = source.slice('s3://'.length);
    const slash = rest.indexOf('/');
    const bucket = slash < 0 ? rest : rest.slice(0, slash);
    const prefix = slash < 0 ? '' : rest.slice(slash + 1);
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new UsageError(`${JSON.stringify(source)} names no valid bucket: give s3://<bucket>/<prefix>`);
    return { kind: 's3', bucket, prefix, label: source };
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(source)) throw new UsageError(`give a folder or s3://bucket/prefix, got ${JSON.stringify(source)}`);
  return { kind: 'folder', path: resolve(cwd, source), label: source };
}

/** Problem rows the final table shows; the rest are counted (`imgflow status --status …` lists them). */
export const PROBLEM_ROWS = 20;
/** Objects a dry run lists by name. */
export const DRY_RUN_ROWS = 20;
export const DEFAULT_INTERVAL_MS = 2_000;

function displayPath(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

/**
 * The listed objects whose latest job (by key and ETag) SUCCEEDED under a recipe other than
 * `recipe`: what `--changed-recipe` runs. The others are not started at all (the workflow would
 * skip them too, one execution each).
 */
async function madeWithAnotherRecipe(ledger: JobLedger, items: readonly ListedObject[], recipe: string): Promise<ListedObject[]> {
  const changed: ListedObject[] = [];
  for (const item of items) {
    const latest = await latestJobOf(ledger, item);
    if (latest?.status === 'SUCCEEDED' && latest.recipe !== recipe) changed.push(item);
  }
  return changed;
}

/**
 * A listed object's latest job, by key and ETag: in a versioned bucket the job id also holds the
 * version, which a listing does not give.
 */
async function latestJobOf(ledger: JobLedger, item: ListedObject): Promise<JobRecord | undefined> {
  const records = (await ledger.listBySourceKey(item.Key)).filter((record) => record.etag === plainEtag(item.Etag));
  return records.sort((a, b) => b.updatedAt.localeCompare(a.updatedAt))[0];
}

function plainEtag(etag: string): string {
  return etag.replace(/"/g, '');
}

const TALLY_OF: Record<BackfillStatus, BackfillTallyKey | undefined> = {
  SUCCEEDED: 'succeeded',
  REJECTED: 'rejected',
  FAILED: 'failed',
  SKIPPED: 'skipped',
  INTERRUPTED: undefined,
};

function statusLabel(result: BackfillItemResult): string {
  return result.note ? `${result.status} (${result.note})` : result.status;
}

function progressLine(result: BackfillItemResult): string {
  const reason = result.reason ? `: ${truncate(`${result.reason.code}: ${result.reason.message}`, 160)}` : '';
  return `${statusLabel(result)} ${result.key}${reason} in ${formatDuration(result.durationMs)}`;
}

// ---------------------------------------------------------------------------------------------
// The items: a folder put into the upload bucket, or a prefix of it listed.

/** Every object under `prefix`, as ListObjectsV2 lists them (the Distributed Map's ItemReader). */
export async function listObjects(s3: S3Client, bucket: string, prefix: string): Promise<ListedObject[]> {
  const items: ListedObject[] = [];
  for await (const page of paginateListObjectsV2({ client: s3 }, { Bucket: bucket, ...(prefix ? { Prefix: prefix } : {}) })) {
    for (const object of page.Contents ?? []) {
      if (object.Key === undefined) continue;
      items.push({ Key: object.Key, Etag: object.ETag ?? '', Size: object.Size ?? 0 });
    }
  }
  return items;
}

/**
 * Puts a folder's files into the upload bucket with the trigger off: they are "already there",
 * as objects a backfill finds. A file whose bytes the bucket already holds under its key (a
 * re-run) is not put again: in the versioned bucket that would be a new version.
 */
async function stageFolder(stack: LocalStack, path: string, cwd: string, stopped: () => boolean): Promise<ListedObject[]> {
  const files = await expandInputs([path], cwd);
  const items: ListedObject[] = [];
  for (const file of files) {
    if (stopped()) break;
    // submit(): a HEAD, and a PUT only when the bytes differ; with the trigger off it starts nothing.
    const ref = await stack.submit(file.key, await readFile(file.path));
    items.push({ Key: ref.key, Etag: `"${ref.etag}"`, Size: ref.size });
  }
  return items;
}

// ---------------------------------------------------------------------------------------------
// One item through the workflow on the local runtime.

function isDuplicate(output: unknown): output is { outcome: 'duplicate'; jobId?: string; existingStatus?: string } {
  return typeof output === 'object' && output !== null && (output as { outcome?: unknown }).outcome === 'duplicate';
}

function isTerminal(record: JobRecord | undefined): boolean {
  return record !== undefined && TERMINAL_STATUSES.includes(record.status);
}

/** What the item's record says happened, given what it held before this run. */
function noteFor(record: JobRecord, before: JobRecord | undefined): string | undefined {
  if (before?.status === 'FAILED') return 'retried';
  if (isTerminal(before)) return 're-rendered';
  if (before?.status === 'PENDING' || before?.status === 'PROCESSING') return 'resumed';
  return record.cacheHit ? 'cached' : undefined;
}

async function resultOf(report: ExecutionReport, expectedJobId: string, before: JobRecord | undefined, ledger: JobLedger, key: string): Promise<BackfillItemResult> {
  const base = { key, durationMs: report.durationMs };
  if (report.status === 'ABORTED') {
    return { ...base, jobId: expectedJobId, status: 'INTERRUPTED', reason: { code: 'INTERRUPTED', message: `${report.error?.cause ?? 'stopped'}; a later backfill on the same --data takes the job over` } };
  }
  const jobId = jobIdOfReport(report) ?? expectedJobId;
  if (isDuplicate(report.output)) {
    const existing = report.output.existingStatus ?? 'unknown';
    if (TERMINAL_STATUSES.includes(existing as JobRecord['status'])) return { ...base, jobId, status: 'SKIPPED', note: `earlier: ${existing}` };
    return { ...base, jobId, status: 'FAILED', reason: { code: 'IN_PROGRESS', message: `another run holds this job (status ${existing})` } };
  }
  const record = await ledger.get(jobId);
  if (record && isTerminal(record)) {
    const note = noteFor(record, before);
    const reason = record.status === 'SUCCEEDED' ? undefined : { code: record.reasonCode ?? 'UNKNOWN', message: record.reasonMessage ?? record.reasonError ?? '' };
    return { ...base, jobId, status: record.status as BackfillStatus, ...(note ? { note } : {}), ...(reason ? { reason } : {}) };
  }
  const reason =
    report.status === 'FAILED' || report.status === 'TIMED_OUT'
      ? { code: report.error?.name ?? 'EXECUTION_FAILED', message: report.error?.cause ?? `the execution ended ${report.status}` }
      : { code: 'NO_RECORD', message: `execution ${report.name} ended ${report.status} without a finished ledger record (${record?.status ?? 'none'})` };
  return { ...base, jobId, status: 'FAILED', reason };
}

// ---------------------------------------------------------------------------------------------
// The final report.

function countBy(results: readonly BackfillItemResult[]): Record<BackfillStatus, number> {
  const counts: Record<BackfillStatus, number> = { SUCCEEDED: 0, REJECTED: 0, FAILED: 0, SKIPPED: 0, INTERRUPTED: 0 };
  for (const result of results) counts[result.status] += 1;
  return counts;
}

/** One row per status and reason (or note): thousands of images make a table of a few lines. */
export function totalsTable(io: Io, results: readonly BackfillItemResult[]): string {
  const groups = new Map<string, { status: BackfillStatus; detail: string; count: number }>();
  for (const result of results) {
    const detail = result.reason?.code ?? (result.status === 'SKIPPED' ? `already handled (${result.note?.replace('earlier: ', '') ?? '?'})` : (result.note ?? ''));
    const id = `${result.status}\n${detail}`;
    const group = groups.get(id) ?? { status: result.status, detail, count: 0 };
    group.count += 1;
    groups.set(id, group);
  }
  const order: BackfillStatus[] = ['SUCCEEDED', 'SKIPPED', 'REJECTED', 'FAILED', 'INTERRUPTED'];
  const rows = [...groups.values()]
    .sort((a, b) => order.indexOf(a.status) - order.indexOf(b.status) || b.count - a.count || a.detail.localeCompare(b.detail))
    .map((group) => [group.status, group.detail, String(group.count)]);
  return renderTable(io, { head: ['Status', 'Reason / note', 'Images'] }, rows);
}

/** The first problem items (rejected, failed, interrupted), one row each. */
export function problemsTable(io: Io, results: readonly BackfillItemResult[], max = PROBLEM_ROWS): string | undefined {
  const problems = results.filter((result) => result.status === 'REJECTED' || result.status === 'FAILED' || result.status === 'INTERRUPTED');
  if (problems.length === 0) return undefined;
  const rows = problems.slice(0, max).map((result) => [result.key, result.status, result.reason ? `${result.reason.code}: ${result.reason.message}` : '']);
  const table = renderTable(io, { head: ['Key', 'Status', 'Reason'], maxWidths: [42], wrapLast: 30 }, rows);
  return problems.length > max ? `${table}\n… and ${problems.length - max} more (imgflow status --status REJECTED / FAILED lists them)` : table;
}

function totalsLine(results: readonly BackfillItemResult[], items: number, seconds: number): string {
  const counts = countBy(results);
  const processed = results.length - counts.SKIPPED - counts.INTERRUPTED;
  const rate = seconds > 0 ? results.length / seconds : 0;
  const interrupted = counts.INTERRUPTED ? `, ${counts.INTERRUPTED} interrupted` : '';
  return `${plural(items, 'image')}: ${processed} processed (${counts.SUCCEEDED} succeeded, ${counts.REJECTED} rejected, ${counts.FAILED} failed), ${counts.SKIPPED} skipped (already handled)${interrupted} in ${seconds.toFixed(1)}s, ${rate.toFixed(1)} images/s`;
}

// ---------------------------------------------------------------------------------------------
// The dry run and its cost.

export interface ModeledCost {
  /** USD per image: the bench's modeled cost of imgflow on the Express workflow, arm64. */
  perImage: number;
  /** Where the figure comes from. */
  source: string;
  region: string;
}

export interface DryRunPlan {
  items: number;
  /** Items the local ledger already holds finished (a run would skip them); undefined when unknown. */
  alreadyHandled?: number;
  cost?: ModeledCost & { total: number; toProcess: number };
}

interface BenchResultFile {
  schema?: unknown;
  finishedAt?: unknown;
  mode?: unknown;
  cost?: { prices?: { region?: unknown }; perMillion?: { imgflow?: { express?: { arm64?: { total?: unknown } } } } };
}

/**
 * In `cwd` or the nearest folder above it that has one: bench/results/latest.json (this machine's
 * last `make bench`), else bench/reference.json (the last full run, committed).
 */
function findBenchResult(cwd: string): string | undefined {
  for (let folder = resolve(cwd); ; folder = dirname(folder)) {
    for (const candidate of [resolve(folder, 'bench', 'results', 'latest.json'), resolve(folder, 'bench', 'reference.json')]) {
      if (existsSync(candidate)) return candidate;
    }
    if (dirname(folder) === folder) return undefined;
  }
}

/**
 * The modeled AWS cost of one image from a bench result (`make bench`: apps/bench's cost model,
 * costPerImage averaged over its corpus): imgflow on the Express workflow (the default type),
 * arm64. Undefined when there is no bench result; a file that is not one is a usage error.
 */
export async function modeledCost(file: string | undefined, cwd: string): Promise<ModeledCost | undefined> {
  const path = file ? resolve(cwd, file) : findBenchResult(cwd);
  if (!path) return undefined;
  let parsed: BenchResultFile;
  try {
    parsed = JSON.parse(await readFile(path, 'utf8')) as BenchResultFile;
  } catch (error) {
    throw new UsageError(`cannot read the bench result ${displayPath(path, cwd)}: ${(error as Error).message}`);
  }
  const perMillion = parsed.cost?.perMillion?.imgflow?.express?.arm64?.total;
  if (parsed.schema !== 'imgflow.bench/1' || typeof perMillion !== 'number' || !Number.isFinite(perMillion)) {
    throw new UsageError(`${displayPath(path, cwd)} is no bench result with imgflow's Express arm64 cost (schema imgflow.bench/1, cost.perMillion.imgflow.express.arm64.total)`);
  }
  const when = typeof parsed.finishedAt === 'string' ? ` of ${parsed.finishedAt.slice(0, 10)}` : '';
  const mode = parsed.mode === 'quick' ? ', a --quick run' : '';
  return {
    perImage: perMillion / 1_000_000,
    source: `${displayPath(path, cwd)}${when}${mode}`,
    region: typeof parsed.cost?.prices?.region === 'string' ? parsed.cost.prices.region : 'us-east-1',
  };
}

function usd(amount: number): string {
  if (amount === 0) return '$0';
  if (amount >= 100) return `$${amount.toFixed(0)}`;
  if (amount >= 0.01) return `$${amount.toFixed(2)}`;
  return `$${amount.toPrecision(2)}`;
}

function costLines(cost: ModeledCost | undefined, total: number, toProcess: number): string[] {
  if (!cost) {
    return ['modeled AWS cost: no bench result found (`make bench` writes bench/results/latest.json, a full run also bench/reference.json; or give --bench-results <file>)'];
  }
  const lines = [
    `modeled AWS cost: ${plural(toProcess, 'image')} × ${usd(cost.perImage)} = ${usd(cost.perImage * toProcess)} (Express workflow, arm64, ${cost.region} on-demand; ${usd(cost.perImage * 1_000_000)} per million images, from ${cost.source})`,
  ];
  if (toProcess !== total) lines.push(`  all ${plural(total, 'image')} (e.g. with --changed-recipe after a recipe change): ${usd(cost.perImage * total)}`);
  return lines;
}

/**
 * Lists without starting anything. The local state is only read: a folder's job ids are known
 * from its bytes (key and ETag, as the backfill's events carry no version), so the ledger tells
 * which a run would skip; an s3:// source is listed from the emulated bucket.
 */
async function dryRunLocal(source: BackfillSource, dataDir: string, options: BackfillOptions, io: Io, cwd: string): Promise<BackfillOutcome> {
  const started = performance.now();
  let items: ListedObject[];
  const hasData = existsSync(resolve(dataDir, 's3')) && existsSync(resolve(dataDir, 'dynamodb'));
  if (source.kind === 'folder') {
    const files = await expandInputs([source.path], cwd);
    items = [];
    for (const file of files) {
      const body = await readFile(file.path);
      items.push({ Key: file.key, Etag: `"${md5Hex(body)}"`, Size: body.length });
    }
  } else {
    if (source.bucket !== UPLOAD_BUCKET) throw localBucketError(source.bucket);
    if (!hasData) throw new UsageError(`no local state in ${displayPath(dataDir, cwd)}: nothing to list (give --data, or a folder)`);
    const emulators = await startEmulators({ dataDir, buckets: EMULATOR_BUCKETS });
    const s3 = new S3Client({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, endpoint: emulators.endpoints.s3, forcePathStyle: true });
    try {
      items = await listObjects(s3, source.bucket, source.prefix);
    } finally {
      s3.destroy();
      await emulators.stop();
    }
  }
  let recorded: Map<string, JobRecord> | undefined;
  if (hasData) {
    const handle = await openLocalLedger(dataDir);
    if (handle) {
      recorded = new Map();
      try {
        for (const item of items) {
          const record = await latestJobOf(handle.ledger, item);
          if (record) recorded.set(item.Key, record);
        }
      } finally {
        await handle.close();
      }
    }
  }
  // ValidateImage claims a SUCCEEDED job again when its recorded recipe differs: a re-render.
  const recipeInput = await loadRecipe(options.recipe, cwd);
  const fingerprint = recipeFingerprint(recipeInput ? parseRecipe(recipeInput) : DEFAULT_RECIPE);
  const wouldDo = (item: ListedObject): string => {
    const record = recorded?.get(item.Key);
    if (record?.status === 'SUCCEEDED' && record.recipe !== undefined && record.recipe !== fingerprint) return 're-render (recipe changed)';
    if (record && isTerminal(record)) return record.status === 'FAILED' ? 'retry (FAILED before)' : `skip (${record.status} before)`;
    if (record) return `take over (${record.status}, interrupted run)`;
    return 'process';
  };
  const alreadyHandled = recorded === undefined ? undefined : items.filter((item) => wouldDo(item).startsWith('skip')).length;
  const toProcess = items.length - (alreadyHandled ?? 0);
  const concurrency = integerOption('--concurrency', options.concurrency, DEFAULT_CONCURRENCY, 1, MAX_CONCURRENCY);
  println(io.stdout, `imgflow backfill --dry-run: ${plural(items.length, 'object')} in ${source.label}${source.kind === 'folder' ? ' (would be put into the local upload bucket without triggering, then backfilled)' : ''}`);
  if (items.length > 0) {
    const rows = items.slice(0, DRY_RUN_ROWS).map((item) => [item.Key, formatBytes(item.Size), wouldDo(item)]);
    println(io.stdout, renderTable(io, { head: ['Key', 'Size', 'Would'], maxWidths: [60] }, rows));
    if (items.length > DRY_RUN_ROWS) println(io.stdout, `… and ${items.length - DRY_RUN_ROWS} more`);
  }
  const skipText = alreadyHandled === undefined ? 'no local ledger yet' : `${alreadyHandled} already handled: skipped`;
  println(io.stdout, `would process ${plural(toProcess, 'image')} (${skipText}), ${concurrency} at a time, on the local runtime in ${displayPath(dataDir, cwd)}`);
  const cost = await modeledCost(options.benchResults, cwd);
  for (const line of costLines(cost, items.length, toProcess)) println(io.stdout, line);
  println(io.stdout, 'dry run: nothing was started');
  return dryRunOutcome(items.length, toProcess, cost, started, alreadyHandled);
}

/** What a dry run returns: nothing started, what it found and what it would cost. */
function dryRunOutcome(items: number, toProcess: number, cost: ModeledCost | undefined, started: number, alreadyHandled?: number): BackfillOutcome {
  return {
    exitCode: EXIT_OK,
    results: [],
    items,
    processed: 0,
    interrupted: false,
    peakInFlight: 0,
    seconds: (performance.now() - started) / 1000,
    takenOver: { released: 0, notified: 0 },
    dryRun: {
      items,
      ...(alreadyHandled !== undefined ? { alreadyHandled } : {}),
      ...(cost ? { cost: { ...cost, total: cost.perImage * toProcess, toProcess } } : {}),
    },
  };
}

function localBucketError(bucket: string): UsageError {
  return new UsageError(`the local runtime's upload bucket is ${UPLOAD_BUCKET}, not ${bucket}: give s3://${UPLOAD_BUCKET}/<prefix> (or --remote for a deployment)`);
}

// ---------------------------------------------------------------------------------------------
// The local backfill.

async function backfillLocal(source: BackfillSource, options: BackfillOptions, io: Io, cwd: string): Promise<BackfillOutcome> {
  const concurrency = integerOption('--concurrency', options.concurrency, DEFAULT_CONCURRENCY, 1, MAX_CONCURRENCY);
  const recipe = await loadRecipe(options.recipe, cwd);
  const limits = await loadLimits(options.limits, cwd);
  const dataDir = resolve(cwd, options.data ?? '.imgflow');
  if (source.kind === 's3' && source.bucket !== UPLOAD_BUCKET) throw localBucketError(source.bucket);
  if (source.kind === 'folder') await expandInputs([source.path], cwd);
  if (options.dryRun) return dryRunLocal(source, dataDir, options, io, cwd);
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  const faults = faultsFromEnv(io.env);

  const started = performance.now();
  const stack = await startLocalRuntime(dataDir, displayPath(dataDir, cwd), {
    recipe,
    limits,
    ...(options.retryPauseMs !== undefined ? { retryPauseMs: options.retryPauseMs } : {}),
  });
  const takenOver = { released: stack.releasedClaims.length, notified: stack.resentNotifications.length };
  const results: Array<BackfillItemResult | undefined> = [];
  let items: ListedObject[] = [];
  let interrupted = false;
  let progress: BackfillProgress | undefined;
  let running = 0;
  let peakInFlight = 0;
  let stopWaiting: () => void = () => undefined;
  const stopped = new Promise<void>((resolveStop) => {
    stopWaiting = resolveStop;
  });
  const say = (line: string) => (progress ? progress.note(line) : println(io.stdout, line));
  const onAbort = () => {
    if (interrupted) return;
    interrupted = true;
    say(
      running > 0
        ? `imgflow backfill: stopping: no new executions; ${plural(running, 'image')} in flight get ${Math.round(graceMs / 1000)}s to finish (Ctrl-C again to quit at once)`
        : 'imgflow backfill: stopping: no new executions',
    );
    void sleep(graceMs, undefined, { ref: false }).then(() => {
      stack.runner.abortAll('imgflow backfill was interrupted');
      stopWaiting();
    });
  };
  if (io.signal?.aborted) onAbort();
  else io.signal?.addEventListener('abort', onAbort, { once: true });
  try {
    planFaults(stack, faults);
    await options.prepare?.(stack);
    if (takenOver.released + takenOver.notified > 0) {
      const parts = [
        ...(takenOver.released > 0 ? [`${plural(takenOver.released, 'job')} it held ${takenOver.released === 1 ? 'is' : 'are'} taken over`] : []),
        ...(takenOver.notified > 0 ? [`${plural(takenOver.notified, 'finished job')} it never notified ${takenOver.notified === 1 ? 'was' : 'were'} notified now`] : []),
      ];
      say(`imgflow backfill: an earlier run on ${displayPath(dataDir, cwd)} was interrupted: ${parts.join('; ')}`);
    }
    if (source.kind === 'folder') {
      items = await stageFolder(stack, source.path, cwd, () => interrupted);
      say(`imgflow backfill: ${plural(items.length, 'file')} of ${source.label} in the upload bucket (put without triggering; bytes already there are not put again)`);
    } else {
      items = await listObjects(stack.clients.s3, source.bucket, source.prefix);
    }
    if (options.changedRecipe) {
      const listed = items.length;
      items = await madeWithAnotherRecipe(stack.ledger, items, recipeFingerprint(stack.config.recipe));
      say(`imgflow backfill --changed-recipe: ${items.length} of ${plural(listed, 'object')} were made with another recipe; only those run`);
    }
    // Each object's execution input, from the backfill definition's own ItemSelector (as the Distributed Map builds it on AWS).
    const events = await selectBackfillItems(items, `${Date.now().toString(36)}-${process.pid}`);
    const storage = new Storage(stack.clients.s3);
    if (!interrupted) say(`imgflow backfill: ${plural(items.length, 'image')}, ${concurrency} at a time; local runtime in ${displayPath(dataDir, cwd)}`);
    progress = new BackfillProgress(io, items.length);
    const timeoutMs = executionTimeoutMs();
    const processItem = async (index: number): Promise<BackfillItemResult> => {
      const item = items[index] as ListedObject;
      const itemStarted = performance.now();
      const event = events[index] as ObjectCreatedEvent;
      // The job ValidateImage will claim: in a versioned bucket, the listed object's current version (withListedVersion).
      const expectedJobId = jobIdFor(await withListedVersion(objectFromEvent(event), event, (location) => storage.head(location)));
      const failed = (code: string, message: string): BackfillItemResult => ({ key: item.Key, jobId: expectedJobId, status: 'FAILED', reason: { code, message }, durationMs: performance.now() - itemStarted });
      try {
        const before = await stack.ledger.get(expectedJobId);
        running += 1;
        peakInFlight = Math.max(peakInFlight, running);
        let report: ExecutionReport | undefined;
        try {
          report = await within(stack.execute(event), timeoutMs);
        } finally {
          running -= 1;
        }
        if (!report) return failed('EXECUTION_TIMEOUT', `the execution was still running after ${formatDuration(timeoutMs)}; see \`imgflow status ${expectedJobId}\``);
        return await resultOf(report, expectedJobId, before, stack.ledger, item.Key);
      } catch (error) {
        return failed((error as Error).name === 'AccessDeniedException' ? 'START_DENIED' : 'BACKFILL_ERROR', (error as Error).message);
      }
    };
    let next = 0;
    const inFlight = new Set<number>();
    // Each worker starts the next item only when its previous execution ended: at most `concurrency` in flight.
    const worker = async () => {
      while (!interrupted && next < items.length) {
        const index = next;
        next += 1;
        inFlight.add(index);
        const result = await processItem(index);
        inFlight.delete(index);
        results[index] = result;
        progress?.finished(TALLY_OF[result.status], progressLine(result));
      }
    };
    const workers = Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, worker));
    await Promise.race([workers, stopped.then(() => within(workers, STOP_TIMEOUT_MS))]);
    for (const index of inFlight) {
      results[index] ??= { key: (items[index] as ListedObject).Key, status: 'INTERRUPTED', reason: { code: 'INTERRUPTED', message: 'stopped before its result was read' }, durationMs: 0 };
    }
  } finally {
    progress?.stop();
    io.signal?.removeEventListener('abort', onAbort);
    stopWaiting();
    stack.runner.abortAll(interrupted ? 'imgflow backfill was interrupted' : 'imgflow backfill ended before this execution');
    await options.observe?.(stack);
    const stopMs = interrupted ? STOP_TIMEOUT_MS : STOP_TIMEOUT_MS * 6;
    const stoppedCleanly = await within(
      stack.stop().then(
        () => true,
        (error: unknown) => {
          println(io.stderr, `imgflow backfill: stopping the local runtime failed: ${(error as Error).message}`);
          return true;
        },
      ),
      stopMs,
    );
    if (!stoppedCleanly) println(io.stderr, `imgflow backfill: the local runtime did not stop within ${Math.round(stopMs / 1000)}s; leaving it`);
  }

  const done = results.filter((result): result is BackfillItemResult => result !== undefined);
  const seconds = (performance.now() - started) / 1000;
  const counts = countBy(done);
  const processed = done.length - counts.SKIPPED - counts.INTERRUPTED;
  if (done.length > 0) println(io.stdout, totalsTable(io, done));
  const problems = problemsTable(io, done);
  if (problems) println(io.stdout, problems);
  println(io.stdout, totalsLine(done, items.length, seconds));
  if (interrupted) {
    println(io.stdout, `interrupted: ${items.length - done.length + counts.INTERRUPTED} of ${plural(items.length, 'image')} not done; run the same command again to finish (the ledger skips what is done)`);
  } else if (processed === 0 && items.length > 0 && counts.SKIPPED === items.length) {
    println(io.stdout, `nothing to do: all ${plural(items.length, 'image')} were already handled by an earlier run (0 processed)`);
  }
  const code = interrupted ? EXIT_INTERRUPTED : counts.REJECTED + counts.FAILED + counts.INTERRUPTED === 0 && done.length === items.length ? EXIT_OK : EXIT_FAILED;
  return { exitCode: code, results: done, items: items.length, processed, interrupted, peakInFlight, seconds, takenOver };
}

// ---------------------------------------------------------------------------------------------
// The deployed backfill: StartExecution, then the Map Run's item counts until the execution ends.

export interface MapRunCounts {
  pending: number;
  running: number;
  succeeded: number;
  failed: number;
  timedOut: number;
  aborted: number;
  total: number;
}

export function mapRunCounts(output: Pick<DescribeMapRunCommandOutput, 'itemCounts'> | undefined): MapRunCounts {
  const counts = output?.itemCounts;
  return {
    pending: counts?.pending ?? 0,
    running: counts?.running ?? 0,
    succeeded: counts?.succeeded ?? 0,
    failed: counts?.failed ?? 0,
    timedOut: counts?.timedOut ?? 0,
    aborted: counts?.aborted ?? 0,
    total: counts?.total ?? 0,
  };
}

/** The backfill state machine's ARN: --state-machine-arn, else $IMGFLOW_BACKFILL_STATE_MACHINE_ARN (not the main workflow's). */
function backfillArn(option: string | undefined, env: NodeJS.ProcessEnv | undefined): string {
  const arn = option ?? env?.IMGFLOW_BACKFILL_STATE_MACHINE_ARN;
  if (!arn) throw new UsageError('--remote needs --state-machine-arn <arn> of the backfill state machine (or $IMGFLOW_BACKFILL_STATE_MACHINE_ARN)');
  if (!parseStateMachineArn(arn)) throw new UsageError(`--state-machine-arn must be a state machine ARN (arn:aws:states:<region>:<account>:stateMachine:<name>), got ${JSON.stringify(arn)}`);
  return arn;
}

async function backfillRemote(source: BackfillSource | undefined, options: BackfillOptions, io: Io, cwd: string): Promise<BackfillOutcome> {
  const stateMachineArn = backfillArn(options.stateMachineArn, io.env);
  if (source?.kind === 'folder') throw new UsageError('--remote backfills a deployment\'s upload bucket: give s3://<bucket>/<prefix> or --prefix, not a folder');
  if (options.prefix !== undefined && source?.kind === 's3' && source.prefix !== options.prefix) {
    throw new UsageError(`give the prefix once: ${source.label} and --prefix ${JSON.stringify(options.prefix)} differ`);
  }
  const prefix = options.prefix ?? (source?.kind === 's3' ? source.prefix : '');
  const intervalMs = integerOption('--interval', options.interval, DEFAULT_INTERVAL_MS, 0, 600_000);
  const region = parseStateMachineArn(stateMachineArn)?.region;
  const started = performance.now();

  if (options.dryRun) {
    if (source?.kind !== 's3') throw new UsageError('--remote --dry-run lists the bucket: give s3://<bucket>/<prefix>');
    const s3 = new S3Client({ ...(region ? { region } : {}) });
    let items: ListedObject[];
    try {
      items = await awsCall('s3:ListBucket', `bucket ${source.bucket}`, () => listObjects(s3, source.bucket, prefix));
    } finally {
      s3.destroy();
    }
    println(io.stdout, `imgflow backfill --remote --dry-run: ${plural(items.length, 'object')} in ${source.label}; the backfill state machine would start one execution per object (the ledger skips those already handled)`);
    if (items.length > 0) {
      println(io.stdout, renderTable(io, { head: ['Key', 'Size'], maxWidths: [60] }, items.slice(0, DRY_RUN_ROWS).map((item) => [item.Key, formatBytes(item.Size)])));
      if (items.length > DRY_RUN_ROWS) println(io.stdout, `… and ${items.length - DRY_RUN_ROWS} more`);
    }
    const cost = await modeledCost(options.benchResults, cwd);
    for (const line of costLines(cost, items.length, items.length)) println(io.stdout, line);
    println(io.stdout, `dry run: nothing was started (would start ${stateMachineArn} with ${JSON.stringify({ prefix })})`);
    return dryRunOutcome(items.length, items.length, cost, started);
  }

  const sfn = new SFNClient({ ...(region ? { region } : {}) });
  let progress: BackfillProgress | undefined;
  try {
    const input = JSON.stringify({ prefix });
    const { executionArn } = await awsCall('states:StartExecution', `state machine ${stateMachineArn}`, () =>
      sfn.send(new StartExecutionCommand({ stateMachineArn, input, ...(options.name ? { name: options.name } : {}) })),
    );
    if (!executionArn) throw new Error(`StartExecution of ${stateMachineArn} returned no execution ARN`);
    println(io.stdout, `imgflow backfill: started ${executionArn} with ${input}`);
    progress = new BackfillProgress(io, 0);
    let mapRunArn: string | undefined;
    let mapRun: DescribeMapRunCommandOutput | undefined;
    let status = 'RUNNING';
    let error: { name?: string; cause?: string } = {};
    let interrupted = false;
    for (;;) {
      const execution = await awsCall('states:DescribeExecution', `execution ${executionArn}`, () => sfn.send(new DescribeExecutionCommand({ executionArn })));
      status = execution.status ?? 'RUNNING';
      error = { ...(execution.error ? { name: execution.error } : {}), ...(execution.cause ? { cause: execution.cause } : {}) };
      if (!mapRunArn) {
        const runs = await awsCall('states:ListMapRuns', `execution ${executionArn}`, () => sfn.send(new ListMapRunsCommand({ executionArn })));
        mapRunArn = runs.mapRuns?.[0]?.mapRunArn;
      }
      if (mapRunArn) {
        const arn = mapRunArn;
        mapRun = await awsCall('states:DescribeMapRun', `map run ${arn}`, () => sfn.send(new DescribeMapRunCommand({ mapRunArn: arn })));
        const counts = mapRunCounts(mapRun);
        const ended = counts.succeeded + counts.failed + counts.timedOut + counts.aborted;
        progress.set(ended, { succeeded: counts.succeeded, rejected: 0, failed: counts.failed + counts.timedOut + counts.aborted, skipped: 0 }, counts.total, `running ${counts.running} · pending ${counts.pending}`);
      }
      if (status !== 'RUNNING') break;
      if (io.signal?.aborted) {
        interrupted = true;
        break;
      }
      try {
        await sleep(intervalMs, undefined, io.signal ? { signal: io.signal } : {});
      } catch {
        interrupted = true;
        break;
      }
    }
    progress.stop();
    const counts = mapRunCounts(mapRun);
    const rows = [
      ['execution', status],
      ['map run', mapRun?.status ?? (mapRunArn ? '-' : 'not started')],
      ['items', String(counts.total)],
      ['succeeded (processed or already handled)', String(counts.succeeded)],
      ['failed', String(counts.failed)],
      ['timed out', String(counts.timedOut)],
      ['aborted', String(counts.aborted)],
      ['running', String(counts.running)],
      ['pending', String(counts.pending)],
    ];
    println(io.stdout, renderTable(io, { head: ['Map Run', 'Items'] }, rows));
    const seconds = (performance.now() - started) / 1000;
    println(
      io.stdout,
      `${plural(counts.total, 'image')}: ${counts.succeeded} succeeded, ${counts.failed + counts.timedOut + counts.aborted} failed in ${seconds.toFixed(1)}s; execution ${status}${error.name ? ` (${error.name}${error.cause ? `: ${truncate(error.cause, 200)}` : ''})` : ''}`,
    );
    println(io.stdout, 'succeeded items include those the ledger found already handled (AlreadyHandled); REJECTED jobs succeed too: `imgflow status --remote --status REJECTED` lists them');
    if (interrupted) println(io.stdout, `stopped following: the backfill goes on in AWS (${executionArn})`);
    const failedItems = counts.failed + counts.timedOut + counts.aborted;
    const code = interrupted ? EXIT_INTERRUPTED : status === 'SUCCEEDED' && failedItems === 0 ? EXIT_OK : EXIT_FAILED;
    return {
      exitCode: code,
      results: [],
      items: counts.total,
      processed: counts.succeeded + failedItems,
      interrupted,
      peakInFlight: 0,
      seconds,
      takenOver: { released: 0, notified: 0 },
    };
  } finally {
    progress?.stop();
    sfn.destroy();
  }
}

/**
 * `imgflow backfill`: every object already in a bucket (or a folder put there without
 * triggering) through the same workflow, each as one execution of the main state machine with
 * the event the backfill's Distributed Map would give it, `concurrency` at a time. The ledger
 * decides what runs: an object whose job is finished ends at AlreadyHandled (SKIPPED), so a
 * re-run processes only what is left, and a run killed halfway is finished by the next one (the
 * local runtime releases a dead run's claims at start-up). `--remote` starts the deployed
 * backfill state machine and follows its Map Run.
 */
export async function backfill(options: BackfillOptions, io: Io): Promise<BackfillOutcome> {
  const cwd = options.cwd ?? process.cwd();
  let outcome: BackfillOutcome = { exitCode: EXIT_FAILED, results: [], items: 0, processed: 0, interrupted: false, peakInFlight: 0, seconds: 0, takenOver: { released: 0, notified: 0 } };
  const exitCode = await withExitCode('backfill', io, async () => {
    const source = options.source === undefined ? undefined : parseSource(options.source, cwd);
    if (options.remote) {
      outcome = await backfillRemote(source, options, io, cwd);
    } else {
      if (!source) throw new UsageError('give a folder or s3://bucket/prefix (or --remote --state-machine-arn <arn>)');
      if (options.stateMachineArn !== undefined || options.prefix !== undefined) throw new UsageError('--state-machine-arn and --prefix go with --remote');
      outcome = await backfillLocal(source, options, io, cwd);
    }
    return outcome.exitCode;
  });
  return { ...outcome, exitCode };
}
