import { ListObjectsV2Command } from '@aws-sdk/client-s3';
import { retryErrors } from '@imgflow/contract';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ExecutionReport, LocalStack, awsError } from '../src/index.js';
import { objectCreatedEvent, photoJpeg, uploadAndWait } from './helpers.js';

/** A smooth PNG (small file, no shrink-on-load): decoding it takes width × height × 3 bytes and more. */
function largePng(width: number, height: number): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: { r: 40, g: 120, b: 200 } } })
    .png({ compressionLevel: 9 })
    .toBuffer();
}

describe('a function over its memory', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await LocalStack.start({
      retryPauseMs: 5,
      memory: { 'imgflow-resize': 160 },
      // A full-size rendition: the decoded 35 MP working image (105 MB of pixels) cannot fit
      // beside the runtime in 160 MB. (libvips would stream a downscale in a few MB.)
      recipe: { renditions: [{ name: 'full', width: 7000 }], formats: ['webp'] },
    });
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('is killed as Lambda kills it: Lambda.Unknown (not retried: the ASL does not list it), the job FAILED via NotifyError', async () => {
    expect(retryErrors('resize')).not.toContain('Lambda.Unknown');
    const { reports, record } = await uploadAndWait(stack, 'memory/large.png', await largePng(7000, 5000));
    expect(reports[0]?.path).toContain('NotifyError');
    expect(reports[0]?.invocations.ResizeImage).toBe(1);
    expect(record).toMatchObject({ status: 'FAILED', reasonCode: 'LAMBDA_ERROR', reasonError: 'Lambda.Unknown' });
    expect(record?.reasonMessage).toMatch(/^RequestId: [0-9a-f-]{36} Error: Runtime exited with error: signal: killed \(out of memory: \d+ MB used, more than the function's 160 MB\)$/);
  });

  it('replaces the killed environment for the next invocation', async () => {
    const started = stack.functions.resize.coldStarts.length;
    const { record } = await uploadAndWait(stack, 'memory/small.jpg', await photoJpeg(400, 300, 3));
    expect(record?.status).toBe('SUCCEEDED');
    expect(stack.functions.resize.coldStarts.length).toBe(started + 1);
    // Cold starts (fork until the handler is built), for the record.
    console.info(`cold starts (ms): ${JSON.stringify(Object.fromEntries(Object.entries(stack.functions).map(([name, sandbox]) => [name, sandbox.coldStarts])))}`);
  });
});

describe('a function killed at its timeout', () => {
  it('writes nothing afterwards: its environment is gone with the write it was making', async () => {
    const stack = await LocalStack.start({ retryPauseMs: 5, timeouts: { 'imgflow-resize': 1 } });
    try {
      // Warm: a cold start on a busy machine could outlast the Task's own TimeoutSeconds.
      await stack.functions.resize.provision();
      // The work bundle's PutObject waits 2.5 s inside the function's environment (the default
      // recipe has no filters: ResizeImage writes the only bundle).
      stack.faults.failAws('s3', 'PutObjectCommand', { times: 1, delayMs: 2500, delayOnly: true, error: () => new Error('unused') });
      const { record, reports } = await uploadAndWait(stack, 'late/a.jpg', await photoJpeg(300, 200, 43));
      expect(record).toMatchObject({ status: 'FAILED', reasonCode: 'LAMBDA_TIMEOUT', reasonError: 'Sandbox.Timedout' });
      expect(record?.reasonMessage).toBe('Task timed out after 1.00 seconds');
      expect(reports[0]?.invocations.ResizeImage).toBe(1);
      expect(stack.faults.fired.get('s3:PutObjectCommand')).toBe(1);
      await new Promise((resolve) => setTimeout(resolve, 2500));
      const listed = await stack.clients.s3.send(new ListObjectsV2Command({ Bucket: stack.config.outputBucket }));
      expect((listed.Contents ?? []).map((object) => object.Key)).toEqual([]);
      // The environment was killed; the next invocation starts a new one.
      expect(stack.functions.resize.size).toBe(0);
    } finally {
      await stack.stop();
    }
  });
});

describe('a function at its reserved concurrency', () => {
  it('throttles the invocation beyond it (Lambda.TooManyRequestsException), which the ASL retries: both executions SUCCEED', async () => {
    expect(retryErrors('validate')).toContain('Lambda.TooManyRequestsException');
    const stack = await LocalStack.start({ retryPauseMs: 100, retry: { max_attempts: 20 }, concurrency: { 'imgflow-validate': 1 } });
    try {
      await stack.functions.validate.provision();
      const refs = await Promise.all([stack.upload('throttle/a.jpg', await photoJpeg(300, 200, 5)), stack.upload('throttle/b.jpg', await photoJpeg(300, 200, 6))]);
      const reports: ExecutionReport[] = await Promise.all(refs.map((ref) => stack.execute(objectCreatedEvent(ref))));
      expect(reports.map((report) => [report.status, report.error])).toEqual([['SUCCEEDED', undefined], ['SUCCEEDED', undefined]]);
      expect(stack.functions.validate.throttles).toBeGreaterThan(0);
      expect(reports.reduce((sum, report) => sum + (report.invocations.ValidateImage ?? 0), 0)).toBe(2 + stack.functions.validate.throttles);
      // One environment did all the work: a second one never started.
      expect(stack.functions.validate.coldStarts).toHaveLength(1);
    } finally {
      await stack.stop();
    }
  });
});

describe('a function in its sandbox', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await LocalStack.start({ retryPauseMs: 5 });
  });
  afterAll(async () => {
    await stack.stop();
  });

  it("has SDK clients with the SDK's default retries: two failed attempts of a call, and the third succeeds", async () => {
    stack.faults.failAws('s3', 'GetObjectCommand', { times: 2, perAttempt: true, error: () => awsError('InternalError', 500, 'We encountered an internal error. Please try again.') });
    const { reports, record } = await uploadAndWait(stack, 'attempts/a.jpg', await photoJpeg(300, 200, 7));
    expect(stack.faults.fired.get('s3:GetObjectCommand')).toBe(2);
    expect(record?.status).toBe('SUCCEEDED');
    // The SDK retried: no state was.
    expect(Object.values(reports[0]?.invocations ?? {}).every((count) => count === 1)).toBe(true);
  });

  it('reports its IAM checks and denials to the stack', async () => {
    stack.iam.resetStats();
    expect((await uploadAndWait(stack, 'iam/a.jpg', await photoJpeg(300, 200, 8))).record?.status).toBe('SUCCEEDED');
    expect(stack.iam.stats().byRole.validate.checked).toBeGreaterThan(0);
    expect(stack.iam.denials()).toEqual([]);
    // Removed after the environment started: the next invocation enforces it.
    stack.iam.setRemovals({ validate: ['ClaimJobs'] });
    try {
      const { reports } = await uploadAndWait(stack, 'iam/b.jpg', await photoJpeg(300, 200, 9));
      expect(reports[0]?.path).toContain('NotifyError');
      const denials = stack.iam.denials().filter((denial) => denial.role === 'validate');
      expect(denials.length).toBeGreaterThan(0);
      expect(denials[0]).toMatchObject({ action: expect.stringMatching(/^dynamodb:/), answer: { name: 'AccessDeniedException', httpStatusCode: 400 } });
      expect(stack.iam.stats().byRole.validate.denied).toBe(denials.length);
    } finally {
      stack.iam.setRemovals({});
    }
  });
});
