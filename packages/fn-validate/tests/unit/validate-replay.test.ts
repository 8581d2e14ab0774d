import { jobIdFor } from '@imgflow/pipeline';
import { type FakeStepDeps, fakeDeps, fakeUpload, objectCreatedEvent } from '@imgflow/pipeline/testing';
import { photoLike } from '@imgflow/samples';
import { beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createValidateHandler } from '../../src/index.js';

/*
 * Express runs an execution at least once: a copy with the same execution id validates the
 * same upload. While the job runs it is the owner too (indistinguishable from a Retry); once the
 * job ended, it stops at AlreadyHandled and changes nothing.
 */

const EXECUTION = 'arn:aws:states:eu-west-1:000000000000:execution:imgflow:first';

let photo: Buffer;
let deps: FakeStepDeps;

beforeAll(async () => {
  photo = await photoLike({ width: 320, height: 240, seed: 5 });
});

beforeEach(() => {
  deps = fakeDeps();
});

describe('ValidateImage replayed', () => {
  it('after the job SUCCEEDED: a duplicate, the record and its content claim left as they are', async () => {
    const source = fakeUpload(deps, 'photos/replay.jpg', photo);
    const validate = createValidateHandler(() => deps);
    const input = { event: objectCreatedEvent(source), executionId: EXECUTION };
    const first = await validate(input);
    if (first.outcome !== 'valid') throw new Error(`expected valid, got ${first.outcome}`);
    await deps.ledger.succeed(first.job, { outputBucket: deps.config.outputBucket, outputs: [], timings: {}, cacheHit: false });
    const jobId = jobIdFor(source);
    const record = structuredClone(deps.ledger.records.get(jobId));
    const contents = structuredClone([...deps.ledger.contents.values()]);
    expect(await validate(input)).toEqual({ outcome: 'duplicate', jobId, existingStatus: 'SUCCEEDED' });
    expect(deps.ledger.records.get(jobId)).toEqual(record);
    expect([...deps.ledger.contents.values()]).toEqual(contents);
  });

  it('finishing while the other copy validates: markProcessing finds the job ended and the copy stops', async () => {
    const source = fakeUpload(deps, 'photos/race.jpg', photo);
    const input = { event: objectCreatedEvent(source), executionId: EXECUTION };
    const first = await createValidateHandler(() => deps)(input);
    if (first.outcome !== 'valid') throw new Error(`expected valid, got ${first.outcome}`);
    // The second copy claims (the job is PROCESSING: it is the owner too), then the first ends it.
    const ledger = deps.ledger;
    const claim = ledger.claimContent.bind(ledger);
    ledger.claimContent = async (job, now, lease) => {
      await ledger.succeed(first.job, { outputBucket: deps.config.outputBucket, outputs: [], timings: {}, cacheHit: false });
      return claim(job, now, lease);
    };
    expect(await createValidateHandler(() => deps)(input)).toEqual({ outcome: 'duplicate', jobId: first.job.jobId, existingStatus: 'SUCCEEDED' });
    expect(deps.ledger.records.get(first.job.jobId)).toMatchObject({ status: 'SUCCEEDED', attempts: 1 });
  });
});
