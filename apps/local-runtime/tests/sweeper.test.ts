import { jobIdFor } from '@imgflow/pipeline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStack, scheduleMillis } from '../src/index.js';
import { listKeys, objectCreatedEvent, photoJpeg } from './helpers.js';

const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** A moment past every lease of this test (the contract's lease is 15 minutes). */
const later = () => new Date(Date.now() + 3_600_000);

describe('the sweeper in the local runtime: nothing stays PROCESSING', () => {
  let stack: LocalStack;
  beforeAll(async () => {
    stack = await LocalStack.start({ retryPauseMs: 5 });
    // One run first: the functions' cold starts do not count against the scaled time limit below.
    await stack.runner.execute(objectCreatedEvent(await stack.upload('sweep/warm.jpg', await photoJpeg(64, 48, 80))));
    await stack.drainNotifications();
  });
  afterAll(async () => {
    await stack.stop();
  });

  it('an execution stopped by the Express limit is ended FAILED EXECUTION_ABANDONED by the sweep after its lease, notified once, its work removed', async () => {
    const object = await stack.upload('sweep/timed-out.jpg', await photoJpeg(320, 240, 81));
    const jobId = jobIdFor(object);
    // 300 s scaled down to 0.8 s; ResizeImage held for 1.5 s (it writes its work bundle afterwards, as a Lambda goes on).
    stack.faults.failState('ResizeImage', { times: 1, delayMs: 1500, delayOnly: true, error: () => new Error('unused') });
    const report = await stack.runner.withOptions({ workflowType: 'EXPRESS', maxDurationMs: 800 }).execute(objectCreatedEvent(object));
    expect(report.status).toBe('TIMED_OUT');
    await pause(2000);
    expect(await stack.ledger.get(jobId)).toMatchObject({ status: 'PROCESSING' });

    // Within its lease the job may still be alive: a sweep leaves it alone.
    expect((await stack.sweep()).abandoned).toEqual([]);
    expect(await stack.ledger.get(jobId)).toMatchObject({ status: 'PROCESSING' });

    const summary = await stack.sweep({ now: later() });
    expect(summary).toMatchObject({ abandoned: [jobId], errors: [] });
    expect(await stack.ledger.get(jobId)).toMatchObject({ status: 'FAILED', reasonCode: 'EXECUTION_ABANDONED', reasonError: 'ExecutionAbandonedError', notified: true });
    const notifications = (await stack.drainNotifications()).filter((message) => message.jobId === jobId);
    expect(notifications).toMatchObject([{ status: 'FAILED', reason: { code: 'EXECUTION_ABANDONED' } }]);
    expect(await listKeys(stack, stack.config.outputBucket, `${stack.config.workPrefix}${jobId}/`)).toEqual([]);

    // Another sweep, and a replay of the dead execution's event: nothing changes, nothing is sent again.
    expect(await stack.sweep({ now: later() })).toMatchObject({ abandoned: [], notified: [] });
    const replay = await stack.execute(objectCreatedEvent(object), undefined, { name: report.name });
    expect(replay.path.at(-1)).not.toBe('NotifySuccess');
    expect(await stack.ledger.get(jobId)).toMatchObject({ status: 'FAILED', reasonCode: 'EXECUTION_ABANDONED' });
    expect((await stack.drainNotifications()).filter((message) => message.jobId === jobId)).toEqual([]);

    // A new delivery of the upload (another execution) may take the failed job up again, and succeeds.
    const again = await stack.execute(objectCreatedEvent(object));
    expect(again.status).toBe('SUCCEEDED');
    expect(await stack.ledger.get(jobId)).toMatchObject({ status: 'SUCCEEDED' });
    expect((await stack.drainNotifications()).filter((message) => message.jobId === jobId)).toMatchObject([{ status: 'SUCCEEDED' }]);
  });

  it('a finished job whose notification was never sent gets it from the sweep, once', async () => {
    const object = await stack.upload('sweep/unsent.jpg', await photoJpeg(200, 150, 82));
    const jobId = jobIdFor(object);
    // SNS refuses every publish of this execution: the job is recorded SUCCEEDED, unnotified.
    stack.faults.failAws('sns', 'PublishCommand', { times: 100, error: () => Object.assign(new Error('We encountered an internal error.'), { name: 'InternalError', $metadata: { httpStatusCode: 500 } }) });
    const report = await stack.execute(objectCreatedEvent(object));
    stack.faults.clear();
    expect(report.error?.name).toBe('NotificationFailed');
    expect(await stack.ledger.get(jobId)).toMatchObject({ status: 'SUCCEEDED' });
    expect((await stack.ledger.get(jobId))?.notified).toBeUndefined();

    const summary = await stack.sweep({ now: later() });
    expect(summary.notified).toEqual([jobId]);
    expect((await stack.drainNotifications()).filter((message) => message.jobId === jobId)).toMatchObject([{ status: 'SUCCEEDED' }]);
    expect(await stack.ledger.get(jobId)).toMatchObject({ notified: true });
    expect((await stack.sweep({ now: later() })).notified).toEqual([]);
  });

  it('runs on the schedule the contract deploys (rate(5 minutes))', () => {
    expect(scheduleMillis()).toBe(300_000);
  });
});
