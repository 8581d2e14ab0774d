import { once } from 'node:events';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { performance } from 'node:perf_hooks';
import { GetObjectCommand } from '@aws-sdk/client-s3';
import { type ImageLimitsInput, type RecipeInput, parseRecipeJson, resolveLimits } from '@imgflow/image-core';
import type { ExecutionReport, LocalStack } from '@imgflow/local-runtime';
import { type JobRecord, type ObjectRef, type OutputRecord, TERMINAL_STATUSES, jobIdFor } from '@imgflow/pipeline';
import { EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, UsageError } from '../errors.js';
import { DEFAULT_START_TIMEOUT_MS, type ExecutionOutcome, ExecutionTracker, executionTimeoutMs, jobIdOfReport, md5Hex } from '../executions.js';
import { faultsFromEnv, planFaults } from '../faults.js';
import { startLocalRuntime } from '../runtime.js';
import { LocalConsoleData } from '../console/data.js';
import { ExecutionRecorder } from '../console/history.js';
import { type ConsoleServer, startConsoleServer } from '../console/server.js';
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
  /** After the first SIGINT/SIGTERM, how long executions in flight may still finish (default 5 s). */
  graceMs?: number;
  /** How long an upload may go without an execution starting for it (default 15 s). */
  startTimeoutMs?: number;
  /** How long a started execution is waited for (default: the longest the contract's timeouts and retries allow). */
  executionTimeoutMs?: number;
  /** Called with the local runtime once it runs, before any upload (tests: faults, wrappers). */
  prepare?: (stack: LocalStack) => void | Promise<void>;
  /**
   * Serve the web console during the run (true: port 4580; a number or string: that port, 0 a
   * free one). With io.signal, it stays up after the run until SIGINT/SIGTERM.
   */
  console?: boolean | string | number;
  /** Called with the console's URL once it serves (tests). */
  onConsole?: (url: string) => void;
}

/** A row's status: the job's terminal status, or INTERRUPTED when the run was stopped before its execution ended. */
export type FinalStatus = 'SUCCEEDED' | 'REJECTED' | 'FAILED' | 'INTERRUPTED';

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

/** The output of an execution that found the upload already handled (`AlreadyHandled`). */
function isDuplicate(output: unknown): boolean {
  return typeof output === 'object' && output !== null && (output as { outcome?: unknown }).outcome === 'duplicate';
}


function seconds(ms: number): string {
  return `${Math.round(ms / 1000)}s`;
}

const pause = (ms: number) =>
  new Promise<void>((resolveTimer) => {
    setTimeout(resolveTimer, ms).unref();
  });

