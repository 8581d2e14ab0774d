import { describe, expect, it } from 'vitest';
import { loadIntermediates, storeIntermediate } from '../../src/intermediates.js';
import { fakeDeps, fakeJob, fakeUpload } from '../../src/testing.js';

function setUp() {
  const deps = fakeDeps();
  const job = fakeJob(fakeUpload(deps, 'photos/owl.jpg', Buffer.from('owl')), { format: 'jpeg', width: 10, height: 10 });
  return { deps, job };
}

describe('storeIntermediate', () => {
  it("writes the bundle to the job's work key and returns the reference, not the bytes", async () => {
    const { deps, job } = setUp();
    const placeholder = { kind: 'thumbhash' as const, hash: 'abc', dominantColor: '#000000' };
    const result = await storeIntermediate('resize', job, { bundle: Buffer.from('pixels'), renditions: ['a', 'b'], aliases: { a: 'a', b: 'a' }, placeholder }, deps, 0);
    expect(result).toEqual({
      step: 'resize',
      bundleKey: `work/${job.jobId}/resize.bundle`,
      renditions: ['a', 'b'],
      aliases: { a: 'a', b: 'a' },
      placeholder,
      millis: expect.any(Number),
    });
    expect(deps.s3.object('imgflow-output', `work/${job.jobId}/resize.bundle`)).toMatchObject({ body: Buffer.from('pixels'), contentType: 'application/octet-stream' });
  });

  it('writes nothing when nothing was rendered', async () => {
    const { deps, job } = setUp();
    expect(await storeIntermediate('filter', job, { renditions: [], aliases: {} }, deps, 0)).toEqual({ step: 'filter', renditions: [], aliases: {}, millis: expect.any(Number) });
    expect(deps.s3.requests).toEqual([]);
  });
});

describe('loadIntermediates', () => {
  it('reads the stored bundles back in order, with their aliases', async () => {
    const { deps, job } = setUp();
    const resized = await storeIntermediate('resize', job, { bundle: Buffer.from('one'), renditions: ['a'], aliases: { a: 'a' } }, deps, 0);
    const filtered = await storeIntermediate('filter', job, { renditions: [], aliases: {} }, deps, 0);
    expect(await loadIntermediates([resized, filtered], deps)).toEqual([{ bundle: Buffer.from('one'), aliases: { a: 'a' } }, { aliases: {} }]);
  });

  it('lets a missing bundle out as SourceMissingError', async () => {
    const { deps, job } = setUp();
    await expect(loadIntermediates([{ step: 'resize', bundleKey: `work/${job.jobId}/resize.bundle`, renditions: [], aliases: {}, millis: 0 }], deps)).rejects.toMatchObject({
      name: 'SourceMissingError',
    });
  });
});
