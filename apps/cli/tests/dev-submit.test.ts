import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { JOBS_TABLE, LOCAL_CREDENTIALS, LOCAL_REGION, OUTPUT_BUCKET, UPLOAD_BUCKET } from '@imgflow/local-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevHandle, startDev } from '../src/commands/dev.js';
import { showStatus } from '../src/commands/status.js';
import { submitImage } from '../src/commands/submit.js';
import { type CapturedIo, captureIo, spawnCli, tempDir, writeImage } from './helpers.js';

let root: { path: string; remove: () => Promise<void> };
let dev: DevHandle;
let devIo: CapturedIo;
let photo: string;

beforeAll(async () => {
  root = await tempDir();
  photo = join(root.path, 'photo.jpg');
  await writeImage(photo, 640, 480, 'jpeg');
  devIo = captureIo();
  dev = await startDev({ data: join(root.path, 'dev'), s3Port: 0, dynamodbPort: 0, snsPort: 0 }, devIo);
});

afterAll(async () => {
  await dev?.stop();
  await root.remove();
});

describe('imgflow dev + submit', () => {
  it('dev prints its endpoints, buckets, table, topics and an aws s3 cp example', () => {
    const text = devIo.out();
    expect(text).toContain(`S3        ${dev.endpoints.s3}`);
    // The names Terraform gives a deployment "imgflow" in us-east-1 of account 000000000000 (the policies apply to them).
    expect(text).toContain(`DynamoDB  ${dev.endpoints.dynamodb}  jobs table: imgflow-jobs`);
    expect(text).toContain('arn:aws:sns:us-east-1:000000000000:imgflow-success');
    expect(text).toContain(`aws s3 cp photo.jpg s3://imgflow-uploads-000000000000-us-east-1/uploads/photo.jpg --endpoint-url ${dev.endpoints.s3}`);
    expect(text).toContain('outputs: imgflow-outputs-000000000000-us-east-1');
    expect(dev.endpoints.s3).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(dev.endpoints.s3).not.toMatch(/:4569$/);
  });

  it('submit uploads to the dev stack and follows the job to SUCCEEDED with its outputs', async () => {
    const io = captureIo();
    const outcome = await submitImage(
      {
        file: photo,
        bucket: UPLOAD_BUCKET,
        table: JOBS_TABLE,
        endpointUrl: dev.endpoints.s3,
        dynamodbEndpointUrl: dev.endpoints.dynamodb,
        interval: 50,
        timeout: 60,
      },
      io,
    );
    expect(io.err()).toBe('');
    expect(outcome.exitCode).toBe(0);
    expect(outcome.record?.status).toBe('SUCCEEDED');
    expect(outcome.record?.sourceKey).toBe('uploads/photo.jpg');
    expect(outcome.record?.outputs).toHaveLength(9);
    expect(io.out()).toMatch(/^\d\d:\d\d:\d\d SUCCEEDED$/m);
    expect(io.out()).toContain('renditions/uploads/photo/sm.avif');
    expect(io.out()).toContain('320×240');

    // dev logged the execution; the log line follows the ledger read, so wait for it.
    await dev.stack.whenIdle();
    await expect.poll(() => devIo.out(), { timeout: 5000 }).toMatch(/finished uploads\/photo\.jpg SUCCEEDED 9 renditions in /);
    expect(devIo.out()).toMatch(/started {2}uploads\/photo\.jpg/);

    // status --remote reads the same ledger through the endpoint dev printed.
    const status = captureIo();
    expect(await showStatus({ target: outcome.jobId, remote: true, table: JOBS_TABLE, endpointUrl: dev.endpoints.dynamodb, json: true }, status)).toBe(0);
    expect(JSON.parse(status.out())).toMatchObject({ jobId: outcome.jobId, status: 'SUCCEEDED' });
  });

  it('submit times out with exit code 1 when no workflow picks the upload up', async () => {
    const io = captureIo();
    // The output bucket has no trigger: the job never appears in the ledger.
    const outcome = await submitImage(
      {
        file: photo,
        bucket: OUTPUT_BUCKET,
        key: 'elsewhere/photo.jpg',
        table: JOBS_TABLE,
        endpointUrl: dev.endpoints.s3,
        dynamodbEndpointUrl: dev.endpoints.dynamodb,
        interval: 100,
        timeout: 1,
      },
      io,
    );
    expect(outcome.exitCode).toBe(1);
    expect(io.err()).toMatch(new RegExp(`^imgflow submit: timed out after 1s waiting for job ${outcome.jobId} \\(last status: WAITING\\)$`, 'm'));
  });

  it('submit without a table is a usage error (exit 2)', async () => {
    const io = captureIo();
    const outcome = await submitImage({ file: photo, bucket: UPLOAD_BUCKET, endpointUrl: dev.endpoints.s3 }, io);
    expect(outcome.exitCode).toBe(2);
    expect(io.err()).toBe('imgflow submit: no jobs table: give --table <name> or set IMGFLOW_JOBS_TABLE\n');
  });
});

describe('imgflow dev as a process: SIGTERM', () => {
  it('stops within seconds with an execution in flight: it gets a grace period, then is stopped; a second signal exits at once', async () => {
    const slow = { IMGFLOW_FAULTS: JSON.stringify({ state: 'ResizeImage', delayMs: 60_000, times: 10 }) };
    const cli = spawnCli(['dev', '--data', join(root.path, 'dev-signal'), '--s3-port', '0', '--dynamodb-port', '0', '--sns-port', '0'], slow);
    await cli.waitFor(/^Ctrl-C stops\.$/m);
    const endpoint = /^ {2}S3 {8}(\S+)/m.exec(cli.out())?.[1] as string;
    const s3 = new S3Client({ region: LOCAL_REGION, credentials: LOCAL_CREDENTIALS, endpoint, forcePathStyle: true, requestChecksumCalculation: 'WHEN_REQUIRED' });
    await s3.send(new PutObjectCommand({ Bucket: UPLOAD_BUCKET, Key: 'uploads/slow.jpg', Body: await readFile(photo) }));
    s3.destroy();
    await cli.waitFor(/started {2}uploads\/slow\.jpg/);
    await new Promise((resolveWait) => setTimeout(resolveWait, 1000));
    const signalled = performance.now();
    cli.child.kill('SIGTERM');
    const { code, at } = await cli.exited;
    expect(code, cli.out()).toBe(0);
    expect(at - signalled).toBeLessThan(12_000);
    expect(cli.out()).toContain('imgflow dev: stopping: 1 execution running get 5s to finish');
    expect(cli.out()).toContain('imgflow dev: stopped 1 execution still running; a later run on the same --data takes their jobs over');

    const again = spawnCli(['dev', '--data', join(root.path, 'dev-signal'), '--s3-port', '0', '--dynamodb-port', '0', '--sns-port', '0'], slow);
    await again.waitFor(/^Ctrl-C stops\.$/m);
    again.child.kill('SIGTERM');
    again.child.kill('SIGTERM');
    expect((await again.exited).code).toBeOneOf([0, 130]);
  });
});
