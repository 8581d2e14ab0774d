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
  toDecodeError,
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

  it.each([
    ['VipsJpeg: Premature end of JPEG file', 'InvalidImageError', 'TRUNCATED'],
    ['VipsJpeg: Premature end of input file', 'InvalidImageError', 'TRUNCATED'],
    ['pngload_buffer: libpng read error', 'InvalidImageError', 'TRUNCATED'],
    ['tiff2vips: Read error on strip 3; got 1200 bytes, expected 3072', 'InvalidImageError', 'TRUNCATED'],
    ['webp2vips: unable to decode image: NOT_ENOUGH_DATA', 'InvalidImageError', 'TRUNCATED'],
    ['gifload_buffer: unexpected end of file', 'InvalidImageError', 'TRUNCATED'],
    ['TIFFReadDirectory: Sorry, can not handle images with 12-bit samples', 'UnsupportedFormatError', 'UNSUPPORTED_VARIANT'],
    ['tiff2vips: Compression scheme 34712 tile decoding is not implemented', 'UnsupportedFormatError', 'UNSUPPORTED_VARIANT'],
    ['VipsJpeg: Unsupported JPEG process: SOF type 0xc3', 'UnsupportedFormatError', 'UNSUPPORTED_VARIANT'],
    ['Input buffer has corrupt header: image: bad labq format', 'UnsupportedFormatError', 'UNSUPPORTED_VARIANT'],
    ['VipsJpeg: Unsupported marker type 0x02', 'InvalidImageError', 'CORRUPT_IMAGE'],
    ['VipsJpeg: Invalid SOS parameters for sequential JPEG', 'InvalidImageError', 'CORRUPT_IMAGE'],
    ['TIFFFetchNormalTag: Warning, ASCII value for tag "GeoASCIIParams" does not end in null byte', 'InvalidImageError', 'CORRUPT_IMAGE'],
    ['some libvips failure no one has seen before', 'InvalidImageError', 'CORRUPT_IMAGE'],
    // The GeoTIFF of issue 12 under failOn 'warning': a rejection now, not three retries.
    ['Warning treated as error due to failOn setting\nASCII value for ASCII array tag "Tag 34737" does not end in null byte\nerror in tile 0 x 0', 'InvalidImageError', 'CORRUPT_IMAGE'],
    ['Input buffer contains unsupported image format', 'UnsupportedFormatError', 'UNKNOWN_FORMAT'],
    ['Input image exceeds pixel limit', 'ImageTooLargeError', 'TOO_MANY_PIXELS'],
    ['vips2png: timeout', 'ImageTimeoutError', 'PROCESSING_TIMEOUT'],
    ['vips_malloc: out of memory --- size == 100MB', 'ImageProcessingError', 'PROCESSING_FAILED'],
    ['vips__file_open_read: unable to open file: Too many open files', 'ImageProcessingError', 'PROCESSING_FAILED'],
  ])('maps a failure reading the original, libvips "%s", to %s %s', (message, name, code) => {
    const error = toDecodeError(new Error(message), 'Decoding the image');
    expect(error.name).toBe(name);
    expect(error.code).toBe(code);
    expect(error.cause).toBeInstanceOf(Error);
    // Only what another attempt may not meet is retried: a decode failure of the same bytes never is.
    expect(error.permanent).toBe(name !== 'ImageProcessingError');
  });
});
