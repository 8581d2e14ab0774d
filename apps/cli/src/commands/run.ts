import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { performance } from 'node:perf_hooks';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { type ImageLimitsInput, type RecipeInput, parseRecipeJson, resolveLimits } from '@imgflow/image-core';
import { type ExecutionReport, type ExecutionUpdate, LocalStack } from '@imgflow/local-runtime';
import { type JobRecord, type ObjectRef, type OutputRecord, TERMINAL_STATUSES, jobIdFor } from '@imgflow/pipeline';
import { EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, UsageError } from '../errors.js';
import { type InputFile, expandInputs } from '../files.js';
import { type Io, integerOption, println, withExitCode } from '../io.js';
import { formatBytes, formatDuration, plural, truncate } from '../ui/format.js';
import { RunProgress } from '../ui/progress.js';
import { renderTable } from '../ui/table.js';

export interface RunOptions {
  /** Files and folders, as given on the command line. */
  inputs: string[];
  /** Recipe JSON file; the default recipe when absent. */
  recipe?: string;
  /** Where renditions are downloaded (default ./out). */
  out?: string;
  /** Executions in flight at once, 1 to 64 (default 2). */
  concurrency?: string | number;
  /** Local state: S3 objects and the ledger (default ./.imgflow). */
  data?: string;
  /** Image limits JSON file (image-core LimitsSchema). */
  limits?: string;
  /** Resolve relative paths against this (default process.cwd()). */
  cwd?: string;
  /** Shorten Retry pauses (tests). */
  retryPauseMs?: number;
}

export type FinalStatus = 'SUCCEEDED' | 'REJECTED' | 'FAILED';

export interface ImageResult {
  file: InputFile;
  jobId?: string;
  status: FinalStatus;
  /** A content-cache hit, or the same upload already handled by an earlier run. */
  note?: 'cached' | 'earlier run';
  outputs: OutputRecord[];
  /** Local paths the outputs were written to. */
  downloaded: string[];
  bytesIn: number;
  bytesOut: number;
  durationMs: number;
  reason?: { code: string; message: string };
}

export interface RunOutcome {
  exitCode: number;
  results: ImageResult[];
  outDir: string;
  interrupted: boolean;
  /** The most executions that were running at once (never above the concurrency). */
  peakInFlight: number;
}

export const DEFAULT_CONCURRENCY = 2;
export const MAX_CONCURRENCY = 64;

async function readOptionFile(option: string, file: string, cwd: string): Promise<string> {
  try {
    return await readFile(resolve(cwd, file), 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${option} ${file}: ${(error as Error).message}`);
  }
}

/**
 * The recipe file as written (checked here, so a bad field is named at once): the local runtime
 * passes it to the functions as a deployment would, in IMGFLOW_RECIPE, not the parsed recipe
 * with every default filled in (five times the bytes of Lambda's 4 KB environment).
 */
export async function loadRecipe(file: string | undefined, cwd: string): Promise<RecipeInput | undefined> {
  if (file === undefined) return undefined;
  const text = await readOptionFile('--recipe', file, cwd);
  try {
    parseRecipeJson(text);
  } catch (error) {
    throw new UsageError(`--recipe ${file}: ${(error as Error).message}`);
  }
  return JSON.parse(text) as RecipeInput;
}

export async function loadLimits(file: string | undefined, cwd: string): Promise<ImageLimitsInput | undefined> {
  if (file === undefined) return undefined;
  const text = await readOptionFile('--limits', file, cwd);
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--limits ${file} is not valid JSON: ${(error as Error).message}`);
  }
  try {
    resolveLimits(value as ImageLimitsInput);
  } catch (error) {
    throw new UsageError(`--limits ${file}: ${(error as Error).message}`);
  }
  return value as ImageLimitsInput;
}

function isDuplicate(output: unknown): boolean {
  return typeof output === 'object' && output !== null && (output as { outcome?: unknown }).outcome === 'duplicate';
}

/** Where an output key lands locally: the part after the output prefix, kept inside `outDir`. */
export function localPathFor(outDir: string, outputPrefix: string, key: string): string {
  const rel = key.startsWith(outputPrefix) ? key.slice(outputPrefix.length) : key;
  const path = resolve(outDir, ...rel.split('/').filter((segment) => segment !== '' && segment !== '.' && segment !== '..'));
  if (!path.startsWith(outDir + sep)) throw new Error(`output key ${key} would be written outside ${outDir}`);
  return path;
}

