import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BenchImage, generatedImages } from '../src/corpus.js';

/** One small generated photo (cached per test file in a temporary folder). */
export async function smallImage(): Promise<BenchImage> {
  const dir = await mkdtemp(join(tmpdir(), 'imgflow-bench-test-'));
  const [image] = await generatedImages([{ name: 'small.jpg', width: 960, height: 640, format: 'jpeg' }], dir);
  if (!image) throw new Error('no image generated');
  return image;
}
