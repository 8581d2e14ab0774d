import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevHandle, startDev } from '../src/commands/dev.js';
import { showStatus } from '../src/commands/status.js';
import { submitImage } from '../src/commands/submit.js';
import { type CapturedIo, captureIo, tempDir, writeImage } from './helpers.js';

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
    expect(text).toContain(`DynamoDB  ${dev.endpoints.dynamodb}  jobs table: imgflow-jobs`);
    expect(text).toContain('arn:aws:sns:us-east-1:000000000000:imgflow-success');
    expect(text).toContain(`aws s3 cp photo.jpg s3://imgflow-uploads/uploads/photo.jpg --endpoint-url ${dev.endpoints.s3}`);
    expect(dev.endpoints.s3).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(dev.endpoints.s3).not.toMatch(/:4569$/);
  });

  it('submit uploads to the dev stack and follows the job to SUCCEEDED with its outputs', async () => {
    const io = captureIo();
    const outcome = await submitImage(
      {
        file: photo,
        bucket: 'imgflow-uploads',
        table: 'imgflow-jobs',
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
    expect(await showStatus({ target: outcome.jobId, remote: true, table: 'imgflow-jobs', endpointUrl: dev.endpoints.dynamodb, json: true }, status)).toBe(0);
    expect(JSON.parse(status.out())).toMatchObject({ jobId: outcome.jobId, status: 'SUCCEEDED' });
  });

  it('submit times out with exit code 1 when no workflow picks the upload up', async () => {
    const io = captureIo();
    // The output bucket has no trigger: the job never appears in the ledger.
    const outcome = await submitImage(
      {
        file: photo,
        bucket: 'imgflow-outputs',
        key: 'elsewhere/photo.jpg',
        table: 'imgflow-jobs',
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
    const outcome = await submitImage({ file: photo, bucket: 'imgflow-uploads', endpointUrl: dev.endpoints.s3 }, io);
    expect(outcome.exitCode).toBe(2);
    expect(io.err()).toBe('imgflow submit: no jobs table: give --table <name> or set IMGFLOW_JOBS_TABLE\n');
  });
});
