import { ImageTooLargeError } from './errors.js';
import { DEFAULT_LIMITS, type ImageLimits, checkLimits } from './limits.js';
import { type ImageInfo, probe } from './probe.js';

/**
 * Probes and checks in one call. The byte limit is checked before anything else, then the
 * sniffer's verdict (only an accepted format's bytes reach libvips), then the header's facts.
 */
export async function validateImage(input: Buffer, limits: ImageLimits = DEFAULT_LIMITS): Promise<ImageInfo> {
  if (input.length > limits.maxBytes) {
    throw new ImageTooLargeError('TOO_MANY_BYTES', `The file is ${input.length} bytes; the limit is ${limits.maxBytes} bytes`, {
      details: { bytes: input.length, maxBytes: limits.maxBytes },
    });
  }
  const info = await probe(input, { acceptedFormats: limits.acceptedFormats });
  checkLimits(info, limits);
  return info;
}