/** Resolves with the promise's value, or with `undefined` once `ms` have passed. */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolveTimer) => {
    timer = setTimeout(() => resolveTimer(undefined), ms);
    timer.unref();
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

class RunContext {
  constructor(
    readonly stack: LocalStack,
    readonly outDir: string,
    readonly tracker: ExecutionTracker,
  ) {}

  /**
   * Uploads one file and resolves with its row once its execution has ended (or the wait for it
   * has, see ExecutionTracker) and its outputs are downloaded. Never rejects.
   */
  async process(file: InputFile): Promise<ImageResult> {
    const started = performance.now();
    const base = { file, outputs: [], downloaded: [], bytesIn: file.size, bytesOut: 0 };
    const failed = (code: string, message: string, extra: Partial<ImageResult> = {}): ImageResult => ({
      ...base,
      status: 'FAILED',
      durationMs: performance.now() - started,
      reason: { code, message },
      ...extra,
    });
    let body: Buffer;
    try {
      body = await readFile(file.path);
    } catch (error) {
      return failed('READ_FAILED', (error as Error).message);
    }
    const expectation = this.tracker.expect({ key: file.key, etag: md5Hex(body), size: body.length });
    let ref: ObjectRef;
    try {
      ref = await this.stack.submit(file.key, body);
    } catch (error) {
      this.tracker.forget(expectation);
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      return failed('UPLOAD_FAILED', `${(error as Error).message}${status ? ` (HTTP ${status})` : ''}`);
    }
    this.tracker.uploaded(expectation);
    const jobId = jobIdFor(ref);
    const outcome = await expectation.outcome;
    try {
      return await this.fromOutcome(outcome, jobId, { ...base, jobId }, started);
    } catch (error) {
      return failed('LEDGER_UNREADABLE', `the execution ended, but its record could not be read: ${(error as Error).message}`, { jobId });
    }
  }

  private async fromOutcome(outcome: ExecutionOutcome, jobId: string, base: Omit<ImageResult, 'status' | 'durationMs'>, started: number): Promise<ImageResult> {
    const durationMs = outcome.kind === 'finished' ? outcome.report.durationMs : performance.now() - started;
    const where = (state?: string) => (state ? ` (last in ${state})` : '');
    switch (outcome.kind) {
      case 'not-started':
        return {
          ...base,
          status: 'FAILED',
          durationMs,
          reason: { code: 'NO_EXECUTION', message: `the upload started no workflow execution within ${seconds(outcome.waitedMs)} (the trigger dropped or refused its event)` },
        };
      case 'timed-out':
        return {
          ...base,
          status: 'FAILED',
          durationMs,
          reason: { code: 'EXECUTION_TIMEOUT', message: `execution ${outcome.execution} was still running after ${seconds(outcome.waitedMs)}${where(outcome.lastState)}; see \`imgflow status ${jobId}\`` },
        };
      case 'interrupted':
        return {
          ...base,
          status: 'INTERRUPTED',
          durationMs,
          reason: {
            code: 'INTERRUPTED',
            message: outcome.execution
              ? `stopped before its execution ended${where(outcome.lastState)}; a later run on the same --data takes the job over`
              : 'stopped before its execution started',
          },
        };
      case 'finished':
        return this.fromReport(outcome.report, jobId, { ...base, durationMs });
    }
  }

  private async fromReport(report: ExecutionReport, jobId: string, common: Omit<ImageResult, 'status'>): Promise<ImageResult> {
    if (report.status === 'ABORTED') {
      return { ...common, status: 'INTERRUPTED', reason: { code: 'INTERRUPTED', message: `${report.error?.cause ?? 'stopped'}; a later run on the same --data takes the job over` } };
    }
    const record = await this.stack.ledger.get(jobId);
    const withNote = { ...common, ...(isDuplicate(report.output) ? { note: 'earlier run' as const } : {}) };
    if (record && TERMINAL_STATUSES.includes(record.status)) return this.fromRecord(record, withNote);
    // No finished record for the key that was uploaded: what did the execution itself do?
    const ran = jobIdOfReport(report);
    const elsewhere = ran && ran !== jobId ? await this.stack.ledger.get(ran) : undefined;
    let reason: { code: string; message: string };
    if (elsewhere) {
      reason = {
        code: 'RECORDED_ELSEWHERE',
        message: `its execution recorded it under the key ${JSON.stringify(elsewhere.sourceKey)} (job ${elsewhere.jobId}): ${elsewhere.status}${elsewhere.reasonCode ? ` ${elsewhere.reasonCode}` : ''}`,
      };
    } else if (report.status === 'FAILED' || report.status === 'TIMED_OUT') {
      // TIMED_OUT (States.Timeout) and States.DataLimitExceeded end the execution past every Catch:
      // the job stays unfinished in the ledger until its lease expires.
      reason = { code: report.error?.name ?? 'EXECUTION_FAILED', message: report.error?.cause ?? `the execution ended ${report.status}` };
    } else if (record) {
      reason = { code: 'IN_PROGRESS', message: `another run holds this job (status ${record.status}) until ${record.leaseExpiresAt ?? 'its lease expires'}` };
    } else {
      reason = { code: 'NO_RECORD', message: `execution ${report.name} ended ${report.status} without a ledger record for job ${jobId}` };
    }
    return { ...withNote, status: 'FAILED', reason };
  }

  private async fromRecord(record: JobRecord, common: Omit<ImageResult, 'status'>): Promise<ImageResult> {
    const status = record.status as Exclude<FinalStatus, 'INTERRUPTED'>;
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

/** Seconds the executions in flight get to finish after the first Ctrl-C / SIGTERM. */
export const DEFAULT_GRACE_MS = 5_000;
/** How long stopping the emulators may take before the run ends without waiting for them. */
export const STOP_TIMEOUT_MS = 5_000;

/**
 * `imgflow run`: every file through the real workflow on the local runtime, never more than
 * `concurrency` executions at once, outputs downloaded to `out`, a table at the end.
 *
 * Every file ends with a row, whatever happens inside: a failed upload, an execution that records
 * the job under another key, one that never starts or never ends (bounded waits, see
 * ExecutionTracker). The first SIGINT/SIGTERM (io.signal) stops it within seconds: no new uploads,
 * `graceMs` for the executions in flight, then those still running are stopped and marked
 * INTERRUPTED, the emulators stop, exit code 130.
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
    const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
    const faults = faultsFromEnv(io.env);
    const consolePort =
      options.console === undefined || options.console === false ? undefined : integerOption('--console', options.console === true ? undefined : options.console, 4580, 0, 65535);

    const started = performance.now();
    const stack = await startLocalRuntime(dataDir, displayPath(dataDir, cwd), {
      recipe,
      limits,
      ...(options.retryPauseMs !== undefined ? { retryPauseMs: options.retryPauseMs } : {}),
    });

    // Every execution's history goes to the data folder: the console's timelines.
    const recorder = new ExecutionRecorder(dataDir);
    stack.enableTrigger(recorder.listener);
    let consoleServer: ConsoleServer | undefined;
    const progress = new RunProgress(io, files.length);
    const tracker = new ExecutionTracker({
      startTimeoutMs: options.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS,
      executionTimeoutMs: options.executionTimeoutMs ?? executionTimeoutMs(),
    });
    const context = new RunContext(stack, outDir, tracker);
    const results: Array<ImageResult | undefined> = new Array(files.length);
    const inFlight = new Map<number, InputFile>();
    let interrupted = false;
    let stopWaiting: () => void = () => undefined;
    const stopped = new Promise<void>((resolveStop) => {
      stopWaiting = resolveStop;
    });
    const onAbort = () => {
      if (interrupted) return;
      interrupted = true;
      const running = tracker.pending;
      progress.note(
        running > 0
          ? `imgflow run: stopping: no new uploads; ${plural(running, 'image')} in flight get ${seconds(graceMs)} to finish (Ctrl-C again to quit at once)`
          : 'imgflow run: stopping: no new uploads',
      );
      // After the grace period, what still runs is stopped and recorded as interrupted.
      void pause(graceMs).then(() => {
        stack.runner.abortAll('imgflow run was interrupted');
        tracker.interruptAll();
        stopWaiting();
      });
    };
    if (io.signal?.aborted) onAbort();
    else io.signal?.addEventListener('abort', onAbort, { once: true });
    const stopStack = async () => {
      const stopMs = interrupted ? STOP_TIMEOUT_MS : STOP_TIMEOUT_MS * 6;
      const stoppedCleanly = await within(
        stack.stop().then(
          () => true,
          (error: unknown) => {
            progress.note(`imgflow run: stopping the local runtime failed: ${(error as Error).message}`);
            return true;
          },
        ),
        stopMs,
      );
      if (!stoppedCleanly) progress.note(`imgflow run: the local runtime did not stop within ${seconds(stopMs)}; leaving it`);
    };
    let completed = false;
    try {
      planFaults(stack, faults);
      await options.prepare?.(stack);
      if (consolePort !== undefined) {
        consoleServer = await startConsoleServer({ data: new LocalConsoleData(stack, dataDir, recorder), port: consolePort });
        progress.note(`imgflow run: console at ${consoleServer.url}`);
        options.onConsole?.(consoleServer.url);
      }
      if (!interrupted) progress.note(`imgflow run: ${plural(files.length, 'image')}, ${concurrency} at a time; local runtime in ${displayPath(dataDir, cwd)}`);
      stack.enableTrigger((update) => {
        progress.update(update);
        tracker.listener(update);
      });
      let next = 0;
      // Each worker uploads the next file only when its previous execution finished: at most `concurrency` in flight.
      const worker = async () => {
        while (!interrupted && next < files.length) {
          const index = next;
          next += 1;
          const file = files[index] as InputFile;
          inFlight.set(index, file);
          const result = await context.process(file);
          inFlight.delete(index);
          results[index] = result;
          progress.finished(progressLine(result));
        }
      };
      const workers = Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker));
      // Interrupted: the workers end once their waits are cut short; a download or ledger read that
      // hangs past a few more seconds does not hold the run.
      await Promise.race([workers, stopped.then(() => within(workers, STOP_TIMEOUT_MS))]);
      for (const [index, file] of inFlight) {
        results[index] ??= {
          file,
          status: 'INTERRUPTED',
          outputs: [],
          downloaded: [],
          bytesIn: file.size,
          bytesOut: 0,
          durationMs: performance.now() - started,
          reason: { code: 'INTERRUPTED', message: 'stopped before its result was read' },
        };
      }
      completed = true;
    } finally {
      progress.stop();
      io.signal?.removeEventListener('abort', onAbort);
      stopWaiting();
      // Executions still running now are ones given up on (interrupted, timed out, or matching no
      // upload): they are stopped, so stopping the runtime never waits for them.
      stack.runner.abortAll(interrupted ? 'imgflow run was interrupted' : 'imgflow run ended before this execution');
      await within(recorder.flush(), STOP_TIMEOUT_MS);
      if (!completed) {
        await consoleServer?.close();
        await stopStack();
      }
    }
    // The console stays up after the run (until Ctrl-C) only where there is a Ctrl-C to wait for.
    const keepConsole = consoleServer !== undefined && !interrupted && io.signal !== undefined && !io.signal.aborted;
    if (!keepConsole) {
      await consoleServer?.close();
      await stopStack();
    }

    const done = results.filter((result): result is ImageResult => result !== undefined);
    println(io.stdout, resultsTable(io, done));
    const count = (status: FinalStatus) => done.filter((result) => result.status === status).length;
    const elapsedSeconds = ((performance.now() - started) / 1000).toFixed(1);
    const interruptedCount = count('INTERRUPTED');
    println(
      io.stdout,
      `${plural(done.length, 'image')}: ${count('SUCCEEDED')} succeeded, ${count('REJECTED')} rejected, ${count('FAILED')} failed${interruptedCount ? `, ${interruptedCount} interrupted` : ''} in ${elapsedSeconds}s; outputs in ${displayPath(outDir, cwd)}`,
    );
    if (interrupted) {
      println(io.stdout, `interrupted: ${files.length - done.length + interruptedCount} of ${plural(files.length, 'image')} not processed`);
    }
    const allSucceeded = done.length === files.length && count('SUCCEEDED') === files.length;
    const code = interrupted ? EXIT_INTERRUPTED : allSucceeded ? EXIT_OK : EXIT_FAILED;
    if (keepConsole && consoleServer && io.signal) {
      println(io.stdout, `console at ${consoleServer.url} (open it: xdg-open ${consoleServer.url}); Ctrl-C stops it`);
      if (!io.signal.aborted) await once(io.signal, 'abort');
      await consoleServer.close();
      await stopStack();
    }
    outcome = { exitCode: code, results: done, outDir, interrupted, peakInFlight: tracker.peakInFlight };
    return code;
  });
  return { ...outcome, exitCode };
}
