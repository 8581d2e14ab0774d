import sharp, { type Sharp } from 'sharp';
import { type ImageError, toImageError } from './errors.js';

/**
 * A decoded image between operations. 'raw' holds 8-bit sRGB pixels and costs nothing to
 * reopen. 'tiff' is an uncompressed TIFF used when the recipe keeps the ICC profile: the
 * profile has to travel with the pixels, and raw buffers cannot carry one.
 */
export interface WorkingImage {
  kind: 'raw' | 'tiff';
  data: Buffer;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
}

/** Opens a working image as a sharp pipeline, keeping its colour profile when it has one. */
export function open(image: WorkingImage): Sharp {
  if (image.kind === 'raw') {
    return sharp(image.data, { raw: { width: image.width, height: image.height, channels: image.channels } });
  }
  return sharp(image.data).keepIccProfile();
}

/**
 * Runs a pipeline and keeps its result as a working image of the given kind. `translate` names
 * a failure: toImageError by default, toDecodeError when the pipeline reads the original's bytes.
 */
export async function capture(
  pipeline: Sharp,
  kind: WorkingImage['kind'],
  context: string,
  translate: (error: unknown, context: string) => ImageError = toImageError,
): Promise<WorkingImage> {
  try {
    const output =
      kind === 'raw'
        ? pipeline.raw({ depth: 'uchar' })
        : pipeline.keepIccProfile().tiff({ compression: 'none' });
    const { data, info } = await output.toBuffer({ resolveWithObject: true });
    return { kind, data, width: info.width, height: info.height, channels: info.channels };
  } catch (error) {
    throw translate(error, context);
  }
}

export function hasAlpha(image: WorkingImage): boolean {
  return image.channels === 2 || image.channels === 4;
}
