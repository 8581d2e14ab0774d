import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStack, awsError } from '../src/index.js';
import { photoJpeg, uploadAndWait } from './helpers.js';

// Regression: S3's 403 came out as SourceMissingError, so a function whose role lacked a
// permission REJECTED every upload ("the upload is at fault") and, since rejected executions
// succeed, no failed-executions alarm ever fired.
describe('S3 denying the function access (a wrong role or policy)', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await LocalStack.start({ retryPauseMs: 5 });
  });
  afterAll(async () => {
    await stack.stop();
  });

  it.each([
    ['reading the upload', 'GetObjectCommand'],
    ['writing a work bundle', 'PutObjectCommand'],
  ] as const)('while %s: FAILED ACCESS_DENIED, not retried, and the execution fails', async (_label, command) => {
    stack.faults.failAws('s3', command, { times: 100, error: () => awsError('AccessDenied', 403, 'Access Denied') });
    const { reports, record } = await uploadAndWait(stack, `denied/${command}.jpg`, await photoJpeg(320, 240, command.length));
    stack.faults.clear();
    expect(record).toMatchObject({ status: 'FAILED', reasonCode: 'ACCESS_DENIED', reasonError: 'AccessDeniedError' });
    expect(record?.reasonMessage).toMatch(/is denied: check the function's role/);
    expect(reports[0]).toMatchObject({ status: 'FAILED', error: { name: 'JobFailed' } });
    expect(reports[0]?.retries).toBe(0);
  });
});
