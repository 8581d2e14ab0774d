import { describe, expect, it } from 'vitest';
import {
  ImageProcessingError,
  ImageTimeoutError,
  ImageTooLargeError,
  InvalidImageError,
  PERMANENT_ERROR_NAMES,
  REASON_CODES,
  RecipeError,
  TRANSIENT_ERROR_NAMES,
  UnsupportedFormatError,
  toImageError,
} from '../../src/index.js';

describe('errors', () => {
  it('names each error after its class, which Step Functions matches on', () => {
    const errors = [
      new InvalidImageError('CORRUPT_IMAGE', 'x'),
      new UnsupportedFormatError('UNKNOWN_FORMAT', 'x'),
      new ImageTooLargeError('TOO_MANY_PIXELS', 'x'),
      new RecipeError('x'),
      new ImageTimeoutError('x'),
      new ImageProcessingError('x'),
    ];
    for (const error of errors) {
      expect(error.name).toBe(error.constructor.name);
      expect(error).toBeInstanceOf(Error);
      expect(REASON_CODES).toContain(error.code);
      const list: readonly string[] = error.permanent ? PERMANENT_ERROR_NAMES : TRANSIENT_ERROR_NAMES;
      expect(list).toContain(error.name);
    }
  });

  it('keeps permanent and transient names disjoint', () => {
    const permanent: readonly string[] = PERMANENT_ERROR_NAMES;
    expect(TRANSIENT_ERROR_NAMES.filter((name) => permanent.includes(name))).toEqual([]);
  });

  it.each([
    ['VipsJpeg: premature end of JPEG image', 'InvalidImageError', 'CORRUPT_IMAGE'],
    ['Input buffer has corrupt header: pngload_buffer: libpng read error', 'InvalidImageError', 'CORRUPT_IMAGE'],
    ['Input buffer contains unsupported image format', 'UnsupportedFormatError', 'UNKNOWN_FORMAT'],
    ['Input image exceeds pixel limit', 'ImageTooLargeError', 'TOO_MANY_PIXELS'],
    ['vips2png: timeout', 'ImageTimeoutError', 'PROCESSING_TIMEOUT'],
    ['vips_malloc: out of memory --- size == 100MB', 'ImageProcessingError', 'PROCESSING_FAILED'],
  ])('maps libvips "%s" to %s', (message, name, code) => {
    const error = toImageError(new Error(message), 'Decoding');
    expect(error.name).toBe(name);
    expect(error.code).toBe(code);
    expect(error.cause).toBeInstanceOf(Error);
  });
});
