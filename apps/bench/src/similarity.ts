import { createRequire } from 'node:module';
import { type Luma, lumaOf } from '@imgflow/image-core';
import sharp, { type Sharp } from 'sharp';

// ssim.js is CommonJS: its functions are properties of module.exports.
const { ssim } = createRequire(import.meta.url)('ssim.js') as typeof import('ssim.js');

/**
 * Luma averaged over f×f blocks, f = round(min(w, h) / 256): the downsampling of Wang et al.'s
 * reference SSIM, done in one pass (image-core's lumaOf, flattened on white) instead of
 * ssim.js's full-resolution convolution (20× slower on a 2048 px image).
 */
function downsampledLuma(pipeline: Sharp): Promise<Luma> {
  return lumaOf(pipeline, '#ffffff', (width, height) => Math.max(1, Math.round(Math.min(width, height) / 256)));
}

/**
 * References for the similarity score: the original decoded in full (no shrink-on-load),
 * upright, then each size resized directly from those pixels with Lanczos 3: the best
 * rendition a careful, slow pipeline could make. Transparency is flattened on white, as the
 * outputs are for the comparison.
 */
export interface ScoredReference {
  width: number;
  height: number;
  /** Downsampled luma, ready for ssim.js. */
  luma: Luma;
}

export async function references(original: Buffer, sizes: ReadonlyArray<{ width: number; height: number }>): Promise<Map<string, ScoredReference>> {
  const { data, info } = await sharp(original, { limitInputPixels: false })
    .autoOrient()
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  const raw = { raw: { width: info.width, height: info.height, channels: info.channels } };
  const result = new Map<string, ScoredReference>();
  for (const size of sizes) {
    const key = `${size.width}x${size.height}`;
    if (result.has(key)) continue;
    result.set(key, { ...size, luma: await downsampledLuma(sharp(data, raw).resize({ width: size.width, height: size.height, fit: 'fill', kernel: 'lanczos3' })) });
  }
  return result;
}

/**
 * SSIM (ssim.js, its default Weber algorithm, on luma downsampled as the reference SSIM does)
 * of an encoded output against the reference: 1 is identical. An output a pixel off in size is
 * resized to the reference first.
 */
export async function similarity(output: Uint8Array, reference: ScoredReference): Promise<number> {
  let pipeline = sharp(output);
  const header = await pipeline.metadata();
  if (header.width !== reference.width || header.height !== reference.height) {
    pipeline = pipeline.resize({ width: reference.width, height: reference.height, fit: 'fill', kernel: 'lanczos3' });
  }
  const image = await downsampledLuma(pipeline);
  return ssim(image, reference.luma, { downsample: false }).mssim;
}
