import { Command, CommanderError, Option } from 'commander';
import { renderAsl, validateAsl } from './commands/asl.js';
import { type BackfillOptions, backfill } from './commands/backfill.js';
import { type ConsoleOptions, runConsole } from './commands/console.js';
import { runDev } from './commands/dev.js';
import { DEFAULT_CONCURRENCY, runImages } from './commands/run.js';
import { STATUSES, showStatus } from './commands/status.js';
import { makeSamples } from './commands/samples.js';
import { submitImage } from './commands/submit.js';
import { EXIT_USAGE } from './errors.js';
import type { Io } from './io.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];

/** The commander program; each action hands its options to a command function and records the exit code. */
export function buildProgram(io: Io, setExitCode: (code: number) => void): Command {
  const program = new Command('imgflow')
    .description('Process images through the imgflow workflow: locally on emulators, or against an AWS deployment.')
    .version('0.1.0')
    .configureOutput({ writeOut: (text) => io.stdout.write(text), writeErr: (text) => io.stderr.write(text) })
    .exitOverride();

  program
    .command('run')
    .description('run images (files or folders, recursively) through the workflow on the local runtime and download the renditions')
    .argument('<paths...>', 'image files or folders')
    .option('--recipe <file>', 'recipe JSON file (default: 320/1024/2048 px wide, AVIF + WebP + JPEG)')
    .option('--out <dir>', 'where renditions are written', 'out')
    .option('--concurrency <n>', 'executions in flight at once (1-64)', String(DEFAULT_CONCURRENCY))
    .option('--data <dir>', 'local state: uploaded objects and the job ledger', '.imgflow')
    .option('--limits <file>', 'image limits JSON file (maxPixels, maxBytes, acceptedFormats, ...)')
    .option('--console [port]', 'serve the web console while the run goes, and after it until Ctrl-C (default port 4580)')
    .action(async (paths: string[], options: { recipe?: string; out: string; concurrency: string; data: string; limits?: string; console?: boolean | string }) => {
      const outcome = await runImages({ inputs: paths, ...options }, io);
      setExitCode(outcome.exitCode);
    });

  program
    .command('backfill')
    .description('process every image already in a bucket (or a folder) through the workflow; the ledger skips what is done, so a re-run finishes an interrupted one')
    .argument('[source]', 'a folder (put into the local upload bucket without triggering), or s3://bucket/prefix')
    .option('--concurrency <n>', 'executions in flight at once (1-64)', String(DEFAULT_CONCURRENCY))
    .option('--data <dir>', 'local state: uploaded objects and the job ledger', '.imgflow')
    .option('--recipe <file>', 'recipe JSON file (default: 320/1024/2048 px wide, AVIF + WebP + JPEG)')
    .option('--limits <file>', 'image limits JSON file (maxPixels, maxBytes, acceptedFormats, ...)')
    .option('--dry-run', 'list the objects, what would run, and the modeled AWS cost; start nothing')
    .option('--changed-recipe', 'start only the objects whose recorded recipe differs from --recipe (without it, every object is started and the ledger skips the unchanged ones)')
    .option('--bench-results <file>', 'bench result to price --dry-run with (default: bench/results/latest.json here or above)')
    .option('--remote', 'start the deployed backfill state machine (a Distributed Map) and follow its Map Run')
    .option('--state-machine-arn <arn>', 'with --remote: the backfill state machine (default: $IMGFLOW_BACKFILL_STATE_MACHINE_ARN)')
    .option('--prefix <prefix>', 'with --remote: the key prefix to backfill (default: the prefix of an s3:// source, else all)')
    .option('--name <name>', 'with --remote: the execution name')
    .option('--interval <ms>', 'with --remote: time between polls of the Map Run', '2000')
    .action(async (source: string | undefined, options: Omit<BackfillOptions, 'source'>) => {
      const outcome = await backfill({ ...(source ? { source } : {}), ...options }, io);
      setExitCode(outcome.exitCode);
    });

  program
    .command('status')
    .description('show a job (by 32-hex job id), the jobs of a source key, or recent jobs by status')
    .argument('[job-or-key]', 'a job id, or a source key with or without uploads/')
    .option('--data <dir>', 'local state to read', '.imgflow')
    .addOption(new Option('--status <status>', 'only jobs with this status').choices(STATUSES.map(String)))
    .option('--limit <n>', 'jobs per status (1-1000)', '20')
    .option('--json', 'print JSON')
    .option('--remote', 'read a deployed ledger (DynamoDB) instead of the local one')
    .option('--table <name>', 'jobs table with --remote (default: $IMGFLOW_JOBS_TABLE)')
    .option('--region <region>', 'AWS region with --remote')
    .option('--endpoint-url <url>', 'DynamoDB endpoint with --remote (e.g. the one `imgflow dev` prints)')
    .option('--state-machine-arn <arn>', "with --remote: also show one job's execution timeline (default: $IMGFLOW_STATE_MACHINE_ARN)")
    .action(async (target: string | undefined, options: Omit<Parameters<typeof showStatus>[0], 'target'>) => {
      setExitCode(await showStatus({ ...(target ? { target } : {}), ...options }, io));
    });

  program
    .command('samples')
    .description('write photo-like sample images (generated, no third-party images) to try the pipeline on')
    .argument('[dir]', 'where to write them', 'samples')
    .action(async (dir: string) => {
      setExitCode(await makeSamples({ dir }, io));
    });

  const asl = program.command('asl').description('the workflow definition (Amazon States Language)');
  asl
    .command('render')
    .description('print the ASL template rendered with local ARNs')
    .option('--out <file>', 'write to a file instead of stdout')
    .option('--var <name=value>', 'template variable override, repeatable (e.g. validate_function_arn=arn:...)', collect, [])
    .action(async (options: { out?: string; var: string[] }) => {
      setExitCode(await renderAsl({ ...(options.out ? { out: options.out } : {}), vars: options.var }, io));
    });
  asl
    .command('validate')
    .description('validate the rendered template (or a definition file) and check every Task state has a local handler')
    .argument('[file]', 'an ASL JSON file')
    .option('--var <name=value>', 'template variable override, repeatable', collect, [])
    .action(async (file: string | undefined, options: { var: string[] }) => {
      setExitCode(await validateAsl({ ...(file ? { file } : {}), vars: options.var }, io));
    });

  program
    .command('dev')
    .description('run the pipeline locally on fixed ports until Ctrl-C; uploads to the upload bucket start workflows')
    .option('--data <dir>', 'local state', '.imgflow')
    .option('--s3-port <port>', 'S3 (s3rver) port', '4569')
    .option('--dynamodb-port <port>', 'DynamoDB (dynalite) port', '4570')
    .option('--sns-port <port>', 'SNS/SQS (fauxqs) port', '4571')
    .option('--recipe <file>', 'recipe JSON file')
    .option('--limits <file>', 'image limits JSON file')
    .option('--console-port <port>', 'the web console\'s port (0: a free one)', '4580')
    .option('--no-console', 'do not serve the web console')
    .action(async (options: Parameters<typeof runDev>[0]) => {
      setExitCode(await runDev(options, io));
    });

  program
    .command('console')
    .description('serve the web console on localhost: every job, its renditions, its timeline, totals, and uploads by drag and drop')
    .option('--data <dir>', 'local state to show (its runtime runs while the console does)', '.imgflow')
    .option('--port <port>', 'port on 127.0.0.1 (0: a free one)', '4580')
    .option('--recipe <file>', 'recipe JSON file for uploads from the page')
    .option('--limits <file>', 'image limits JSON file for uploads from the page')
    .option('--remote', 'show a deployed pipeline: its ledger (DynamoDB), renditions through presigned S3 URLs')
    .option('--table <name>', 'jobs table with --remote (default: $IMGFLOW_JOBS_TABLE)')
    .option('--bucket <bucket>', 'with --remote: the upload bucket, for uploads from the page')
    .option('--region <region>', 'AWS region with --remote')
    .option('--endpoint-url <url>', 'DynamoDB endpoint with --remote (e.g. the one `imgflow dev` prints)')
    .option('--s3-endpoint-url <url>', 'S3 endpoint with --remote')
    .action(async (options: ConsoleOptions) => {
      setExitCode(await runConsole(options, io));
    });

  program
    .command('submit')
    .description('upload one file to a deployment and follow its job (the ledger, and the execution with --state-machine-arn) until it ends')
    .argument('<file>', 'the image to upload')
    .requiredOption('--bucket <bucket>', 'the upload bucket')
    .option('--key <key>', 'object key (default: uploads/<file name>)')
    .option('--table <name>', 'jobs table (default: $IMGFLOW_JOBS_TABLE)')
    .option('--region <region>', 'AWS region (default: from the environment/profile)')
    .option('--endpoint-url <url>', 'S3 endpoint, and DynamoDB endpoint unless --dynamodb-endpoint-url is given')
    .option('--dynamodb-endpoint-url <url>', 'DynamoDB endpoint (the local emulators use a separate port)')
    .option('--timeout <seconds>', 'how long to wait for the job to end', '300')
    .option('--interval <ms>', 'time between ledger reads', '1000')
    .option(
      '--state-machine-arn <arn>',
      'also follow the execution (default: $IMGFLOW_STATE_MACHINE_ARN): Standard through Step Functions, Express through its CloudWatch Logs',
    )
    .action(async (file: string, options: Omit<Parameters<typeof submitImage>[0], 'file'>) => {
      const outcome = await submitImage({ file, ...options }, io);
      setExitCode(outcome.exitCode);
    });

  namedErrors(program, 'imgflow');
  return program;
}

/** Commander's usage errors in the CLI's one-line shape: `imgflow run: missing required argument 'paths'`. */
function namedErrors(command: Command, name: string): void {
  command.configureOutput({
    outputError: (text, write) => write(`${name}: ${text.replace(/^error: /, '')}`),
  });
  for (const sub of command.commands) namedErrors(sub, `${name} ${sub.name()}`);
}

/** Parses argv and runs a command; resolves to the exit code (commander's usage errors are 2). */
export async function main(argv: readonly string[], io: Io): Promise<number> {
  let exitCode = 0;
  const program = buildProgram(io, (code) => {
    exitCode = code;
  });
  try {
    await program.parseAsync([...argv], { from: 'user' });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return 0;
      return error.exitCode === 0 ? 0 : EXIT_USAGE;
    }
    io.stderr.write(`imgflow: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
  return exitCode;
}
