import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { awsError } from '@imgflow/local-runtime';
import type { JobNotification } from '@imgflow/pipeline';
import { photoLike } from '@imgflow/samples';
import { Harness } from './harness.js';

const execFileAsync = promisify(execFile);

/** What must never appear in a log line or a notification. */
export const FORBIDDEN_PATTERNS: Array<[string, RegExp]> = [
  ['a presigned URL signature', /X-Amz-Signature/i],
  ['a presigned URL credential', /X-Amz-Credential/i],
  ['a legacy presigned URL', /AWSAccessKeyId/],
  ['the local S3 credential', /S3RVER/],
  ['a secret access key', /secretAccessKey/i],
  ['a session token', /X-Amz-Security-Token|sessionToken/i],
  ['an https URL with a query string', /https:\/\/[^\s"'<>]*\?[^\s"'<>]+/i],
];

export function secretFindings(source: string, text: string): string[] {
  return FORBIDDEN_PATTERNS.filter(([, pattern]) => pattern.test(text)).map(([what]) => `${source} contains ${what}`);
}

export interface LogScanResult {
  jobs: number;
  logLines: number;
  notifications: number;
  findings: string[];
}

/**
 * Runs jobs that succeed, are rejected and fail (after retries) with the handlers' logger at
 * DEBUG, captures every line written to stdout/stderr (Powertools writes JSON lines there) and
 * every notification, and looks for credentials and presigned URLs in them.
 */
export async function scanLogsAndNotifications(): Promise<LogScanResult> {
  const harness = await Harness.start({ logLevel: 'DEBUG' });
  const lines: string[] = [];
  const notifications: JobNotification[] = [];
  const streams = [process.stdout, process.stderr] as const;
  const originals = streams.map((stream) => stream.write);
  const capture = (chunk: unknown) => {
    lines.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString());
    return true;
  };
  let jobs = 0;
  try {
    for (const stream of streams) stream.write = capture as typeof stream.write;
    const { stack } = harness;
    const photo = await photoLike({ width: 800, height: 600, seed: 5 });
    const run = async (key: string, body: Buffer) => {
      jobs += 1;
      await harness.upload(key, body);
      await stack.whenIdle();
      notifications.push(...(await stack.drainNotifications()));
    };
    await run('security/ok.jpg', photo);
    await run('security/not-an-image.jpg', Buffer.from('<html>hello</html>'));
    stack.faults.failAws('s3', 'PutObjectCommand', { times: 1000, error: () => awsError('AccessDenied', 403, 'Access Denied') });
    await run('security/denied.jpg', await photoLike({ width: 640, height: 480, seed: 6 }));
    stack.faults.clear();
    stack.faults.failAws('s3', 'GetObjectCommand', { times: 1, error: () => awsError('SlowDown', 503) });
    await run('security/retried.jpg', await photoLike({ width: 640, height: 480, seed: 7 }));
  } finally {
    streams.forEach((stream, index) => {
      stream.write = originals[index] as typeof stream.write;
    });
    harness.stack.faults.clear();
    await harness.stop();
  }
  const logText = lines.join('');
  const findings = [...secretFindings('the logs', logText), ...notifications.flatMap((message) => secretFindings(`notification ${message.jobId}`, JSON.stringify(message)))];
  if (lines.length === 0) findings.push('no log lines were captured: the scan saw nothing');
  if (notifications.length !== jobs) findings.push(`${notifications.length} notifications for ${jobs} jobs`);
  return { jobs, logLines: logText.split('\n').filter((line) => line.trim().length > 0).length, notifications: notifications.length, findings };
}

export interface AuditResult {
  /** 'passed' (no high/critical), 'failed' (some), or 'not run' (with the reason: a skip, never a pass). */
  status: 'passed' | 'failed' | 'not run';
  reason?: string;
  high: number;
  critical: number;
  packages: string[];
}

/**
 * What ships to Lambda: each fn-* bundle inlines its workspace code, so its dependency closure is
 * that of @imgflow/image-core and @imgflow/pipeline (AWS SDK, Powertools, zod, …) plus sharp,
 * the one package in the zip's node_modules. `pnpm audit --prod` over exactly those.
 */
export async function auditShippedDependencies(root = fileURLToPath(new URL('../../..', import.meta.url))): Promise<AuditResult> {
  const packages = ['@imgflow/image-core', '@imgflow/pipeline', '@imgflow/fn-validate', '@imgflow/fn-resize', '@imgflow/fn-filter', '@imgflow/fn-optimize', '@imgflow/fn-notify'];
  const args = ['audit', '--prod', '--json', ...packages.flatMap((name) => ['--filter', name])];
  let stdout = '';
  let stderr = '';
  try {
    ({ stdout, stderr } = await execFileAsync('pnpm', args, { cwd: root, maxBuffer: 64 * 1024 * 1024, timeout: 120_000 }));
  } catch (error) {
    // pnpm audit exits non-zero both when it finds advisories and when it cannot ask.
    const failed = error as { stdout?: string; stderr?: string; message: string };
    stdout = failed.stdout ?? '';
    stderr = failed.stderr ?? failed.message;
  }
  let report: { metadata?: { vulnerabilities?: Record<string, number> } } | undefined;
  try {
    report = JSON.parse(stdout) as typeof report;
  } catch {
    report = undefined;
  }
  const counts = report?.metadata?.vulnerabilities;
  if (!counts) {
    const reason = `${stdout} ${stderr}`.replace(/\s+/g, ' ').trim();
    const short = /ERR_PNPM_AUDIT_BAD_RESPONSE|responded with \d+|ENOTFOUND|ECONNREFUSED|ETIMEDOUT/.exec(reason)?.[0];
    return { status: 'not run', reason: `the audit endpoint could not be used (${short ?? reason.slice(0, 160)})`, high: 0, critical: 0, packages };
  }
  const high = counts.high ?? 0;
  const critical = counts.critical ?? 0;
  return { status: high + critical === 0 ? 'passed' : 'failed', high, critical, packages };
}
