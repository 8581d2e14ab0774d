import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { JOBS_TABLE, LOCAL_CREDENTIALS, LOCAL_REGION, startEmulators } from '@imgflow/local-runtime';
import { type AwsClients, JobLedger, createClients, destroyClients, ensureJobsTable } from '@imgflow/pipeline';
import { UsageError } from './errors.js';
import { isLoopback, urlOption } from './io.js';

/** A ledger to read, and how to let go of what it needed. */
export interface LedgerHandle {
  ledger: JobLedger;
  where: string;
  close(): Promise<void>;
}

export interface RemoteOptions {
  table?: string;
  region?: string;
  endpointUrl?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * AWS clients for a command that talks to a deployment. A loopback endpoint is the local
 * emulators: they get the emulators' credentials (s3rver checks them) and a default region.
 */
export function remoteClients(options: { region?: string; s3?: string; dynamodb?: string }): AwsClients {
  const endpoints = { ...(options.s3 ? { s3: options.s3 } : {}), ...(options.dynamodb ? { dynamodb: options.dynamodb } : {}) };
  const local = Object.values(endpoints).some((url) => isLoopback(url));
  const region = options.region ?? (local ? LOCAL_REGION : undefined);
  return createClients({
    ...(region ? { region } : {}),
    ...(local ? { credentials: LOCAL_CREDENTIALS } : {}),
    ...(Object.keys(endpoints).length > 0 ? { endpoints } : {}),
  });
}

export function tableName(option: string | undefined, env: NodeJS.ProcessEnv | undefined): string {
  const name = option ?? env?.IMGFLOW_JOBS_TABLE;
  if (!name) throw new UsageError('no jobs table: give --table <name> or set IMGFLOW_JOBS_TABLE');
  return name;
}

export function openRemoteLedger(options: RemoteOptions): LedgerHandle {
  const table = tableName(options.table, options.env);
  const endpoint = urlOption('--endpoint-url', options.endpointUrl);
  const clients = remoteClients({ ...(options.region ? { region: options.region } : {}), ...(endpoint ? { dynamodb: endpoint } : {}) });
  return {
    ledger: new JobLedger(clients.dynamo, table),
    where: `DynamoDB table ${table}${endpoint ? ` at ${endpoint}` : ''}`,
    async close() {
      destroyClients(clients);
    },
  };
}

/**
 * The local ledger in a data directory. Only the emulators start (no table creation, topics
 * or workflow), and nothing is created when the directory does not exist.
 */
export async function openLocalLedger(dataDir: string): Promise<LedgerHandle | undefined> {
  const path = resolve(dataDir);
  if (!existsSync(resolve(path, 'dynamodb'))) return undefined;
  let emulators: Awaited<ReturnType<typeof startEmulators>>;
  try {
    emulators = await startEmulators({ dataDir: path, buckets: [] });
  } catch (error) {
    const message = (error as Error).message;
    const hint = /lock/i.test(message) ? ' (is `imgflow dev` running on it? then use --remote --endpoint-url with its DynamoDB endpoint)' : '';
    throw new Error(`cannot open the local ledger in ${dataDir}: ${message}${hint}`, { cause: error });
  }
  const clients = createClients({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, endpoints: emulators.endpoints, maxAttempts: 1 });
  try {
    // A data folder of an older imgflow has the table with other indexes: brought up to date, as `imgflow run` would.
    await ensureJobsTable(clients.dynamo, JOBS_TABLE, { create: false });
  } catch (error) {
    destroyClients(clients);
    await emulators.stop();
    throw new Error(`cannot open the local ledger in ${dataDir}: ${(error as Error).message}`, { cause: error });
  }
  return {
    ledger: new JobLedger(clients.dynamo, JOBS_TABLE),
    where: `local ledger in ${dataDir}`,
    async close() {
      destroyClients(clients);
      await emulators.stop();
    },
  };
}
