import { once } from 'node:events';
import { resolve } from 'node:path';
import { type ExecutionUpdate, LOCAL_CREDENTIALS, LOCAL_REGION, LocalStack } from '@imgflow/local-runtime';
import { jobIdFor, objectFromEvent } from '@imgflow/pipeline';
import { LocalConsoleData } from '../console/data.js';
import { ExecutionRecorder } from '../console/history.js';
import { type ConsoleServer, startConsoleServer } from '../console/server.js';
import { EXIT_OK } from '../errors.js';
import { faultsFromEnv, planFaults } from '../faults.js';
import { type Io, integerOption, println, withExitCode } from '../io.js';
import { formatDuration, plural } from '../ui/format.js';
import { portOption } from './console.js';
import { DEFAULT_GRACE_MS, STOP_TIMEOUT_MS, loadLimits, loadRecipe, within } from './run.js';

export interface DevOptions {
  data?: string;
  /** Fixed ports; 0 picks a free one (tests). */
  s3Port?: string | number;
  dynamodbPort?: string | number;
  snsPort?: string | number;
  recipe?: string;
  limits?: string;
  cwd?: string;
  /** Serve the web console too (the command does by default; `--no-console` turns it off). */
  console?: boolean;
  /** The console's port (default 4580; 0 picks a free one). */
  consolePort?: string | number;
}

export interface DevHandle {
  stack: LocalStack;
  endpoints: { s3: string; dynamodb: string; sns: string };
  /** The web console over this stack, when asked for. */
  console?: ConsoleServer;
  /**
   * Stops taking uploads, gives running executions `graceMs` (default DEFAULT_GRACE_MS) to
   * finish, stops (aborts) those still running, stops the emulators. Resolves with how many
   * executions were stopped.
   */
  stop(graceMs?: number): Promise<number>;
}

export const DEV_PORTS = { s3: 4569, dynamodb: 4570, sns: 4571 } as const;

function timestamp(): string {
  return new Date().toISOString().slice(11, 19);
}

/**
 * The pipeline as a local service: emulators on fixed loopback ports, the upload trigger on,
 * each execution logged as it starts and ends. Anything that speaks S3 (aws s3 cp, an SDK,
 * `imgflow submit --endpoint-url`) can drive it.
 */
