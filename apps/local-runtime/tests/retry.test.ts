import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStack, awsError } from '../src/index.js';
import { photoJpeg, uploadAndWait } from './helpers.js';

describe('a transient fault while validating, after the claim', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await LocalStack.start({ retryPauseMs: 5 });
  });
  afterAll(async () => {
    await stack.stop();
  });

  // Regression: the retried ValidateImage found its own PENDING claim, took it for a duplicate
  // delivery and ended at AlreadyHandled, leaving the job PENDING with no notification.
  it.each([
    ['S3 GetObject', 's3', 'GetObjectCommand'],
    ['DynamoDB GetItem (content claim)', 'dynamodb', 'GetItemCommand'],
  ] as const)('%s: is retried by the same execution, which keeps its claim and finishes the job', async (_label, service, command) => {
    await stack.drainNotifications();
    stack.faults.failAws(service, command, { times: 1, error: () => awsError('ServiceUnavailable', 503) });
    const { reports, record, jobId } = await uploadAndWait(stack, `retry/${command}.jpg`, await photoJpeg(320, 240, command.length));
    expect(stack.faults.fired.get(`${service}:${command}`)).toBe(1);
    expect(reports[0]?.invocations.ValidateImage).toBe(2);
    expect(reports[0]?.path.at(-1)).toBe('Done');
    expect(record).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
    expect((await stack.drainNotifications()).filter((message) => message.jobId === jobId)).toHaveLength(1);
  });
});

describe('a handler that outlives its Lambda timeout', () => {
  // Regression: the abandoned invocation ran on and wrote its bundle after NotifyError had
  // removed the job's work prefix (Lambda would have stopped it with its sandbox).
  it('can write nothing once it timed out: no work objects, no outputs after the job is FAILED', async () => {
    const stack = await LocalStack.start({ retryPauseMs: 5, timeouts: { 'imgflow-resize': 0.3 } });
    try {
      // Warm: a cold start on a busy machine could outlast the Task's own TimeoutSeconds.
      await stack.functions.resize.provision();
      // Its environment is killed at 0.3 s, in the middle of writing the work bundle (the only one:
      // the default recipe has no filters).
      stack.faults.failAws('s3', 'PutObjectCommand', { times: 1, delayMs: 800, delayOnly: true, error: () => new Error('unused') });
      const { record } = await uploadAndWait(stack, 'late/a.jpg', await photoJpeg(300, 200, 43));
      expect(record).toMatchObject({ status: 'FAILED', reasonCode: 'LAMBDA_TIMEOUT' });
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const listed = await stack.clients.s3.send(new ListObjectsV2Command({ Bucket: stack.config.outputBucket }));
      expect((listed.Contents ?? []).map((object) => object.Key)).toEqual([]);
    } finally {
      await stack.stop();
    }
  });
});
