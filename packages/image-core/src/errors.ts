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
  'TRUNCATED',
  'UNSUPPORTED_VARIANT',
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

/** The bytes are not a decodable image: empty (EMPTY_FILE), corrupt (CORRUPT_IMAGE) or cut short (TRUNCATED). */
export class InvalidImageError extends ImageError {}

/**
 * The bytes are a format we cannot read (UNKNOWN_FORMAT), one the limits do not allow
 * (FORMAT_NOT_ALLOWED), or a variant of an accepted format the decoder cannot read
 * (UNSUPPORTED_VARIANT: an unusual TIFF layout or compression, …).
 */
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

/**
 * A failure not attributable to the input that may not happen again (memory pressure while
 * decoding, or a libvips failure on imgflow's own intermediate pixels). Worth a retry.
 */
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

/** libvips and its decoders saying the data ends before the image does. */
const TRUNCATED_PATTERNS = [
  /premature end/i,
  /truncated/i,
  /unexpected end/i,
  /end of (file|data|stream|input)/i,
  /\bEOF\b/,
  /read error/i,
  /not[ _]enough[ _](data|bytes)/i,
  /short read/i,
  /incomplete/i,
];

/** A variant of an accepted format that the decoder does not implement (TIFF layouts and compressions above all). */
const UNSUPPORTED_VARIANT_PATTERNS = [
  /not (yet )?(implemented|supported)/i,
  /unsupported(?! marker)/i,
  /can ?not handle/i,
  /can't handle/i,
  /unknown (compression|photometric|colou?r ?space|sample format)/i,
  /sorry/i,
  // libvips 8.18 reads an 8-bit CIELAB TIFF (Photoshop's Lab mode) as packed LabQ, then refuses its own result.
  /bad labq format/i,
];

/** Failures that may not recur on another attempt (another sandbox, more memory free). */
const TRANSIENT_PATTERNS = [/out of memory/i, /vips_malloc/i, /cannot allocate/i, /\bENOMEM\b/, /\bEMFILE\b/, /too many open files/i];

function firstLineOf(error: unknown): { message: string; firstLine: string } {
  const message = error instanceof Error ? error.message : String(error);
  return { message, firstLine: message.split('\n')[0] ?? message };
}

/** The limit errors libvips raises itself, shared by both translations. */
function limitError(error: unknown, message: string, firstLine: string, context: string): ImageError | undefined {
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
  return undefined;
}

/**
 * Turns whatever sharp/libvips threw while working on imgflow's own decoded pixels (resizing,
 * filters, encoding, placeholders) into one of our named errors. Anything that mentions broken
 * data is the input's fault (permanent); the rest is reported as a processing failure that may
 * be retried. Failures while reading the original's bytes go through toDecodeError instead.
 */
export function toImageError(error: unknown, context: string): ImageError {
  if (error instanceof ImageError) return error;
  const { message, firstLine } = firstLineOf(error);
  const limit = limitError(error, message, firstLine, context);
  if (limit) return limit;
  if (CORRUPT_PATTERNS.some((pattern) => pattern.test(message))) {
    return new InvalidImageError('CORRUPT_IMAGE', `${context}: the image data is corrupt or truncated (${firstLine})`, {
      cause: error,
    });
  }
  return new ImageProcessingError(`${context}: ${firstLine}`, { cause: error });
}

/**
 * Turns a failure while libvips reads the original's bytes (header or pixels) into a named
 * error. The same bytes fail the same way on every attempt, so a decode failure is a rejection,
 * never a retry: TRUNCATED when the data ends early, UNSUPPORTED_VARIANT when the decoder does
 * not implement the variant, CORRUPT_IMAGE otherwise. Only memory and file-handle exhaustion,
 * which another attempt may not meet, stay transient (ImageProcessingError).
 */
export function toDecodeError(error: unknown, context: string): ImageError {
  if (error instanceof ImageError) return error;
  const { message, firstLine } = firstLineOf(error);
  const limit = limitError(error, message, firstLine, context);
  if (limit) return limit;
  if (TRANSIENT_PATTERNS.some((pattern) => pattern.test(message))) {
    return new ImageProcessingError(`${context}: ${firstLine}`, { cause: error });
  }
  if (TRUNCATED_PATTERNS.some((pattern) => pattern.test(message))) {
    return new InvalidImageError('TRUNCATED', `${context}: the image data ends before the image does (${firstLine})`, { cause: error });
  }
  if (UNSUPPORTED_VARIANT_PATTERNS.some((pattern) => pattern.test(message))) {
    return new UnsupportedFormatError('UNSUPPORTED_VARIANT', `${context}: this variant of the format cannot be decoded (${firstLine})`, {
      cause: error,
    });
  }
  return new InvalidImageError('CORRUPT_IMAGE', `${context}: the image data is corrupt (${firstLine})`, { cause: error });
}