export async function startDev(options: DevOptions, io: Io): Promise<DevHandle> {
  const cwd = options.cwd ?? process.cwd();
  const ports = {
    s3: integerOption('--s3-port', options.s3Port, DEV_PORTS.s3, 0, 65535),
    dynamodb: integerOption('--dynamodb-port', options.dynamodbPort, DEV_PORTS.dynamodb, 0, 65535),
    sns: integerOption('--sns-port', options.snsPort, DEV_PORTS.sns, 0, 65535),
  };
  const recipe = await loadRecipe(options.recipe, cwd);
  const limits = await loadLimits(options.limits, cwd);
  const dataDir = resolve(cwd, options.data ?? '.imgflow');
  const faults = faultsFromEnv(io.env);
  const consolePort = options.console ? portOption(options.consolePort) : undefined;
  const stack = await LocalStack.start({ dataDir, ports, ...(recipe ? { recipe } : {}), ...(limits ? { limits } : {}) });
  planFaults(stack, faults);
  // Every execution's history goes to the data folder: the console's timelines.
  const recorder = new ExecutionRecorder(dataDir);
  stack.enableTrigger(recorder.listener);
  let consoleServer: ConsoleServer | undefined;
  if (consolePort !== undefined) {
    try {
      consoleServer = await startConsoleServer({ data: new LocalConsoleData(stack, dataDir, recorder), port: consolePort });
    } catch (error) {
      // The pipeline is what dev is for: it runs without its console.
      println(io.stderr, `imgflow dev: no console: ${(error as Error).message}`);
    }
  }
  const { endpoints } = stack.emulators;
  const pendingLogs = new Set<Promise<void>>();

  const logFinished = async (update: Extract<ExecutionUpdate, { type: 'finished' }>) => {
    const { report } = update;
    const key = report.event.detail.object.key;
    let status: string = report.status;
    let detail = report.error ? ` ${report.error.name}: ${report.error.cause}` : '';
    try {
      const record = await stack.ledger.get(jobIdFor(objectFromEvent(report.event)));
      const duplicate = (report.output as { outcome?: string } | undefined)?.outcome === 'duplicate';
      // An execution stopped past every Catch (TIMED_OUT, States.DataLimitExceeded) left its job
      // unfinished: the execution's own status says more than the record's.
      const stoppedEarly = report.status === 'TIMED_OUT' || report.error?.name === 'States.DataLimitExceeded';
      if (record && !stoppedEarly) {
        status = record.status;
        if (record.status === 'SUCCEEDED') detail = ` ${plural(record.outputs?.length ?? 0, 'rendition')}${record.cacheHit ? ' (cached)' : ''}`;
        else if (record.reasonCode) detail = ` ${record.reasonCode}: ${record.reasonMessage ?? ''}`;
        if (duplicate) detail += ' (earlier run)';
      }
    } catch {
      // The ledger may be closing (Ctrl-C): the execution's own status is still worth a line.
    }
    println(io.stdout, `${timestamp()} finished ${key} ${status}${detail} in ${formatDuration(report.durationMs)}`);
  };

  stack.enableTrigger((update) => {
    if (update.type === 'started') println(io.stdout, `${timestamp()} started  ${update.event.detail.object.key}`);
    if (update.type === 'finished') {
      const log = logFinished(update);
      pendingLogs.add(log);
      log.finally(() => pendingLogs.delete(log)).catch(() => undefined);
    }
  });

  // The sweeper's schedule, as deployed (the contract's rate): a job whose execution died (an
  // Express time-out, a payload over the limit) is ended FAILED and notified once its lease expires.
  stack.startSweeper(undefined, (result) => {
    if ('error' in result) println(io.stderr, `${timestamp()} sweep failed: ${result.error instanceof Error ? result.error.message : String(result.error)}`);
    else if (result.summary.abandoned.length + result.summary.notified.length > 0) {
      println(io.stdout, `${timestamp()} swept    ${plural(result.summary.abandoned.length, 'abandoned job')} ended FAILED, ${plural(result.summary.notified.length, 'missed notification')} sent`);
    }
  });

  const sample = `AWS_ACCESS_KEY_ID=${LOCAL_CREDENTIALS.accessKeyId} AWS_SECRET_ACCESS_KEY=${LOCAL_CREDENTIALS.secretAccessKey} aws s3 cp photo.jpg s3://${stack.uploadBucket}/uploads/photo.jpg --endpoint-url ${endpoints.s3} --region ${LOCAL_REGION}`;
  for (const line of [
    `imgflow dev: the pipeline runs locally; data in ${options.data ?? '.imgflow'}`,
    `  S3        ${endpoints.s3}  uploads: ${stack.uploadBucket}  outputs: ${stack.config.outputBucket}`,
    `  DynamoDB  ${endpoints.dynamodb}  jobs table: ${stack.config.jobsTable}`,
    `  SNS       ${endpoints.sns}  topics: ${stack.config.successTopicArn}, ${stack.config.errorTopicArn}`,
    `  region ${LOCAL_REGION}; S3 takes the credentials ${LOCAL_CREDENTIALS.accessKeyId}/${LOCAL_CREDENTIALS.secretAccessKey}, the others any`,
    'Upload to start a workflow:',
    `  ${sample}`,
    `  imgflow submit photo.jpg --bucket ${stack.uploadBucket} --table ${stack.config.jobsTable} --endpoint-url ${endpoints.s3} --dynamodb-endpoint-url ${endpoints.dynamodb}`,
    `  imgflow status --remote --table ${stack.config.jobsTable} --endpoint-url ${endpoints.dynamodb}`,
    ...(consoleServer ? [`Console: ${consoleServer.url}  (open it: xdg-open ${consoleServer.url}, or open ${consoleServer.url} on macOS)`] : []),
    'Ctrl-C stops.',
  ]) {
    println(io.stdout, line);
  }

  let stopping: Promise<number> | undefined;
  return {
    stack,
    endpoints: { s3: endpoints.s3, dynamodb: endpoints.dynamodb, sns: endpoints.sns },
    ...(consoleServer ? { console: consoleServer } : {}),
    stop(graceMs = DEFAULT_GRACE_MS) {
      stopping ??= (async () => {
        await consoleServer?.close();
        stack.disableTrigger();
        await within(stack.whenIdle(), graceMs);
        const aborted = stack.runner.abortAll('imgflow dev was stopped');
        await within(Promise.allSettled([...pendingLogs]), STOP_TIMEOUT_MS);
        await within(recorder.flush(), STOP_TIMEOUT_MS);
        const stopped = await within(stack.stop().then(() => true), STOP_TIMEOUT_MS);
        if (!stopped) println(io.stdout, `imgflow dev: the emulators did not stop within ${STOP_TIMEOUT_MS / 1000}s; leaving them`);
        return aborted;
      })();
      return stopping;
    },
  };
}

/** `imgflow dev`: startDev, then wait for SIGINT/SIGTERM (io.signal) and stop cleanly. */
export async function runDev(options: DevOptions, io: Io): Promise<number> {
  return withExitCode('dev', io, async () => {
    const handle = await startDev(options, io);
    if (io.signal && !io.signal.aborted) await once(io.signal, 'abort');
    const running = handle.stack.runner.runningCount;
    println(
      io.stdout,
      running > 0
        ? `imgflow dev: stopping: ${plural(running, 'execution')} running get ${DEFAULT_GRACE_MS / 1000}s to finish (Ctrl-C again to quit at once)`
        : 'imgflow dev: stopping',
    );
    const aborted = await handle.stop();
    if (aborted > 0) println(io.stdout, `imgflow dev: stopped ${plural(aborted, 'execution')} still running; a later run on the same --data takes their jobs over`);
    return EXIT_OK;
  });
}
