import { describe, expect, it } from 'vitest';
import { auditShippedDependencies, scanLogsAndNotifications, secretFindings } from '../src/security.js';

// Least-privilege IAM and private, encrypted, TLS-only buckets are checked statically against the
// Terraform in infra/tests/iam.test.ts and infra/tests/resources.test.ts; SVG and PDF being off by
// default in packages/image-core/tests/unit/limits.test.ts (and through the pipeline in hostile.test.ts).

describe('no secrets or presigned URLs in logs or notifications', () => {
  it('finds each forbidden pattern when present (the scan can fail)', () => {
    expect(secretFindings('x', 'https://b.s3.amazonaws.com/k?X-Amz-Algorithm=AWS4&X-Amz-Credential=AKIA%2F&X-Amz-Signature=abc')).toEqual([
      'x contains a presigned URL signature',
      'x contains a presigned URL credential',
      'x contains an https URL with a query string',
    ]);
    expect(secretFindings('x', '{"accessKeyId":"S3RVER","secretAccessKey":"S3RVER"}')).toEqual(['x contains the local S3 credential', 'x contains a secret access key']);
    expect(secretFindings('x', '{"key":"renditions/a/sm.webp","bucket":"imgflow-outputs-000000000000-us-east-1"}')).toEqual([]);
  });

  it('finds none in DEBUG logs and notifications of succeeded, rejected and failed jobs', async () => {
    const result = await scanLogsAndNotifications();
    expect(result.findings).toEqual([]);
    expect(result.jobs).toBe(4);
    expect(result.notifications).toBe(4);
    expect(result.logLines).toBeGreaterThan(4);
  });
});

describe('dependency audit of what ships to Lambda', () => {
  it('has no high or critical advisory, or says why it could not run', async () => {
    const audit = await auditShippedDependencies();
    expect(audit.packages).toContain('@imgflow/image-core');
    if (audit.status === 'not run') {
      expect(audit.reason).toMatch(/audit endpoint/);
      console.warn(`dependency audit not run: ${audit.reason}`);
      return;
    }
    expect({ high: audit.high, critical: audit.critical }).toEqual({ high: 0, critical: 0 });
    expect(audit.status).toBe('passed');
  });
});
