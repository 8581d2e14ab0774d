import { resolve } from 'node:path';
import type { JobRecord, JobStatus, OutputRecord } from '@imgflow/pipeline';
import { EXIT_FAILED, EXIT_OK, UsageError } from '../errors.js';
import { UPLOAD_PREFIX } from '../files.js';
import { type Io, integerOption, println, withExitCode } from '../io.js';
import { AwsCallError, awsCall } from '../aws.js';
import { type Workflow, openWorkflow, printExecution, readExecution, stateMachineArnOption } from '../follow.js';
import { type LedgerHandle, openLocalLedger, openRemoteLedger } from '../ledger.js';
import { formatBytes, formatDuration, truncate } from '../ui/format.js';
import { renderRecord, renderTable } from '../ui/table.js';

export interface StatusOptions {
  /** A 32-hex job id, or a source key (with or without `uploads/`); absent: recent jobs by status. */
  target?: string;
  data?: string;
  status?: string;
  json?: boolean;
  limit?: string | number;
  remote?: boolean;
  table?: string;
  region?: string;
  endpointUrl?: string;
  /** With --remote: the deployment's state machine (default $IMGFLOW_STATE_MACHINE_ARN); one job's execution timeline is shown too. */
  stateMachineArn?: string;
  cwd?: string;
}

export const STATUSES: readonly JobStatus[] = ['PENDING', 'PROCESSING', 'SUCCEEDED', 'REJECTED', 'FAILED'];
const JOB_ID = /^[0-9a-f]{32}$/i;

function statusOption(value: string | undefined): JobStatus | undefined {
  if (value === undefined) return undefined;
  const status = value.toUpperCase() as JobStatus;
  if (!STATUSES.includes(status)) throw new UsageError(`--status must be one of ${STATUSES.join(', ')}, got ${JSON.stringify(value)}`);
  return status;
}

/** The keys a user may mean: as given, and with/without the upload prefix. */
export function candidateKeys(key: string): string[] {
  const bare = key.startsWith(UPLOAD_PREFIX) ? key.slice(UPLOAD_PREFIX.length) : key;
  return [...new Set([key, `${UPLOAD_PREFIX}${bare}`, bare])].filter((candidate) => candidate.length > 0);
}

function reason(record: JobRecord): string {
  return record.reasonCode ? `${record.reasonCode}: ${record.reasonMessage ?? ''}` : '';
}

function totalMillis(record: JobRecord): number | undefined {
  const values = Object.values(record.timings ?? {}).filter((value): value is number => typeof value === 'number');
  return values.length > 0 ? values.reduce((sum, value) => sum + value, 0) : undefined;
}

export function recordDetail(io: Io, record: JobRecord): string {
  const entries: Array<[string, string]> = [
    ['job id', record.jobId],
    ['status', `${record.status}${record.cacheHit ? ' (cached)' : ''}`],
    ['source', `s3://${record.sourceBucket}/${record.sourceKey}`],
    ['size', formatBytes(record.size)],
  ];
  if (record.format) entries.push(['image', `${record.format} ${record.width ?? '?'}×${record.height ?? '?'}`]);
  if (record.reasonCode) entries.push(['reason', truncate(reason(record), 400)]);
  if (record.outputs) entries.push(['outputs', `${record.outputs.length} in s3://${record.outputBucket ?? '?'}`]);
  const millis = totalMillis(record);
  if (millis !== undefined) entries.push(['step time', formatDuration(millis)]);
  entries.push(['execution', record.executionId], ['attempts', String(record.attempts ?? 1)], ['created', record.createdAt], ['updated', record.updatedAt]);
  let text = renderRecord(io, entries);
  if (record.outputs && record.outputs.length > 0) text += `\n${outputsTable(io, record)}`;
  return text;
}

