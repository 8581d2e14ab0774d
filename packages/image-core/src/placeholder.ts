import { encode as encodeBlurhash } from 'blurhash';
import { rgbaToThumbHash } from 'thumbhash';
import { toImageError } from './errors.js';
import { type WorkingImage, open } from './working.js';

export interface Placeholder {
  /** 'thumbhash' (base64, ~25 bytes, keeps aspect and alpha) or 'blurhash' (base83). */
  kind: 'thumbhash' | 'blurhash' | 'none';
  hash?: string;
  /** The dominant colour as #rrggbb, for a solid placeholder or a background. */
  dominantColor: string;
}

const hex = (value: number) => value.toString(16).padStart(2, '0');

/** Computes a placeholder from an already decoded image (no decode of the original). ThumbHash wants ≤100 px. */
export async function placeholder(image: WorkingImage, kind: Placeholder['kind'] = 'thumbhash'): Promise<Placeholder> {
  try {
    const small = await open(image)
      .resize({ width: 100, height: 100, fit: 'inside' })
      .ensureAlpha()
      .toColourspace('srgb')
      .raw()
      .toBuffer({ resolveWithObject: true });
    const { data, info } = small;
    const { dominant } = await open({ kind: 'raw', data, width: info.width, height: info.height, channels: 4 }).stats();
    const dominantColor = `#${hex(dominant.r)}${hex(dominant.g)}${hex(dominant.b)}`;
    if (kind === 'thumbhash') {
      return { kind, hash: Buffer.from(rgbaToThumbHash(info.width, info.height, data)).toString('base64'), dominantColor };
    }
    if (kind === 'blurhash') {
      const components = (size: number, other: number) => Math.max(1, Math.min(9, Math.round((4 * size) / Math.max(size, other))));
      const hash = encodeBlurhash(new Uint8ClampedArray(data), info.width, info.height, components(info.width, info.height), components(info.height, info.width));
      return { kind, hash, dominantColor };
    }
    return { kind, dominantColor };
  } catch (error) {
    throw toImageError(error, 'Computing the placeholder');
  }
}
