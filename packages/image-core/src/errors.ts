import { type ErrorKind, errorKind } from '@imgflow/contract';

/**
 * The family of errors image-core throws. Step Functions matches Retry/Catch on `name`, so
 * names are part of the public contract, and each name's kind (retry, reject, fail) is declared
 * once, in the workflow contract (infra/modules/workflow/contract.json): a permanent error is
 * never worth retrying (the same bytes fail the same way), a transient one may succeed again.
 */

/** Stable, machine-readable reasons. They appear in the job ledger and in notifications. */
export const REASON_CODES = [
  'EMPTY_FILE',
  'UNKNOWN_FORMAT',
  'FORMAT_NOT_ALLOWED',
  'CORRUPT_IMAGE',
  'TOO_MANY_BYTES',
  'TOO_MANY_PIXELS',
  'TOO_MANY_FRAMES',
  'TOO_SMALL',
  'INVALID_RECIPE',
  'INVALID_OPTION',
  'MISSING_ASSET',
  'PROCESSING_TIMEOUT',
  'PROCESSING_FAILED',
] as const;

export type ReasonCode = (typeof REASON_CODES)[number];

export interface ImageErrorOptions extends ErrorOptions {
  /** Structured facts about the failure (declared dimensions, limit, …) for logs and the ledger. */
  details?: Record<string, unknown>;
}

export abstract class ImageError extends Error {
  readonly code: ReasonCode;
  readonly details: Record<string, unknown>;

  constructor(code: ReasonCode, message: string, options: ImageErrorOptions = {}) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
    this.details = options.details ?? {};
  }

  /** The workflow contract's kind for this class (a class missing from the contract is a defect: a test finds it). */
  get kind(): ErrorKind {
    return errorKind(this.name) ?? 'fail';
  }

  /** Not worth a retry: the contract's kind is reject or fail. */
  get permanent(): boolean {
    return this.kind !== 'retry';
  }
}

/** The bytes are not a decodable image: empty, corrupt or truncated. */
export class InvalidImageError extends ImageError {}

/** The bytes are a format we cannot read, or one the limits do not allow. */
export class UnsupportedFormatError extends ImageError {}

/** The image exceeds a size limit (bytes, pixels, frames). Raised from the header, before decoding. */
export class ImageTooLargeError extends ImageError {}

/** The image is smaller than the configured minimum dimensions. */
export class ImageTooSmallError extends ImageError {}

/** The recipe (or an option given in code) is invalid. The message names the field. */
export class RecipeError extends ImageError {
  constructor(message: string, options: ImageErrorOptions = {}) {
    super('INVALID_RECIPE', message, options);
  }
}

/** A function was called with an invalid argument. */
export class InvalidOptionError extends ImageError {
  constructor(message: string, options: ImageErrorOptions = {}) {
    super('INVALID_OPTION', message, options);
  }
}

/** The recipe references an asset (e.g. a watermark image) that was not supplied. */
export class MissingAssetError extends ImageError {
  constructor(message: string, options: ImageErrorOptions = {}) {
    super('MISSING_ASSET', message, options);
  }
}

/** libvips gave up after the configured time. The same pixels take the same time: permanent. */
export class ImageTimeoutError extends ImageError {
  constructor(message: string, options: ImageErrorOptions = {}) {
    super('PROCESSING_TIMEOUT', message, options);
  }
}

/** An unexpected failure not attributable to the input (e.g. memory pressure). Worth a retry. */
export class ImageProcessingError extends ImageError {
  constructor(message: string, options: ImageErrorOptions = {}) {
    super('PROCESSING_FAILED', message, options);
  }
}

export function isImageError(error: unknown): error is ImageError {
  return error instanceof ImageError;
}

const CORRUPT_PATTERNS = [
  /corrupt/i,
  /premature end/i,
  /truncated/i,
  /not a (jpeg|png|gif|webp|tiff)/i,
  /invalid (marker|huffman|png|gif)/i,
  /bad (huffman|seek|extent)/i,
  /libpng error/i,
  /read error/i,
  /out of order/i,
  /unexpected end/i,
  /no image/i,
  /Invalid .* data/i,
  /heif: /i,
  /decode/i,
  /CRC error/i,
  /Data is not/i,
];

/**
 * Turns whatever sharp/libvips threw while reading pixels into one of our named errors.
 * Anything that mentions the input's bytes is the input's fault (permanent); the rest is
 * reported as a processing failure that may be retried.
 */
export function toImageError(error: unknown, context: string): ImageError {
  if (error instanceof ImageError) return error;
  const message = error instanceof Error ? error.message : String(error);
  const firstLine = message.split('\n')[0] ?? message;
  if (/timeout/i.test(message)) {
    return new ImageTimeoutError(`${context}: processing exceeded its time limit`, { cause: error });
  }
  if (/pixel limit/i.test(message)) {
    return new ImageTooLargeError('TOO_MANY_PIXELS', `${context}: ${firstLine}`, { cause: error });
  }
  if (/unsupported image format/i.test(message)) {
    return new UnsupportedFormatError('UNKNOWN_FORMAT', `${context}: the bytes are not an image format imgflow can read`, {
      cause: error,
    });
  }
  if (CORRUPT_PATTERNS.some((pattern) => pattern.test(message))) {
    return new InvalidImageError('CORRUPT_IMAGE', `${context}: the image data is corrupt or truncated (${firstLine})`, {
      cause: error,
    });
  }
  return new ImageProcessingError(`${context}: ${firstLine}`, { cause: error });
}