/** A job's outputs, one row each; with a Quality column when a format's quality was 'auto' (the quality chosen and its score). */
export function outputsTable(io: Io, record: JobRecord): string {
  const outputs = record.outputs ?? [];
  const auto = outputs.some((output) => output.autoQuality);
  const quality = (output: OutputRecord) => {
    const choice = output.autoQuality;
    if (!choice) return '';
    return `q${choice.quality} · ${choice.metric.toUpperCase()} ${choice.score.toFixed(3)}${choice.met ? '' : ` < ${choice.target}`}`;
  };
  return renderTable(
    io,
    { head: ['Rendition', 'Format', 'Size', 'Bytes', ...(auto ? ['Quality'] : []), 'Key'] },
    outputs.map((output) => [output.rendition, output.format, `${output.width}×${output.height}`, formatBytes(output.bytes), ...(auto ? [quality(output)] : []), output.key]),
  );
}

export function recordsTable(io: Io, records: readonly JobRecord[]): string {
  return renderTable(
    io,
    { head: ['Job id', 'Status', 'Source key', 'Renditions', 'Updated', 'Reason'], maxWidths: [undefined, undefined, 48], wrapLast: 30 },
    records.map((record) => [
      record.jobId,
      record.status,
      record.sourceKey,
      record.outputs ? String(record.outputs.length) : '-',
      record.updatedAt,
      truncate(reason(record), 200),
    ]),
  );
}

async function openLedger(options: StatusOptions, io: Io, cwd: string): Promise<LedgerHandle | undefined> {
  if (options.remote) {
    return openRemoteLedger({
      ...(options.table ? { table: options.table } : {}),
      ...(options.region ? { region: options.region } : {}),
      ...(options.endpointUrl ? { endpointUrl: options.endpointUrl } : {}),
      ...(io.env ? { env: io.env } : {}),
    });
  }
  if (options.table || options.endpointUrl || options.stateMachineArn) throw new UsageError('--table, --endpoint-url and --state-machine-arn need --remote');
  return openLocalLedger(resolve(cwd, options.data ?? '.imgflow'));
}

/** A ledger read; with --remote, a denied or unconfigured AWS call is explained (see explainAwsError). */
function ledgerCall<T>(options: StatusOptions, read: () => Promise<T>, action: string): Promise<T> {
  return options.remote ? awsCall(action, `table ${options.table ?? 'of $IMGFLOW_JOBS_TABLE'}`, read) : read();
}

/**
 * One job: its record and, with --remote and a state machine, its execution's timeline (Standard:
 * DescribeExecution and GetExecutionHistory; Express: the state machine's CloudWatch Logs).
 */
async function showOne(options: StatusOptions, io: Io, record: JobRecord): Promise<number> {
  const stateMachineArn = options.remote ? stateMachineArnOption(options.stateMachineArn, io.env) : undefined;
  if (!stateMachineArn) {
    println(io.stdout, options.json ? JSON.stringify(record, null, 2) : recordDetail(io, record));
    return EXIT_OK;
  }
  if (options.json) {
    const workflow = await openWorkflow(stateMachineArn);
    try {
      const execution = await readExecution(workflow, record);
      println(io.stdout, JSON.stringify({ record, workflow: workflow.info, execution: execution.timeline ?? null, notes: execution.notes }, null, 2));
      return EXIT_OK;
    } finally {
      workflow.close();
    }
  }
  // The record first: it stands whatever AWS says about the execution.
  println(io.stdout, recordDetail(io, record));
  let workflow: Workflow | undefined;
  try {
    workflow = await openWorkflow(stateMachineArn);
    println(io.stdout, `state machine ${workflow.info.name}: ${workflow.info.type}, execution logging ${workflow.info.logLevel}`);
    const execution = await readExecution(workflow, record);
    for (const note of execution.notes) println(io.stderr, `imgflow status: ${note}`);
    printExecution(io, record, execution.timeline, execution.source);
    return EXIT_OK;
  } catch (error) {
    println(io.stderr, `imgflow status: cannot read the execution: ${(error as Error).message}`);
    return EXIT_FAILED;
  } finally {
    workflow?.close();
  }
}

