import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { type JobRecord, JobLedger, type ObjectRef, TERMINAL_STATUSES, destroyClients, jobIdFor } from '@imgflow/pipeline';
import { awsCall } from '../aws.js';
import { EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, UsageError } from '../errors.js';
import { UPLOAD_PREFIX } from '../files.js';
import { type Workflow, followJob, openWorkflow, printExecution, stateMachineArnOption } from '../follow.js';
import { type Io, integerOption, println, urlOption, withExitCode } from '../io.js';
import { remoteClients, tableName } from '../ledger.js';
import { formatBytes, truncate } from '../ui/format.js';
import { outputsTable } from './status.js';
import type { Timeline } from '../workflow.js';

export interface SubmitOptions {
  file: string;
  bucket?: string;
  /** Object key (default uploads/<base name>). */
  key?: string;
  table?: string;
  region?: string;
  /** S3 endpoint, and DynamoDB's unless dynamodbEndpointUrl is given (one gateway serves both). */
  endpointUrl?: string;
  /** DynamoDB endpoint when it differs from S3's (the local emulators listen on separate ports). */
  dynamodbEndpointUrl?: string;
  /** Seconds to wait for a terminal status (default 300). */
  timeout?: string | number;
  /** Milliseconds between ledger reads (default 1000). */
  interval?: string | number;
  /**
   * The deployment's state machine (default $IMGFLOW_STATE_MACHINE_ARN): its execution is
   * followed too, Standard through DescribeExecution and its history, Express through its logs.
   */
  stateMachineArn?: string;
  cwd?: string;
}

export interface SubmitOutcome {
  exitCode: number;
  jobId?: string;
  record?: JobRecord;
  /** The execution's timeline, when the state machine was given and AWS could show one. */
  timeline?: Timeline;
}

/**
 * `imgflow submit`: uploads one file to a deployment's upload bucket, then follows its job in
 * the ledger (the job id is derived from the object's identity, as the workflow derives it)
 * until it is SUCCEEDED, REJECTED or FAILED.
 */
export async function submitImage(options: SubmitOptions, io: Io): Promise<SubmitOutcome> {
  const outcome: SubmitOutcome = { exitCode: EXIT_FAILED };
  outcome.exitCode = await withExitCode('submit', io, async () => {
    if (!options.bucket) throw new UsageError('--bucket <upload bucket> is required');
    const table = tableName(options.table, io.env);
    const timeoutSeconds = integerOption('--timeout', options.timeout, 300, 1, 86_400);
    const interval = integerOption('--interval', options.interval, 1000, 10, 60_000);
    const s3Endpoint = urlOption('--endpoint-url', options.endpointUrl);
    const dynamoEndpoint = urlOption('--dynamodb-endpoint-url', options.dynamodbEndpointUrl) ?? s3Endpoint;
    const key = options.key ?? `${UPLOAD_PREFIX}${basename(options.file)}`;
    if (key.length === 0 || Buffer.byteLength(key) > 1024) throw new UsageError(`--key must be 1 to 1024 bytes, got ${JSON.stringify(key)}`);
    let body: Buffer;
    try {
      body = await readFile(resolve(options.cwd ?? process.cwd(), options.file));
    } catch (error) {
      throw new UsageError(`cannot read ${options.file}: ${(error as Error).message}`);
    }

    const stateMachineArn = stateMachineArnOption(options.stateMachineArn, io.env);

    // The state machine first: a missing permission or a wrong ARN is said before anything is uploaded.
    let workflow: Workflow | undefined;
    if (stateMachineArn) workflow = await openWorkflow(stateMachineArn);
    const clients = remoteClients({
      ...(options.region ? { region: options.region } : {}),
      ...(s3Endpoint ? { s3: s3Endpoint } : {}),
      ...(dynamoEndpoint ? { dynamodb: dynamoEndpoint } : {}),
    });
    try {
      const put = await awsCall('s3:PutObject', `s3://${options.bucket}/${key}`, () =>
        clients.s3.send(new PutObjectCommand({ Bucket: options.bucket, Key: key, Body: body, ContentLength: body.length })),
      );
      const ref: ObjectRef = {
        bucket: options.bucket,
        key,
        etag: (put.ETag ?? '').replace(/"/g, ''),
        size: body.length,
        ...(put.VersionId && put.VersionId !== 'null' ? { versionId: put.VersionId } : {}),
      };
      const jobId = jobIdFor(ref);
      outcome.jobId = jobId;
      println(io.stdout, `uploaded s3://${options.bucket}/${key} (${formatBytes(body.length)}); job ${jobId}`);
      if (workflow) println(io.stdout, `state machine ${workflow.info.name}: ${workflow.info.type}, execution logging ${workflow.info.logLevel}`);

      const followed = await followJob({
        command: 'submit',
        ledger: new JobLedger(clients.dynamo, table),
        jobId,
        deadline: Date.now() + timeoutSeconds * 1000,
        interval,
        io,
        ...(workflow ? { workflow } : {}),
        resumeHint: `imgflow status ${jobId} --remote --table ${table}${stateMachineArn ? ` --state-machine-arn ${stateMachineArn}` : ''}`,
      });
      const record = followed.record;
      if (record) outcome.record = record;
      if (followed.timeline) outcome.timeline = followed.timeline;
      if (followed.end === 'interrupted') return EXIT_INTERRUPTED;
      if (followed.end === 'timeout' || !record) {
        println(io.stderr, `imgflow submit: timed out after ${timeoutSeconds}s waiting for job ${jobId} (last status: ${record?.status ?? 'WAITING'})`);
        printExecution(io, record, followed.timeline, followed.tracker?.source);
        return EXIT_FAILED;
      }
      if (record.status === 'SUCCEEDED') {
        println(io.stdout, `${record.outputs?.length ?? 0} outputs in s3://${record.outputBucket ?? '?'}${record.cacheHit ? ' (content cache hit)' : ''}`);
        println(io.stdout, outputsTable(io, record));
      } else if (TERMINAL_STATUSES.includes(record.status)) {
        println(io.stdout, `${record.status}: ${truncate(`${record.reasonCode ?? 'UNKNOWN'}: ${record.reasonMessage ?? ''}`, 400)}`);
      }
      printExecution(io, record, followed.timeline, followed.tracker?.source);
      return record.status === 'SUCCEEDED' ? EXIT_OK : EXIT_FAILED;
    } finally {
      destroyClients(clients);
      workflow?.close();
    }
  });
  return outcome;
}

