import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { jobIdFor } from '@imgflow/pipeline';
import { afterAll, describe, expect, it } from 'vitest';
import { LocalStack } from '../src/index.js';
import { photoJpeg, uploadAndWait } from './helpers.js';

describe('a run killed half-way', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) await rm(dir, { recursive: true, force: true });
  });

  it('is finished by the next run on the same data folder: one record, one notification, no work left', async () => {
    const dataDir = await mkdtemp(join(tmpdir(), 'imgflow-restart-'));
    dirs.push(dataDir);
    const bytes = await photoJpeg(640, 480, 31);
    // First run: the upload is claimed and work begins, then the process dies (simulated by
    // stopping before the workflow ran: the job is left PENDING with a live lease).
    const first = await LocalStack.start({ dataDir });
    const object = await first.upload('restart/photo.jpg', bytes);
    const jobId = jobIdFor(object);
    const claim = await first.ledger.claim(object, jobId, 'arn:aws:states:us-east-1:000000000000:execution:imgflow:killed', new Date(), 900);
    expect(claim.claimed).toBe(true);
    await first.clients.s3.send(
      new (await import('@aws-sdk/client-s3')).PutObjectCommand({ Bucket: first.config.outputBucket, Key: `work/${jobId}/resize.bundle`, Body: 'partial' }),
    );
    await first.stop();

    const second = await LocalStack.start({ dataDir, retryPauseMs: 5 });
    try {
      expect(second.releasedClaims).toEqual([jobId]);
      await second.drainNotifications();
      // The same folder run again: the bytes are there already, their upload's event comes again.
      const { record, reports } = await uploadAndWait(second, 'restart/photo.jpg', bytes, { submit: true });
      expect(reports.map((report) => report.path.at(-1))).toEqual(['Done']);
      expect(record).toMatchObject({ jobId, status: 'SUCCEEDED', attempts: 2 });
      expect(await second.ledger.listBySourceKey('restart/photo.jpg')).toHaveLength(1);
      expect((await second.drainNotifications()).filter((message) => message.jobId === jobId)).toHaveLength(1);
      const { ListObjectsV2Command } = await import('@aws-sdk/client-s3');
      const work = await second.clients.s3.send(new ListObjectsV2Command({ Bucket: second.config.outputBucket, Prefix: 'work/' }));
      expect(work.Contents ?? []).toEqual([]);
    } finally {
      await second.stop();
    }
  });
});
