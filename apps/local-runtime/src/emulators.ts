import { once } from 'node:events';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import dynalite from 'dynalite';
import { type FauxqsServer, startFauxqs } from 'fauxqs';
import S3rver from 's3rver';
import { type StrictS3, makeStrict } from './s3/strict.js';

/** Where the emulators listen, and how to stop them. */
export interface EmulatorEndpoints {
  s3: string;
  dynamodb: string;
  sns: string;
  sqs: string;
}

export interface Emulators {
  endpoints: EmulatorEndpoints;
  /** The in-process S3 emulator (its events drive the trigger); absent for emulators in another process. */
  s3rver?: S3rver;
  /** Its strict layer (versions, an optional authorizer); absent for emulators in another process. */
  strictS3?: StrictS3;
  /** Data directory (persistent when given, a temporary one otherwise). */
  dataDir: string;
  stop(): Promise<void>;
}

export interface EmulatorOptions {
  /** Keep S3 objects and the ledger here across runs. Absent: a temporary directory removed on stop. */
  dataDir?: string;
  /** Fixed ports (imgflow dev); 0 or absent picks free ones. */
  ports?: { s3?: number; dynamodb?: number; sns?: number };
  host?: string;
  buckets: string[];
}

/** Credentials s3rver accepts; the other emulators accept anything. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

/**
 * s3rver 3.7.1 removes emptied folders after a delete without any locking, so two deletes in
 * one folder at once (DeleteObjects deletes its keys concurrently) race: one rmdir fails and
 * the request answers 500. S3 has no folders; here the store's deletes run one at a time.
 */
function serializeDeletes(server: S3rver): void {
  const store = (server as unknown as { store: { deleteObject: (bucket: string, key: string) => Promise<void> } }).store;
  const deleteObject = store.deleteObject.bind(store);
  let queue: Promise<unknown> = Promise.resolve();
  store.deleteObject = (bucket, key) => {
    const next = queue.then(() => deleteObject(bucket, key));
    queue = next.catch(() => undefined);
    return next;
  };
}

async function listen(server: Server, port: number, host: string): Promise<number> {
  server.listen(port, host);
  await once(server, 'listening');
  return (server.address() as AddressInfo).port;
}

/**
 * Starts s3rver (S3, made strict: src/s3/strict.ts), dynalite (DynamoDB) and fauxqs (SNS → SQS)
 * on loopback. They speak the real wire protocols, so the handlers' SDK v3 clients are the ones
 * that run on AWS. Bucket versioning is set through the S3 API (PutBucketVersioning), as on AWS.
 */
export async function startEmulators(options: EmulatorOptions): Promise<Emulators> {
  const host = options.host ?? '127.0.0.1';
  const temporary = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'imgflow-')));
  await mkdir(join(dataDir, 's3'), { recursive: true });
  await mkdir(join(dataDir, 'dynamodb'), { recursive: true });

  const s3 = new S3rver({
    address: host,
    port: options.ports?.s3 ?? 0,
    silent: true,
    directory: join(dataDir, 's3'),
    configureBuckets: options.buckets.map((name) => ({ name })),
  });
  // As strict as S3 where imgflow depends on it (If-Match, versions, DeleteObjects errors, tags,
  // copy sources, AWS-shaped event keys): src/s3/strict.ts. Set up before run(), which composes
  // s3rver's middleware.
  const strictS3 = await makeStrict(s3, { versionsDir: join(dataDir, 's3-versions') });
  const s3Address = await s3.run();
  serializeDeletes(s3);

  const dynamo = dynalite({ path: join(dataDir, 'dynamodb'), createTableMs: 0, deleteTableMs: 0, updateTableMs: 0 });
  let dynamoPort: number;
  let faux: FauxqsServer;
  try {
    dynamoPort = await listen(dynamo, options.ports?.dynamodb ?? 0, host);
    faux = await startFauxqs({ port: options.ports?.sns ?? 0, host, logger: false });
  } catch (error) {
    await s3.close();
    dynamo.close();
    throw error;
  }

  let stopped = false;
  return {
    endpoints: {
      s3: `http://${host}:${s3Address.port}`,
      dynamodb: `http://${host}:${dynamoPort}`,
      sns: `http://${host}:${faux.port}`,
      sqs: `http://${host}:${faux.port}`,
    },
    s3rver: s3,
    strictS3,
    dataDir,
    async stop() {
      if (stopped) return;
      stopped = true;
      dynamo.closeAllConnections?.();
      await Promise.allSettled([
        s3.close(),
        new Promise<void>((resolve) => dynamo.close(() => resolve())),
        faux.stop(),
      ]);
      if (temporary) await rm(dataDir, { recursive: true, force: true });
    },
  };
}
