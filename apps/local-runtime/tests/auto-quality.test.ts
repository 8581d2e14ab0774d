import { parseRecipe } from '@imgflow/image-core';
import { ImageManifestSchema } from '@imgflow/pipeline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalStack } from '../src/index.js';
import { download, photoJpeg, uploadAndWait } from './helpers.js';

describe("a recipe with 'auto' qualities on the local runtime", () => {
  let stack: LocalStack;

  beforeAll(async () => {
    const recipe = parseRecipe({
      formats: ['avif', 'webp', 'jpeg'],
      encoding: { jpeg: { quality: 'auto' }, webp: { quality: 'auto', target: 0.95 }, avif: { quality: 40 } },
      renditions: [
        { name: 'sm', width: 320 },
        { name: 'md', width: 640 },
      ],
    });
    stack = await LocalStack.start({ recipe, retryPauseMs: 5 });
  });

  afterAll(async () => {
    await stack.stop();
  });

  it('carries each choice into the manifest, the ledger record and the success notification', async () => {
    await stack.drainNotifications();
    const { record, jobId } = await uploadAndWait(stack, 'auto/photo.jpg', await photoJpeg(1000, 700, 17));
    expect(record).toMatchObject({ jobId, status: 'SUCCEEDED' });
    const choiceShape = { quality: expect.any(Number), score: expect.any(Number), target: expect.any(Number), metric: 'ssim', met: expect.any(Boolean) };

    const outputs = record?.outputs ?? [];
    expect(outputs).toHaveLength(6);
    for (const output of outputs) {
      if (output.format === 'avif') expect(output, output.key).not.toHaveProperty('autoQuality');
      else expect(output.autoQuality, output.key).toMatchObject({ ...choiceShape, target: output.format === 'webp' ? 0.95 : 0.92, trials: expect.any(Number) });
    }

    const manifest = ImageManifestSchema.parse(JSON.parse((await download(stack, record?.manifestKey ?? '')).toString('utf8')));
    const listed = manifest.renditions.flatMap((rendition) => rendition.outputs);
    expect(listed).toHaveLength(6);
    for (const output of listed) {
      const recorded = outputs.find((candidate) => candidate.key === output.key)?.autoQuality;
      if (!recorded) expect(output, output.key).not.toHaveProperty('autoQuality');
      else expect(output.autoQuality, output.key).toEqual({ quality: recorded.quality, score: recorded.score, target: recorded.target, metric: recorded.metric, met: recorded.met });
    }

    const notifications = await stack.drainNotifications();
    expect(notifications).toHaveLength(1);
    expect(notifications[0]).toMatchObject({ event: 'job.succeeded', jobId });
    expect(notifications[0]?.outputs).toEqual(outputs);
    expect(notifications[0]?.outputs?.filter((output) => output.autoQuality)).toHaveLength(4);
  });
});
