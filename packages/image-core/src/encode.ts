import type { Sharp } from 'sharp';
import { InvalidOptionError, toImageError } from './errors.js';
import { FILE_EXTENSIONS, MEDIA_TYPES, type OutputFormat } from './formats.js';
import { type Rights, applyMetadata } from './metadata.js';
import type { Encoding, MetadataKeep } from './recipe.js';
import { type WorkingImage, open } from './working.js';

export interface EncodedImage {
  format: OutputFormat;
  mediaType: string;
  extension: string;
  data: Buffer;
  width: number;
  height: number;
  bytes: number;
  /** For PNG: whether the palette (8-bit indexed) variant was the one kept. */
  palette?: boolean;
}

export interface EncodeOptions {
  encoding: Encoding;
  keep?: readonly MetadataKeep[];
  rights?: Rights;
  /** Colour to flatten transparency onto for formats without alpha (JPEG). */
  background?: string;
}

/**
 * A format's encoder quality. 'auto' must have been resolved to a number by chooseQualities
 * (quality.ts) before anything is encoded.
 */
export function fixedQuality(encoding: Encoding, format: 'jpeg' | 'webp' | 'avif'): number {
  const { quality } = encoding[format];
  // A caller's defect, not the image's: permanent, so the workflow does not retry it.
  if (quality === 'auto') throw new InvalidOptionError(`The ${format} quality is 'auto': chooseQualities() resolves it before encoding`);
  return quality;
}

function withEncoder(pipeline: Sharp, format: OutputFormat, encoding: Encoding, palette: boolean): Sharp {
  switch (format) {
    case 'jpeg': {
      const { progressive, mozjpeg } = encoding.jpeg;
      const quality = fixedQuality(encoding, 'jpeg');
      if (mozjpeg && !progressive) {
        // sharp's mozjpeg preset turns on scan optimisation, which forces progressive output:
        // keep the rest of the preset and leave scans alone.
        return pipeline.jpeg({ quality, progressive, trellisQuantisation: true, overshootDeringing: true, quantisationTable: 3, optimiseCoding: true });
      }
      return pipeline.jpeg({ quality, progressive, mozjpeg, optimiseCoding: true });
    }
    case 'webp':
      return pipeline.webp({ quality: fixedQuality(encoding, 'webp'), effort: encoding.webp.effort, lossless: encoding.webp.lossless });
    case 'avif':
      return pipeline.avif({
        quality: fixedQuality(encoding, 'avif'),
        effort: encoding.avif.effort,
        chromaSubsampling: encoding.avif.chromaSubsampling,
      });
    case 'png':
      return pipeline.png({
        compressionLevel: encoding.png.compressionLevel,
        palette,
        ...(palette ? { quality: encoding.png.quality, dither: encoding.png.quality === 100 ? 0 : 1 } : {}),
        adaptiveFiltering: !palette,
      });
  }
}

async function encodeOnce(image: WorkingImage, format: OutputFormat, options: EncodeOptions, palette: boolean): Promise<EncodedImage> {
  let pipeline = applyMetadata(open(image), options.keep ?? [], options.rights ?? {});
  if (format === 'jpeg' && (image.channels === 2 || image.channels === 4)) {
    pipeline = pipeline.flatten({ background: options.background ?? '#ffffff' });
  }
  try {
    const { data, info } = await withEncoder(pipeline, format, options.encoding, palette).toBuffer({ resolveWithObject: true });
    return {
      format,
      mediaType: MEDIA_TYPES[format],
      extension: FILE_EXTENSIONS[format],
      data,
      width: info.width,
      height: info.height,
      bytes: data.length,
      ...(format === 'png' ? { palette } : {}),
    };
  } catch (error) {
    throw toImageError(error, `Encoding ${format}`);
  }
}

/** Whether the image has at most `limit` distinct colours (alpha included), so a palette loses nothing. */
export function fitsPalette(image: WorkingImage, limit = 256): boolean {
  if (image.kind !== 'raw') return false;
  const colours = new Set<number>();
  const { data, channels } = image;
  for (let offset = 0; offset < data.length; offset += channels) {
    let colour = 0;
    for (let channel = 0; channel < channels; channel += 1) colour = colour * 256 + (data[offset + channel] ?? 0);
    colours.add(colour);
    if (colours.size > limit) return false;
  }
  return true;
}

/**
 * Encodes a working image. PNG stays lossless: with palette 'auto' a palette is tried only
 * when the image has at most 256 colours (so quantising loses nothing), and kept only when
 * it is the smaller file. `palette: true` forces a (lossy) quantised palette.
 */
export async function encode(image: WorkingImage, format: OutputFormat, options: EncodeOptions): Promise<EncodedImage> {
  if (format !== 'png' || options.encoding.png.palette !== 'auto') {
    return encodeOnce(image, format, options, format === 'png' && options.encoding.png.palette === true);
  }
  if (!fitsPalette(image)) return encodeOnce(image, format, options, false);
  const lossless = { ...options, encoding: { ...options.encoding, png: { ...options.encoding.png, quality: 100 } } };
  const [truecolour, palette] = await Promise.all([encodeOnce(image, format, options, false), encodeOnce(image, format, lossless, true)]);
  return palette.bytes < truecolour.bytes ? palette : truecolour;
}