function displayPath(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel === '' ? '.' : rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

/** Long paths keep their end, the part that tells files apart. */
function truncateStart(text: string, max: number): string {
  return text.length <= max ? text : `…${text.slice(text.length - max + 1)}`;
}

function statusLabel(result: ImageResult): string {
  return result.note ? `${result.status} (${result.note})` : result.status;
}

function reasonText(result: ImageResult, max = 300): string {
  return result.reason ? truncate(`${result.reason.code}: ${result.reason.message}`, max) : '';
}

function progressLine(result: ImageResult): string {
  const facts =
    result.status === 'SUCCEEDED'
      ? `${plural(result.outputs.length, 'rendition')}, ${formatBytes(result.bytesIn)} → ${formatBytes(result.bytesOut)}`
      : reasonText(result, 200);
  return `${statusLabel(result)} ${result.file.label}: ${facts} in ${formatDuration(result.durationMs)}`;
}

export function resultsTable(io: Io, results: readonly ImageResult[]): string {
  const rows = results.map((result) => [
    truncateStart(result.file.label, 40),
    statusLabel(result),
    result.status === 'SUCCEEDED' ? String(result.outputs.length) : '-',
    `${formatBytes(result.bytesIn)} → ${result.status === 'SUCCEEDED' ? formatBytes(result.bytesOut) : '-'}`,
    formatDuration(result.durationMs),
    reasonText(result),
  ]);
  return renderTable(io, { head: ['File', 'Status', 'Renditions', 'Bytes in → out', 'Time', 'Reason'], maxWidths: [42], wrapLast: 30 }, rows);
}

class RunContext {
  private readonly waiting = new Map<string, (report: ExecutionReport) => void>();
  private inFlight = 0;
  peakInFlight = 0;

  constructor(
    readonly stack: LocalStack,
    readonly outDir: string,
    readonly progress: RunProgress,
  ) {}

  listener = (update: ExecutionUpdate): void => {
    this.progress.update(update);
    if (update.type === 'started') {
      this.inFlight += 1;
      this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
    }
    if (update.type === 'finished') {
      this.inFlight -= 1;
      const key = update.report.event.detail.object.key;
      this.waiting.get(key)?.(update.report);
      this.waiting.delete(key);
    }
  };

  /** Uploads one file and resolves when its execution has finished and its outputs are downloaded. */
  async process(file: InputFile): Promise<ImageResult> {
    const started = performance.now();
    const base = { file, outputs: [], downloaded: [], bytesIn: file.size, bytesOut: 0 };
    const finished = new Promise<ExecutionReport>((resolveReport) => this.waiting.set(file.key, resolveReport));
    let ref: ObjectRef;
    try {
      ref = await this.stack.upload(file.key, await readFile(file.path));
    } catch (error) {
      this.waiting.delete(file.key);
      return { ...base, status: 'FAILED', durationMs: performance.now() - started, reason: { code: 'UPLOAD_FAILED', message: (error as Error).message } };
    }
    const report = await finished;
    const jobId = jobIdFor(ref);
    const record = await this.stack.ledger.get(jobId);
    const duplicate = isDuplicate(report.output);
    const common = { ...base, jobId, durationMs: report.durationMs, ...(duplicate ? { note: 'earlier run' as const } : {}) };
    if (!record || !TERMINAL_STATUSES.includes(record.status)) {
      const reason =
        report.status === 'FAILED'
          ? { code: report.error?.name ?? 'EXECUTION_FAILED', message: report.error?.cause ?? 'the execution failed' }
          : record
            ? { code: 'IN_PROGRESS', message: `another run holds this job (status ${record.status}) until ${record.leaseExpiresAt ?? 'its lease expires'}` }
            : { code: 'NO_RECORD', message: 'the execution ended without a ledger record' };
      return { ...common, status: 'FAILED', reason };
    }
    return this.fromRecord(record, common);
  }

  private async fromRecord(record: JobRecord, common: Omit<ImageResult, 'status'>): Promise<ImageResult> {
    const status = record.status as FinalStatus;
    const note = common.note ?? (record.cacheHit ? ('cached' as const) : undefined);
    if (status !== 'SUCCEEDED') {
      return {
        ...common,
        status,
        ...(note ? { note } : {}),
        reason: { code: record.reasonCode ?? 'UNKNOWN', message: record.reasonMessage ?? record.reasonError ?? '' },
      };
    }
    const outputs = record.outputs ?? [];
    const bytesOut = outputs.reduce((sum, output) => sum + output.bytes, 0);
    try {
      const downloaded = await this.download(record.outputBucket ?? this.stack.config.outputBucket, outputs);
      return { ...common, status, ...(note ? { note } : {}), outputs, bytesOut, downloaded };
    } catch (error) {
      return { ...common, status: 'FAILED', outputs, bytesOut, reason: { code: 'DOWNLOAD_FAILED', message: (error as Error).message } };
    }
  }

  private async download(bucket: string, outputs: readonly OutputRecord[]): Promise<string[]> {
    const paths: string[] = [];
    for (const output of outputs) {
      const path = localPathFor(this.outDir, this.stack.config.outputPrefix, output.key);
      const response = await this.stack.clients.s3.send(new GetObjectCommand({ Bucket: bucket, Key: output.key }));
      if (!response.Body) throw new Error(`s3://${bucket}/${output.key} returned no body`);
      await mkdir(dirname(path), { recursive: true });
      await writeFile(path, await response.Body.transformToByteArray());
      paths.push(path);
    }
    return paths;
  }
}

/**
 * `imgflow run`: every file through the real workflow on the local runtime, never more than
 * `concurrency` executions at once, outputs downloaded to `out`, a table at the end.
 */
export async function runImages(options: RunOptions, io: Io): Promise<RunOutcome> {
  const cwd = options.cwd ?? process.cwd();
  const outDir = resolve(cwd, options.out ?? 'out');
  let outcome: RunOutcome = { exitCode: EXIT_FAILED, results: [], outDir, interrupted: false, peakInFlight: 0 };
  const exitCode = await withExitCode('run', io, async () => {
    const concurrency = integerOption('--concurrency', options.concurrency, DEFAULT_CONCURRENCY, 1, MAX_CONCURRENCY);
    const recipe = await loadRecipe(options.recipe, cwd);
    const limits = await loadLimits(options.limits, cwd);
    const files = await expandInputs(options.inputs, cwd);
    const dataDir = resolve(cwd, options.data ?? '.imgflow');

    const started = performance.now();
    let stack: LocalStack;
    try {
      stack = await LocalStack.start({
        dataDir,
        ...(recipe ? { recipe } : {}),
        ...(limits ? { limits } : {}),
        ...(options.retryPauseMs !== undefined ? { retryPauseMs: options.retryPauseMs } : {}),
      });
    } catch (error) {
      throw new Error(`could not start the local runtime in ${displayPath(dataDir, cwd)}: ${(error as Error).message}`, { cause: error });
    }

    const progress = new RunProgress(io, files.length);
    const context = new RunContext(stack, outDir, progress);
    const results: Array<ImageResult | undefined> = new Array(files.length);
    let interrupted = false;
    const onAbort = () => {
      interrupted = true;
      progress.note('imgflow run: stopping, waiting for the images in flight to finish');
    };
    if (io.signal?.aborted) onAbort();
    else io.signal?.addEventListener('abort', onAbort, { once: true });
    try {
      stack.enableTrigger(context.listener);
      let next = 0;
      // Each worker uploads the next file only when its previous execution finished: at most `concurrency` in flight.
      const worker = async () => {
        while (!interrupted && next < files.length) {
          const index = next;
          next += 1;
          const result = await context.process(files[index] as InputFile);
          results[index] = result;
          progress.finished(progressLine(result));
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker));
    } finally {
      progress.stop();
      io.signal?.removeEventListener('abort', onAbort);
      await stack.stop();
    }

    const done = results.filter((result): result is ImageResult => result !== undefined);
    println(io.stdout, resultsTable(io, done));
    const count = (status: FinalStatus) => done.filter((result) => result.status === status).length;
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    println(
      io.stdout,
      `${plural(done.length, 'image')}: ${count('SUCCEEDED')} succeeded, ${count('REJECTED')} rejected, ${count('FAILED')} failed in ${seconds}s; outputs in ${displayPath(outDir, cwd)}`,
    );
    if (interrupted) {
      println(io.stdout, `interrupted: ${files.length - done.length} of ${plural(files.length, 'image')} not processed`);
    }
    const allSucceeded = done.length === files.length && count('SUCCEEDED') === files.length;
    const code = interrupted ? EXIT_INTERRUPTED : allSucceeded ? EXIT_OK : EXIT_FAILED;
    outcome = { exitCode: code, results: done, outDir, interrupted, peakInFlight: context.peakInFlight };
    return code;
  });
  return { ...outcome, exitCode };
}
