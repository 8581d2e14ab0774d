import { once } from 'node:events';
import { resolve } from 'node:path';
import type { LocalStack } from '@imgflow/local-runtime';
import { JobLedger } from '@imgflow/pipeline';
import { type ConsoleData, LocalConsoleData, RemoteConsoleData } from '../console/data.js';
import { ExecutionRecorder } from '../console/history.js';
import { startLocalRuntime } from '../runtime.js';
import { type ConsoleServer, DEFAULT_CONSOLE_PORT, startConsoleServer } from '../console/server.js';
import { EXIT_OK, UsageError } from '../errors.js';
import { type Io, integerOption, println, urlOption, withExitCode } from '../io.js';
import { remoteClients, tableName } from '../ledger.js';
import { STOP_TIMEOUT_MS, loadLimits, loadRecipe, within } from './run.js';

export interface ConsoleOptions {
  /** Local state to show (default .imgflow). */
  data?: string;
  /** Default 4580; 0 picks a free port. */
  port?: string | number;
  recipe?: string;
  limits?: string;
  /** A deployment's ledger instead of the local runtime. */
  remote?: boolean;
  table?: string;
  /** With --remote: the upload bucket (uploads from the page go there); renditions are read through presigned URLs either way. */
  bucket?: string;
  region?: string;
  /** With --remote: the DynamoDB endpoint (e.g. the one `imgflow dev` prints). */
  endpointUrl?: string;
  /** With --remote: the S3 endpoint. */
  s3EndpointUrl?: string;
  cwd?: string;
  /** Feed poll period in ms (tests). */
  pollMs?: number;
}

export interface ConsoleHandle {
  server: ConsoleServer;
  data: ConsoleData;
  /** The local runtime the console started (absent with --remote). */
  stack?: LocalStack;
  stop(): Promise<void>;
}

export function portOption(value: string | number | undefined): number {
  return integerOption('--port', value, DEFAULT_CONSOLE_PORT, 0, 65535);
}

/** Prints where the console is, and how to open it. */
export function announceConsole(io: Io, url: string, prefix = 'imgflow console'): void {
  println(io.stdout, `${prefix}: console at ${url}  (open it: xdg-open ${url}, or open ${url} on macOS)`);
}

function remoteData(options: ConsoleOptions, io: Io): RemoteConsoleData {
  const table = tableName(options.table, io.env);
  const dynamodb = urlOption('--endpoint-url', options.endpointUrl);
  const s3 = urlOption('--s3-endpoint-url', options.s3EndpointUrl);
  const clients = remoteClients({ ...(options.region ? { region: options.region } : {}), ...(dynamodb ? { dynamodb } : {}), ...(s3 ? { s3 } : {}) });
  const where = `DynamoDB table ${table}${dynamodb ? ` at ${dynamodb}` : ''}`;
  return new RemoteConsoleData(clients, new JobLedger(clients.dynamo, table), where, options.bucket);
}

/**
 * Starts the console: over a deployment (--remote), or over the local runtime in the data folder,
 * which it then runs (its ledger and buckets, and the trigger for uploads from the page; the
 * folder is this process's while the console runs, as with `imgflow run`).
 */
export async function startConsole(options: ConsoleOptions, io: Io): Promise<ConsoleHandle> {
  const cwd = options.cwd ?? process.cwd();
  const port = portOption(options.port);
  if (!options.remote && (options.table || options.bucket || options.endpointUrl || options.s3EndpointUrl)) {
    throw new UsageError('--table, --bucket, --endpoint-url and --s3-endpoint-url need --remote');
  }
  let data: ConsoleData;
  let stack: LocalStack | undefined;
  if (options.remote) {
    data = remoteData(options, io);
  } else {
    const recipe = await loadRecipe(options.recipe, cwd);
    const limits = await loadLimits(options.limits, cwd);
    const dataDir = resolve(cwd, options.data ?? '.imgflow');
    stack = await startLocalRuntime(dataDir, options.data ?? '.imgflow', { recipe, limits });
    const recorder = new ExecutionRecorder(dataDir);
    stack.enableTrigger(recorder.listener);
    const started = stack;
    data = new LocalConsoleData(started, dataDir, recorder, async () => {
      started.disableTrigger();
      await within(started.whenIdle(), STOP_TIMEOUT_MS);
      started.runner.abortAll('imgflow console was stopped');
      await recorder.flush();
      await within(started.stop(), STOP_TIMEOUT_MS);
    });
  }
  let server: ConsoleServer;
  try {
    server = await startConsoleServer({ data, port, ...(options.pollMs !== undefined ? { pollMs: options.pollMs } : {}) });
  } catch (error) {
    await data.close();
    throw error;
  }
  let stopping: Promise<void> | undefined;
  return {
    server,
    data,
    ...(stack ? { stack } : {}),
    stop() {
      stopping ??= (async () => {
        await server.close();
        await data.close();
      })();
      return stopping;
    },
  };
}

/** `imgflow console`: startConsole, print its URL, serve until SIGINT/SIGTERM (io.signal). */
export async function runConsole(options: ConsoleOptions, io: Io): Promise<number> {
  return withExitCode('console', io, async () => {
    const handle = await startConsole(options, io);
    announceConsole(io, handle.server.url);
    println(io.stdout, `imgflow console: showing the ${handle.data.where}; Ctrl-C stops.`);
    if (io.signal && !io.signal.aborted) await once(io.signal, 'abort');
    println(io.stdout, 'imgflow console: stopping');
    await handle.stop();
    return EXIT_OK;
  });
}
