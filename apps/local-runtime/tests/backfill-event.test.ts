import { jobIdFor } from '@imgflow/pipeline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStack, selectBackfillItems } from '../src/index.js';
import { photoJpeg, uploadAndWait } from './helpers.js';

/*
 * A backfill lists the bucket: its events name no version (ListObjectsV2 lists none). In the
 * versioned upload bucket the trigger's event named one, and the version is part of the job's
 * identity; ValidateImage reads the current version of a backfill's object (withListedVersion),
 * so an object the trigger already processed is the same job: AlreadyHandled, no second record.
 */
describe('a backfill of an object the trigger already processed (versioned upload bucket)', () => {
  let stack: LocalStack;

  beforeAll(async () => {
    stack = await LocalStack.start({ retryPauseMs: 5, uploadVersioning: 'Enabled' });
  });

  afterAll(async () => {
    await stack.stop();
  });

  it('is the same job: AlreadyHandled, one record, one notification', async () => {
    await stack.drainNotifications();
    const { record, object } = await uploadAndWait(stack, 'old/cat.jpg', await photoJpeg(320, 240));
    expect(record, JSON.stringify(record)).toMatchObject({ status: 'SUCCEEDED' });
    expect(object.versionId).toBeTruthy();
    const [event] = await selectBackfillItems([{ Key: object.key, Etag: `"${object.etag}"`, Size: object.size }], 'backfill-test');
    if (!event) throw new Error('no event selected');
    expect(event.detail.object).not.toHaveProperty('version-id');
    const report = await stack.execute(event);
    expect(report.path.at(-1)).toBe('AlreadyHandled');
    expect(await stack.ledger.listBySourceKey(object.key)).toHaveLength(1);
    expect((await stack.ledger.get(jobIdFor(object)))?.attempts).toBe(record?.attempts);
    expect(await stack.drainNotifications()).toHaveLength(1);
  });
});
