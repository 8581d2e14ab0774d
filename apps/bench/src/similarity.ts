import { createRequire } from 'node:module';
import sharp, { type Sharp } from 'sharp';

// ssim.js is CommonJS: its functions are properties of module.exports.
const { ssim } = createRequire(import.meta.url)('ssim.js') as typeof import('ssim.js');

export interface RgbaImage {
  data: Uint8ClampedArray;
  width: number;
  height: number;
}

/**
 * Luma (ssim.js's integer rgb2gray) averaged over f×f blocks, f = round(min(w, h) / 256): the
 * downsampling of Wang et al.'s reference SSIM, done here in one pass instead of ssim.js's
 * full-resolution convolution (20× slower on a 2048 px image). Returned as grey RGBA for ssim.js.
 */
function lumaDownsampled(rgb: Buffer, width: number, height: number): RgbaImage {
  const f = Math.max(1, Math.round(Math.min(width, height) / 256));
  const outWidth = Math.floor(width / f);
  const outHeight = Math.floor(height / f);
  const data = new Uint8ClampedArray(outWidth * outHeight * 4);
  const area = f * f;
  for (let y = 0; y < outHeight; y += 1) {
    for (let x = 0; x < outWidth; x += 1) {
      let total = 0;
      for (let dy = 0; dy < f; dy += 1) {
        let offset = ((y * f + dy) * width + x * f) * 3;
        for (let dx = 0; dx < f; dx += 1, offset += 3) {
          total += (77 * (rgb[offset] as number) + 150 * (rgb[offset + 1] as number) + 29 * (rgb[offset + 2] as number) + 128) >> 8;
        }
      }
      const value = Math.round(total / area);
      const target = (y * outWidth + x) * 4;
      data[target] = value;
      data[target + 1] = value;
      data[target + 2] = value;
      data[target + 3] = 255;
    }
  }
  return { data, width: outWidth, height: outHeight };
}

async function rgba(pipeline: Sharp): Promise<RgbaImage> {
  const { data, info } = await pipeline.flatten({ background: '#ffffff' }).toColourspace('srgb').removeAlpha().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`Expected 3 channels to score but received ${info.channels}`);
  return lumaDownsampled(data, info.width, info.height);
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
  luma: RgbaImage;
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
    result.set(key, { ...size, luma: await rgba(sharp(data, raw).resize({ width: size.width, height: size.height, fit: 'fill', kernel: 'lanczos3' })) });
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
  const image = await rgba(pipeline);
  return ssim(image, reference.luma, { downsample: false }).mssim;
}
