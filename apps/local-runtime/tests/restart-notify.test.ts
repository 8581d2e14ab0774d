import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jobIdFor } from '@imgflow/pipeline';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalStack } from '../src/index.js';
import { photoJpeg, uploadAndWait } from './helpers.js';

describe('a run killed between recording a job and publishing its notification', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  // Regression: the job was SUCCEEDED without `notified`; a re-run took the upload for a
  // duplicate (AlreadyHandled) and nobody ever heard of the job.
  it('is notified once when the local runtime next starts on the data folder, and a re-run does not notify again', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'imgflow-restart-notify-'));
    dirs.push(dataDir);
    const bytes = await photoJpeg(480, 320, 57);
    const first = await LocalStack.start({ dataDir, retryPauseMs: 5 });
    let jobId: string;
    try {
      first.faults.failAws('sns', 'PublishCommand', { times: 100, error: () => Object.assign(new Error('killed'), { name: 'Killed' }) });
      const run = await uploadAndWait(first, 'killed/notify.jpg', bytes);
      jobId = run.jobId;
      // What a kill right after the ledger write leaves behind: the outcome, no notification.
      expect(run.record).toMatchObject({ status: 'SUCCEEDED' });
      expect(run.record?.notified).toBeUndefined();
    } finally {
      await first.stop();
    }

    const second = await LocalStack.start({ dataDir, retryPauseMs: 5 });
    try {
      expect(second.resentNotifications).toEqual([jobId]);
      const sent = (await second.drainNotifications()).filter((message) => message.jobId === jobId);
      expect(sent).toHaveLength(1);
      expect(sent[0]).toMatchObject({ event: 'job.succeeded', status: 'SUCCEEDED', source: { key: 'killed/notify.jpg' } });
      expect(sent[0]?.outputs).toHaveLength(9);
      expect((await second.ledger.get(jobId))?.notified).toBe(true);
      const again = await uploadAndWait(second, 'killed/notify.jpg', bytes, { submit: true });
      expect(jobIdFor(again.object)).toBe(jobId);
      expect(again.reports.map((report) => report.path.at(-1))).toEqual(['AlreadyHandled']);
      expect(await second.drainNotifications()).toEqual([]);
    } finally {
      await second.stop();
    }
  });
});
