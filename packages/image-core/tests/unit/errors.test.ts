import { contract } from '@imgflow/contract';
import { describe, expect, it } from 'vitest';
import * as core from '../../src/index.js';
import {
  ImageError,
  ImageProcessingError,
  ImageTimeoutError,
  ImageTooLargeError,
  InvalidImageError,
  REASON_CODES,
  RecipeError,
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
      expect(error.kind).toBe(contract.errors[error.name]?.kind);
      expect(error.permanent).toBe(error.kind !== 'retry');
    }
  });

  it('declares every error class in the workflow contract, and the contract names no class image-core lacks', () => {
    const classes = Object.entries(core)
      .filter(([, value]) => typeof value === 'function' && value.prototype instanceof ImageError)
      .map(([name]) => name)
      .sort();
    const declared = Object.entries(contract.errors)
      .filter(([, error]) => error.source === '@imgflow/image-core')
      .map(([name]) => name)
      .sort();
    expect(classes).toEqual(declared);
  });

  it('takes its kinds from the contract: decode and limit failures reject, a bad recipe fails, libvips trouble retries', () => {
    expect(new InvalidImageError('CORRUPT_IMAGE', 'x').kind).toBe('reject');
    expect(new ImageTooLargeError('TOO_MANY_PIXELS', 'x').kind).toBe('reject');
    expect(new RecipeError('x').kind).toBe('fail');
    expect(new ImageProcessingError('x').kind).toBe('retry');
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
