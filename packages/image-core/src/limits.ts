import { z } from 'zod';
import { InvalidOptionError, ImageTooLargeError, ImageTooSmallError, InvalidImageError, UnsupportedFormatError } from './errors.js';
import { DEFAULT_ACCEPTED_FORMATS, INPUT_FORMATS, type InputFormat } from './formats.js';
import type { ImageInfo } from './probe.js';
import { parseOrThrow } from './schema.js';

/**
 * Defaults, and why:
 * - maxPixels 50 MP: covers 45 MP full-frame cameras; far below libvips' 268 MP, between
 *   imgproxy (16.8 MP) and thumbor (75 MP). A 50 MP RGBA frame is 200 MB decoded, which a
 *   1024 MB Lambda holds with shrink-on-load headroom.
 * - maxBytes 50 MiB: a large camera JPEG is 10–25 MB.
 * - maxFrames 100 and maxTotalPixels 200 MP bound animations (frames × pixels).
 * - min 8×8: anything smaller carries no picture.
 */
export const LimitsSchema = z
  .object({
    acceptedFormats: z.array(z.enum(INPUT_FORMATS)).min(1).default([...DEFAULT_ACCEPTED_FORMATS]),
    maxBytes: z.number().int().positive().default(50 * 1024 * 1024),
    maxPixels: z.number().int().positive().default(50_000_000),
    maxFrames: z.number().int().positive().default(100),
    maxTotalPixels: z.number().int().positive().default(200_000_000),
    minWidth: z.number().int().positive().default(8),
    minHeight: z.number().int().positive().default(8),
    /** libvips gives up on one operation after this long. */
    timeoutSeconds: z.number().int().positive().max(900).default(30),
  })
  .strict();

export type ImageLimits = z.output<typeof LimitsSchema>;
export type ImageLimitsInput = z.input<typeof LimitsSchema>;

export const DEFAULT_LIMITS: ImageLimits = LimitsSchema.parse({});

/** Fills defaults and checks every field; a bad field throws InvalidOptionError naming it. */
export function resolveLimits(input: ImageLimitsInput = {}): ImageLimits {
  return parseOrThrow(LimitsSchema, input, 'limits', (message, issues) => new InvalidOptionError(message, { details: { issues } }));
}

function mp(pixels: number): string {
  return `${(pixels / 1_000_000).toFixed(1)} MP`;
}

/**
 * Checks a probed header against the limits. Throws the named error for the first limit
 * broken. Works on the header alone, so a decompression bomb is refused before any pixel is decoded.
 */
export function checkLimits(info: ImageInfo, limits: ImageLimits = DEFAULT_LIMITS): void {
  if (info.bytes > limits.maxBytes) {
    throw new ImageTooLargeError('TOO_MANY_BYTES', `The file is ${info.bytes} bytes; the limit is ${limits.maxBytes} bytes`, {
      details: { bytes: info.bytes, maxBytes: limits.maxBytes },
    });
  }
  if (!limits.acceptedFormats.includes(info.format)) {
    throw new UnsupportedFormatError(
      'FORMAT_NOT_ALLOWED',
      `${info.format.toUpperCase()} input is not accepted; accepted formats: ${limits.acceptedFormats.join(', ')}`,
      { details: { format: info.format, acceptedFormats: limits.acceptedFormats } },
    );
  }
  if (info.width === 0 || info.height === 0) {
    throw new InvalidImageError('CORRUPT_IMAGE', `The ${info.format} header declares no dimensions`, { details: { format: info.format } });
  }
  const pixels = info.width * info.height;
  if (pixels > limits.maxPixels) {
    throw new ImageTooLargeError(
      'TOO_MANY_PIXELS',
      `The image declares ${info.width}×${info.height} (${mp(pixels)}); the limit is ${mp(limits.maxPixels)}`,
      { details: { width: info.width, height: info.height, pixels, maxPixels: limits.maxPixels } },
    );
  }
  if (info.frames > limits.maxFrames) {
    throw new ImageTooLargeError('TOO_MANY_FRAMES', `The animation has ${info.frames} frames; the limit is ${limits.maxFrames}`, {
      details: { frames: info.frames, maxFrames: limits.maxFrames },
    });
  }
  const totalPixels = pixels * info.frames;
  if (totalPixels > limits.maxTotalPixels) {
    throw new ImageTooLargeError(
      'TOO_MANY_PIXELS',
      `The animation's ${info.frames} frames of ${info.width}×${info.height} total ${mp(totalPixels)}; the limit is ${mp(limits.maxTotalPixels)}`,
      { details: { frames: info.frames, pixels, totalPixels, maxTotalPixels: limits.maxTotalPixels } },
    );
  }
  if (info.width < limits.minWidth || info.height < limits.minHeight) {
    throw new ImageTooSmallError(
      'TOO_SMALL',
      `The image is ${info.width}×${info.height}; the minimum is ${limits.minWidth}×${limits.minHeight}`,
      { details: { width: info.width, height: info.height, minWidth: limits.minWidth, minHeight: limits.minHeight } },
    );
  }
}

export type { InputFormat };