function isMissingTable(error: unknown): boolean {
  if (error instanceof AwsCallError) return error.action.startsWith('dynamodb:') && (error.cause as Error | undefined)?.name === 'ResourceNotFoundException';
  return error instanceof Error && error.name === 'ResourceNotFoundException';
}

/** `imgflow status`: one job (by id), the jobs of one source key, or recent jobs by status. */
export async function showStatus(options: StatusOptions, io: Io): Promise<number> {
  return withExitCode('status', io, async () => {
    const cwd = options.cwd ?? process.cwd();
    const status = statusOption(options.status);
    const limit = integerOption('--limit', options.limit, 20, 1, 1000);
    const handle = await openLedger(options, io, cwd);
    if (!handle) {
      println(io.stderr, `imgflow status: no local jobs in ${options.data ?? '.imgflow'} (run \`imgflow run\` first, or give --data)`);
      return EXIT_FAILED;
    }
    try {
      const { ledger } = handle;
      if (options.target && JOB_ID.test(options.target)) {
        const record = await ledgerCall(options, () => ledger.get((options.target as string).toLowerCase()), 'dynamodb:GetItem');
        if (!record) {
          println(io.stderr, `imgflow status: no job ${options.target} in the ${handle.where}`);
          return EXIT_FAILED;
        }
        return showOne(options, io, record);
      }
      if (options.target) {
        const found = new Map<string, JobRecord>();
        for (const key of candidateKeys(options.target)) {
          for (const record of await ledgerCall(options, () => ledger.listBySourceKey(key, limit), 'dynamodb:Query')) found.set(record.jobId, record);
        }
        const records = [...found.values()]
          .filter((record) => !status || record.status === status)
          .sort((a, b) => (a.updatedAt < b.updatedAt ? 1 : -1));
        if (records.length === 0) {
          println(io.stderr, `imgflow status: no job for key ${options.target} in the ${handle.where}`);
          return EXIT_FAILED;
        }
        const wantsExecution = options.remote === true && stateMachineArnOption(options.stateMachineArn, io.env) !== undefined;
        // --json by key stays a list, unless the one job's execution is asked for too.
        if (records.length === 1 && (wantsExecution || !options.json)) return showOne(options, io, records[0] as JobRecord);
        if (options.json) println(io.stdout, JSON.stringify(records, null, 2));
        else println(io.stdout, recordsTable(io, records));
        if (wantsExecution) {
          println(io.stderr, `imgflow status: ${records.length} jobs for ${options.target}: give one job id for its execution timeline`);
        }
        return EXIT_OK;
      }
      const byStatus: Partial<Record<JobStatus, JobRecord[]>> = {};
      for (const each of status ? [status] : STATUSES) byStatus[each] = await ledgerCall(options, () => ledger.listByStatus(each, limit), 'dynamodb:Query');
      if (options.json) {
        println(io.stdout, JSON.stringify(byStatus, null, 2));
        return EXIT_OK;
      }
      const records = Object.values(byStatus).flat();
      if (records.length === 0) {
        println(io.stdout, `no jobs${status ? ` with status ${status}` : ''} in the ${handle.where}`);
        return EXIT_OK;
      }
      for (const [each, list] of Object.entries(byStatus)) {
        if (!list || list.length === 0) continue;
        println(io.stdout, `${each} (${list.length === limit ? `latest ${limit}` : list.length})`);
        println(io.stdout, recordsTable(io, list));
      }
      return EXIT_OK;
    } catch (error) {
      if (isMissingTable(error)) {
        println(io.stderr, `imgflow status: the ${handle.where} has no jobs table yet`);
        return EXIT_FAILED;
      }
      throw error;
    } finally {
      await handle.close();
    }
  });
}
