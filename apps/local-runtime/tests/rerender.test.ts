import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RecipeInput } from '@imgflow/image-core';
import type { ObjectRef } from '@imgflow/pipeline';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStack } from '../src/index.js';
import { download, listKeys, objectCreatedEvent, photoJpeg, uploadAndWait } from './helpers.js';

/*
 * A recipe change re-renders only what changed (issue 13): the same upload, run again under a
 * new recipe on the same buckets and ledger, renders the new and changed renditions, keeps the
 * unchanged outputs as they are, writes changed ones under new keys (a reader of the old manifest
 * still finds every object it names), and deletes the outputs of renditions the recipe dropped.
 */
const BEFORE: RecipeInput = {
  renditions: [
    { name: 'sm', width: 160 },
    { name: 'md', width: 400 },
    { name: 'old', width: 100 },
  ],
  formats: ['webp', 'jpeg'],
};
const AFTER: RecipeInput = {
  renditions: [
    { name: 'sm', width: 160 },
    { name: 'md', width: 480 },
    { name: 'xl', width: 600 },
  ],
  formats: ['webp', 'jpeg'],
};

describe('a recipe change re-renders only what changed', () => {
  let dataDir: string;
  let object: ObjectRef;
  let jobId: string;

  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'imgflow-rerender-'));
    const stack = await LocalStack.start({ dataDir, recipe: BEFORE, retryPauseMs: 5 });
    try {
      const first = await uploadAndWait(stack, 'photos/cat.jpg', await photoJpeg(800, 600));
      expect(first.record?.status).toBe('SUCCEEDED');
      object = first.object;
      jobId = first.jobId;
    } finally {
      await stack.stop();
    }
  });

  afterAll(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  it('renders the new and the changed renditions only, once; a run under the same recipe renders nothing', async () => {
    const stack = await LocalStack.start({ dataDir, recipe: AFTER, retryPauseMs: 5 });
    try {
      const before = await stack.ledger.get(jobId);
      const smBefore = await download(stack, 'renditions/photos/cat/sm.webp');
      const modified = async (key: string) => (await stack.clients.s3.send(new HeadObjectCommand({ Bucket: stack.config.outputBucket, Key: key }))).LastModified?.getTime();
      const smModified = await modified('renditions/photos/cat/sm.webp');
      // LastModified has a one-second resolution: a rewrite after this would show.
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const report = await stack.execute(objectCreatedEvent(object));
      expect(report.status).toBe('SUCCEEDED');
      const after = await stack.ledger.get(jobId);
      expect(after).toMatchObject({ status: 'SUCCEEDED', attempts: (before?.attempts ?? 0) + 1 });
      expect(after?.recipe).not.toBe(before?.recipe);
      const byRendition = (name: string) => (after?.outputs ?? []).filter((output) => output.rendition === name).map((output) => output.key).sort();
      // Unchanged: the same objects, untouched.
      expect(byRendition('sm')).toEqual(['renditions/photos/cat/sm.jpg', 'renditions/photos/cat/sm.webp']);
      expect((await download(stack, 'renditions/photos/cat/sm.webp')).equals(smBefore)).toBe(true);
      expect(await modified('renditions/photos/cat/sm.webp')).toBe(smModified);
      // Changed: new keys beside the old ones; new: plain keys.
      expect(byRendition('md')).toEqual([expect.stringMatching(/^renditions\/photos\/cat\/md\.[0-9a-f]{8}\.jpg$/), expect.stringMatching(/^renditions\/photos\/cat\/md\.[0-9a-f]{8}\.webp$/)]);
      expect(byRendition('xl')).toEqual(['renditions/photos/cat/xl.jpg', 'renditions/photos/cat/xl.webp']);
      expect(after?.outputs?.find((output) => output.rendition === 'md')?.width).toBe(480);
      const keys = await listKeys(stack, stack.config.outputBucket, 'renditions/photos/cat/');
      // The superseded md outputs stay (markup and old manifests name them); the dropped rendition is gone.
      expect(keys).toContain('renditions/photos/cat/md.webp');
      expect(keys.filter((key) => key.includes('/old.'))).toEqual([]);
      // The manifest lists the whole new set, the kept rendition with its old keys.
      const manifest = JSON.parse((await download(stack, after?.manifestKey ?? 'renditions/photos/cat/manifest.json')).toString()) as {
        renditions: Array<{ name: string; outputs: Array<{ key: string }> }>;
      };
      expect(manifest.renditions.map((rendition) => rendition.name)).toEqual(['sm', 'md', 'xl']);
      expect(manifest.renditions.flatMap((rendition) => rendition.outputs.map((output) => output.key)).sort()).toEqual(after?.outputs?.map((output) => output.key).sort());

      const again = await stack.execute(objectCreatedEvent(object));
      expect(again.path).toContain('AlreadyHandled');
      expect((await stack.ledger.get(jobId))?.attempts).toBe(after?.attempts);
    } finally {
      await stack.stop();
    }
  });
});
