import { readFile } from 'node:fs/promises';
import { basename, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { DescribeExecutionCommand, SFNClient } from '@aws-sdk/client-sfn';

import { type JobRecord, JobLedger, type ObjectRef, TERMINAL_STATUSES, destroyClients, jobIdFor } from '@imgflow/pipeline';
import { EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, UsageError } from '../errors.js';
import { UPLOAD_PREFIX } from '../files.js';
import { type Io, integerOption, println, urlOption, withExitCode } from '../io.js';
import { remoteClients, tableName } from '../ledger.js';
import { formatBytes, truncate } from '../ui/format.js';
import { renderTable } from '../ui/table.js';

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
  stateMachineArn?: string;
  cwd?: string;
}

export interface SubmitOutcome {
  exitCode: number;
  jobId?: string;
  record?: JobRecord;
}

function outputsTable(io: Io, record: JobRecord): string {
  return renderTable(
    io,
    { head: ['Rendition', 'Format', 'Size', 'Bytes', 'Key'] },
    (record.outputs ?? []).map((output) => [output.rendition, output.format, `${output.width}×${output.height}`, formatBytes(output.bytes), output.key]),
  );
}

async function describeExecution(options: SubmitOptions, record: JobRecord, io: Io): Promise<void> {
  const sfn = new SFNClient({ ...(options.region ? { region: options.region } : {}) });
  try {
    const execution = await sfn.send(new DescribeExecutionCommand({ executionArn: record.executionId }));
    println(io.stdout, `execution ${record.executionId}: ${execution.status ?? 'unknown'}${execution.error ? ` (${execution.error})` : ''}`);
  } catch (error) {
    println(io.stderr, `imgflow submit: could not describe execution ${record.executionId}: ${(error as Error).message}`);
  } finally {
    sfn.destroy();
  }
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

    const clients = remoteClients({
      ...(options.region ? { region: options.region } : {}),
      ...(s3Endpoint ? { s3: s3Endpoint } : {}),
      ...(dynamoEndpoint ? { dynamodb: dynamoEndpoint } : {}),
    });
    try {
      const put = await clients.s3.send(new PutObjectCommand({ Bucket: options.bucket, Key: key, Body: body, ContentLength: body.length }));
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

      const ledger = new JobLedger(clients.dynamo, table);
      const deadline = Date.now() + timeoutSeconds * 1000;
      let last: string | undefined;
      let record: JobRecord | undefined;
      for (;;) {
        record = await ledger.get(jobId);
        const status = record?.status ?? 'WAITING';
        if (status !== last) {
          println(io.stdout, `${new Date().toISOString().slice(11, 19)} ${status}${status === 'WAITING' ? ' (no ledger record yet)' : ''}`);
          last = status;
        }
        if (record && TERMINAL_STATUSES.includes(record.status)) break;
        if (io.signal?.aborted) {
          println(io.stderr, `imgflow submit: interrupted; the job goes on: imgflow status ${jobId} --remote --table ${table}`);
          return EXIT_INTERRUPTED;
        }
        if (Date.now() >= deadline) {
          println(io.stderr, `imgflow submit: timed out after ${timeoutSeconds}s waiting for job ${jobId} (last status: ${status})`);
          return EXIT_FAILED;
        }
        await sleep(Math.min(interval, Math.max(0, deadline - Date.now())), undefined, io.signal ? { signal: io.signal } : {}).catch(() => undefined);
      }
      outcome.record = record;
      if (record.status === 'SUCCEEDED') {
        println(io.stdout, `${record.outputs?.length ?? 0} outputs in s3://${record.outputBucket ?? '?'}${record.cacheHit ? ' (content cache hit)' : ''}`);
        println(io.stdout, outputsTable(io, record));
      } else {
        println(io.stdout, `${record.status}: ${truncate(`${record.reasonCode ?? 'UNKNOWN'}: ${record.reasonMessage ?? ''}`, 400)}`);
      }
      if (options.stateMachineArn && record.executionId) await describeExecution(options, record, io);
      return record.status === 'SUCCEEDED' ? EXIT_OK : EXIT_FAILED;
    } finally {
      destroyClients(clients);
    }
  });
  return outcome;
}

