import { createHash } from 'node:crypto';
import { DeleteObjectCommand, GetObjectTaggingCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import type { RecipeInput } from '@imgflow/image-core';
import { type EventBridgeKeys, jobIdFor, outputStem } from '@imgflow/pipeline';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStack, type UploadVersioning } from '../src/index.js';
import { listKeys, photoJpeg, uploadAndAct, uploadAndWait } from './helpers.js';

// Uploads as S3 delivers them, on the strict S3 stand-in (src/s3/strict.ts), in both modes of
// the upload bucket: versioned (the default, as deployed) and unversioned.
const RECIPE: RecipeInput = { formats: ['webp'], renditions: [{ name: 'sm', width: 48 }] };

/** A small photo-like JPEG, its bytes made unique by `seed`. */
const picture = (seed: number, width = 96, height = 64) => photoJpeg(width, height, seed);

describe.each(['Enabled', 'Disabled'] as const satisfies readonly UploadVersioning[])('upload bucket versioning %s', (versioning) => {
  // EventBridge may carry the key decoded or URL-encoded (AWS does not say): the trigger does either.
  describe.each(['decoded', 'encoded'] as const satisfies readonly EventBridgeKeys[])('keys S3 encodes in its events (EventBridge keys %s)', (eventBridgeKeys) => {
    let stack: LocalStack;
    beforeAll(async () => {
      stack = await LocalStack.start({ retryPauseMs: 5, recipe: RECIPE, uploadVersioning: versioning, eventBridgeKeys });
    });
    afterAll(async () => {
      await stack.stop();
    });

    it.each([
      'keys/with space.jpg',
      'keys/c++ plus+sign.jpg',
      'keys/per%cent%41.jpg',
      'keys/100%25 sure.jpg',
      'keys/a=b&c=d.jpg',
      'keys/ünïcødé phötö.jpg',
      // Two uploads a decoding could confuse: each ends as its own job, with its own outputs.
      'keys/x y.jpg',
      'keys/x+y.jpg',
    ])('%s ends SUCCEEDED, its outputs under its own stem', async (key) => {
      const { record, reports, object } = await uploadAndWait(stack, key, await picture(key.length * 7 + key.charCodeAt(6)));
      expect(reports.map((report) => report.path.at(-1)), key).toEqual(['Done']);
      expect(record, key).toMatchObject({ status: 'SUCCEEDED', sourceKey: key, ...(versioning === 'Enabled' ? { versionId: object.versionId } : {}) });
      if (versioning === 'Enabled') expect(object.versionId, key).toMatch(/^[A-Za-z0-9_-]{20,}$/);
      else expect(object.versionId, key).toBeUndefined();
      expect(record?.outputs?.map((output) => output.key)).toEqual([`renditions/${outputStem(key)}/sm.webp`]);
      expect(await listKeys(stack, stack.config.outputBucket, `renditions/${outputStem(key)}/`)).toEqual([
        `renditions/${outputStem(key)}/manifest.json`,
        `renditions/${outputStem(key)}/sm.webp`,
      ]);
      expect(await stack.ledger.listBySourceKey(key)).toHaveLength(1);
    });
  });

  describe('the upload changing under its job', () => {
    let stack: LocalStack;
    beforeAll(async () => {
      stack = await LocalStack.start({ retryPauseMs: 5, recipe: RECIPE, uploadVersioning: versioning });
    });
    afterAll(async () => {
      await stack.stop();
    });

    it('an upload deleted before processing ends REJECTED SOURCE_MISSING (a delete marker hides a version too)', async () => {
      await stack.drainNotifications();
      stack.faults.failState('ValidateImage', { times: 1, delayMs: 300, delayOnly: true, error: () => new Error('unused') });
      const { record, reports } = await uploadAndAct(stack, 'changes/deleted.jpg', await picture(101), { when: 'entered', state: 'ValidateImage' }, (object) =>
        stack.clients.s3.send(new DeleteObjectCommand({ Bucket: object.bucket, Key: object.key })),
      );
      expect(reports.map((report) => report.path.at(-1))).toEqual(['Rejected']);
      expect(record).toMatchObject({ status: 'REJECTED', reasonCode: 'SOURCE_MISSING', reasonError: 'SourceMissingError' });
      expect(record?.reasonMessage).toMatch(/does not exist \(it may have been deleted before it was processed\)/);
      expect(await listKeys(stack, stack.config.outputBucket, 'renditions/changes/deleted/')).toEqual([]);
      expect((await stack.drainNotifications()).map((message) => message.event)).toEqual(['job.rejected']);
    });

    it('an upload overwritten while its job runs: that job ends REJECTED SOURCE_MISSING ("overwritten"), the newer upload SUCCEEDED with its outputs', async () => {
      await stack.drainNotifications();
      // The overwrite lands once ValidateImage is done, while ResizeImage waits.
      stack.faults.failState('ResizeImage', { times: 1, delayMs: 300, delayOnly: true, error: () => new Error('unused') });
      const newer = await picture(103, 80, 40);
      let newerVersion: string | undefined;
      const { record, reports, object } = await uploadAndAct(stack, 'changes/overwritten.jpg', await picture(102), { when: 'exited', state: 'ValidateImage' }, async (first) => {
        const put = await stack.clients.s3.send(new PutObjectCommand({ Bucket: first.bucket, Key: first.key, Body: newer }));
        newerVersion = put.VersionId;
      });
      expect(reports.map((report) => report.path.at(-1)).sort()).toEqual(['Done', 'Rejected']);
      expect(record).toMatchObject({ status: 'REJECTED', reasonCode: 'SOURCE_MISSING', reasonError: 'SourceMissingError' });
      expect(record?.reasonMessage).toMatch(/was overwritten after its event was sent; the newer upload is processed on its own/);
      const newerRecord = await stack.ledger.get(
        jobIdFor({ bucket: object.bucket, key: object.key, etag: createHash('md5').update(newer).digest('hex'), size: newer.length, ...(newerVersion ? { versionId: newerVersion } : {}) }),
      );
      expect(newerRecord).toMatchObject({ status: 'SUCCEEDED', width: 80, height: 40 });
      expect(newerRecord?.outputs?.map((output) => [output.key, output.width])).toEqual([['renditions/changes/overwritten/sm.webp', 48]]);
      expect((await stack.ledger.listBySourceKey('changes/overwritten.jpg')).map((each) => each.status).sort()).toEqual(['REJECTED', 'SUCCEEDED']);
      expect(await listKeys(stack, stack.config.outputBucket, stack.config.workPrefix)).toEqual([]);
      expect((await stack.drainNotifications()).map((message) => message.event).sort()).toEqual(['job.rejected', 'job.succeeded']);
    });
  });

  describe('tags and the clean-up', () => {
    let stack: LocalStack;
    beforeAll(async () => {
      // The JPEG rendition of the original's own size is a server-side copy of the upload (a pass-through).
      stack = await LocalStack.start({ retryPauseMs: 5, uploadVersioning: versioning, recipe: { formats: ['jpeg', 'webp'], renditions: [{ name: 'full', width: 120 }] } });
    });
    afterAll(async () => {
      await stack.stop();
    });

    it("a tagged upload ends SUCCEEDED and its renditions, the server-side copy of it included, carry none of the uploader's tags", async () => {
      const lowQuality = await sharp(await picture(104, 120, 80)).jpeg({ quality: 15 }).toBuffer();
      const { record, reports, object } = await uploadAndWait(stack, 'tags/tagged photo.jpg', lowQuality, { tags: 'owner=alice&project=secret plans' });
      const uploadTags = await stack.clients.s3.send(new GetObjectTaggingCommand({ Bucket: object.bucket, Key: object.key }));
      expect(uploadTags.TagSet).toEqual([
        { Key: 'owner', Value: 'alice' },
        { Key: 'project', Value: 'secret plans' },
      ]);
      expect(record?.status).toBe('SUCCEEDED');
      expect((reports[0]?.output as { optimized?: { passthrough?: number } } | undefined)?.optimized?.passthrough).toBe(1);
      expect(record?.outputs).toHaveLength(2);
      for (const output of record?.outputs ?? []) {
        const { TagSet } = await stack.clients.s3.send(new GetObjectTaggingCommand({ Bucket: stack.config.outputBucket, Key: output.key }));
        expect(TagSet, output.key).toEqual([]);
      }
    });

    it('a DeleteObjects per-key error in the notify clean-up is retried: SUCCEEDED, one notification, no work objects left', async () => {
      await stack.drainNotifications();
      stack.faults.failDeleteKeys({ times: 1, keys: stack.config.workPrefix, code: 'InternalError', message: 'We encountered an internal error. Please try again.' });
      const { record, reports } = await uploadAndWait(stack, 'cleanup/retried.jpg', await picture(105, 120, 80));
      expect(stack.faults.fired.get('s3:DeleteObjects:Errors')).toBe(1);
      expect(reports[0]).toMatchObject({ status: 'SUCCEEDED', invocations: { NotifySuccess: 2 } });
      expect(record).toMatchObject({ status: 'SUCCEEDED', notified: true });
      expect(await listKeys(stack, stack.config.outputBucket, stack.config.workPrefix)).toEqual([]);
      expect((await stack.drainNotifications()).filter((message) => message.source.key === 'cleanup/retried.jpg')).toHaveLength(1);
    });

    it('work objects S3 keeps refusing to delete are not lost silently: recorded, notified, and the execution fails visibly', async () => {
      await stack.drainNotifications();
      stack.faults.failDeleteKeys({ times: 10, keys: stack.config.workPrefix, code: 'AccessDenied', message: 'Access Denied' });
      const { record, reports, jobId } = await uploadAndWait(stack, 'cleanup/refused.jpg', await picture(106, 120, 80));
      stack.faults.clear();
      expect(record).toMatchObject({ status: 'SUCCEEDED', notified: true });
      expect(reports[0]).toMatchObject({ status: 'FAILED', error: { name: 'NotificationFailed' }, invocations: { NotifySuccess: 1 } });
      // (NotifySuccess raised AccessDeniedError "S3 did not delete 2 of 2 keys … (AccessDenied: Access Denied)", caught at $.notifyError.)
      expect(await listKeys(stack, stack.config.outputBucket, `${stack.config.workPrefix}${jobId}/`)).toEqual([`${stack.config.workPrefix}${jobId}/resize.bundle`]);
      expect((await stack.drainNotifications()).filter((message) => message.source.key === 'cleanup/refused.jpg')).toHaveLength(1);
    });
  });
});
