import { createHash } from 'node:crypto';
import sharp, { type Metadata } from 'sharp';
import { type ImageError, InvalidImageError, UnsupportedFormatError, toDecodeError } from './errors.js';
import { structureComplete, trailingBytes } from './container.js';
import { FORMAT_NAMES, INPUT_FORMATS, type InputFormat, LIBVIPS_INPUT_FORMATS, inputFormatFromSharp, isInputFormat, sniffSignature } from './formats.js';

/**
 * When libvips gives up on an original's data (sharp's `failOn`). 'error' processes what only
 * earns a warning (a TIFF with an unknown tag, a JPEG with extraneous bytes before a marker: files
 * desktop viewers open) and refuses truncated or corrupt data. See README, "Tolerant decoding".
 */
export const DECODE_FAIL_ON = 'error' as const;

/** What the header of an image says about it. Nothing here needs the pixels decoded. */
export interface ImageInfo {
  /** Sniffed from the bytes, never from a file name or Content-Type. */
  format: InputFormat;
  /** Width as displayed, after EXIF orientation. */
  width: number;
  /** Height as displayed, after EXIF orientation. */
  height: number;
  /** Width and height as stored, before orientation. */
  storedWidth: number;
  storedHeight: number;
  /**
   * Number of animation frames: 1 for still images. An AVIF/HEIF collection counts its primary
   * image only, and a multi-page TIFF (a scan, a fax: a document, not an animation) its first page.
   */
  frames: number;
  hasAlpha: boolean;
  /** libvips interpretation: 'srgb', 'cmyk', 'b-w', 'grey16', 'rgb16', … */
  colourSpace: string;
  /** Bits per sample of one channel. */
  bitDepth: number;
  channels: number;
  hasIccProfile: boolean;
  hasExif: boolean;
  hasXmp: boolean;
  /** EXIF orientation 1–8 (1 when absent). */
  orientation: number;
  bytes: number;
  /**
   * Bytes after the end of the image's own structure: 0 for a plain file, more for a polyglot
   * (a JPEG with a ZIP or HTML appended); undefined when the end cannot be located. Decoders
   * ignore a trailer, so such a file is processed, but its bytes are never served as they are.
   */
  trailingBytes: number | undefined;
  /** Hex sha256 of the whole content: the identity of the bytes. */
  sha256: string;
}

const DEPTH_BITS: Record<string, number> = {
  uchar: 8,
  char: 8,
  ushort: 16,
  short: 16,
  uint: 32,
  int: 32,
  float: 32,
  complex: 64,
  double: 64,
  dpcomplex: 128,
};

export function sha256Hex(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * A libvips failure reading the original, named (toDecodeError). Where the decoder's message does
 * not tell truncated from corrupt data (libpng says "read error" for both), the file's own
 * structure does: cut short is TRUNCATED, complete is CORRUPT_IMAGE.
 */
export function decodeFailure(error: unknown, context: string, input: Buffer, format = sniffSignature(input)): ImageError {
  const failure = toDecodeError(error, context);
  if (!(failure instanceof InvalidImageError) || !format) return failure;
  const complete = structureComplete(input, format);
  if (complete === false && failure.code !== 'TRUNCATED') {
    return new InvalidImageError('TRUNCATED', `${context}: the file ends before the data its structure declares`, {
      cause: error,
      details: { format, bytes: input.length },
    });
  }
  if (complete === true && failure.code === 'TRUNCATED') {
    return new InvalidImageError('CORRUPT_IMAGE', `${context}: the image data is corrupt (every byte its structure declares is there)`, {
      cause: error,
      details: { format },
    });
  }
  return failure;
}

/** Formats whose structure probe checks for completeness on a readable header. */
const CHECKED_STRUCTURES: readonly InputFormat[] = ['png', 'webp', 'tiff'];

export interface ProbeOptions {
  /**
   * The formats whose bytes may reach a libvips loader. The sniffer's verdict comes first: any
   * other format is refused (FORMAT_NOT_ALLOWED, naming it) before a parser sees the bytes.
   * Default: every input format.
   */
  acceptedFormats?: readonly InputFormat[];
}

/** What a refusal adds for a format a deployment may turn on. */
const OPT_IN_HINTS: Partial<Record<string, string>> = {
  heic: ' (HEIC is opt-in: add heic to limits.acceptedFormats; README, "HEIC input", says what to consider first)',
};

function notAllowed(format: string, name: string, acceptedFormats: readonly InputFormat[]): UnsupportedFormatError {
  const hint = OPT_IN_HINTS[format] ?? '';
  return new UnsupportedFormatError('FORMAT_NOT_ALLOWED', `${name} input is not accepted; accepted formats: ${acceptedFormats.join(', ')}${hint}`, {
    details: { format, acceptedFormats },
  });
}

/**
 * The sniffer's verdict on the bytes, before any parser: the format when it is an accepted one;
 * otherwise EMPTY_FILE, FORMAT_NOT_ALLOWED naming a format it recognises (SVG in any spelling,
 * PDF, HEIC, JPEG 2000, JPEG XL, PSD, BMP, ICO, RAW containers, …) or UNKNOWN_FORMAT.
 */
export function admitFormat(input: Buffer, acceptedFormats: readonly InputFormat[] = INPUT_FORMATS): InputFormat {
  if (input.length === 0) {
    throw new InvalidImageError('EMPTY_FILE', 'The file is empty (0 bytes)');
  }
  const format = sniffSignature(input);
  if (!format) {
    throw new UnsupportedFormatError('UNKNOWN_FORMAT', 'The bytes are not an image format imgflow can read', { details: { bytes: input.length } });
  }
  if (!isInputFormat(format) || !acceptedFormats.includes(format)) throw notAllowed(format, FORMAT_NAMES[format], acceptedFormats);
  return format;
}

/**
 * Reads an image's header. The format comes from the sniffer first (admitFormat): only bytes
 * whose signature is an accepted format reach libvips. Throws InvalidImageError for empty or
 * unreadable headers and UnsupportedFormatError for bytes that are not an accepted format.
 */
export async function probe(input: Buffer, options: ProbeOptions = {}): Promise<ImageInfo> {
  const acceptedFormats = options.acceptedFormats ?? INPUT_FORMATS;
  const sniffed = admitFormat(input, acceptedFormats);
  if (!LIBVIPS_INPUT_FORMATS.includes(sniffed)) return unreadableInfo(sniffed, input);
  let metadata: Metadata;
  try {
    metadata = await sharp(input, { limitInputPixels: false, failOn: DECODE_FAIL_ON }).metadata();
  } catch (error) {
    const failure = decodeFailure(error, 'Reading the image header failed', input, sniffed);
    if (failure.code !== 'UNKNOWN_FORMAT') throw failure;
    // The bytes start like an image we read: it is broken, not some other format.
    const name = FORMAT_NAMES[sniffed];
    if (structureComplete(input, sniffed) === false) {
      throw new InvalidImageError('TRUNCATED', `The file starts like a ${name} image, but ends before the data its header declares (truncated)`, {
        cause: error,
        details: { format: sniffed, bytes: input.length },
      });
    }
    throw new InvalidImageError('CORRUPT_IMAGE', `The file starts like a ${name} image, but its header cannot be read (truncated or corrupt)`, {
      cause: error,
      details: { format: sniffed },
    });
  }
  const format = inputFormatFromSharp(metadata.format, metadata.compression);
  if (!format) {
    throw new UnsupportedFormatError('UNKNOWN_FORMAT', `The bytes are ${String(metadata.format)}, not an image format imgflow reads`);
  }
  // libvips tells AVIF from HEIC by the codec, which the brands may not.
  if (!acceptedFormats.includes(format)) throw notAllowed(format, FORMAT_NAMES[format], acceptedFormats);
  // A file cut short is refused from its structure, before any decode, even where the decoder
  // would not mind (a PNG that lacks only its IEND chunk). Not for ISO BMFF: bytes appended to
  // an AVIF (a polyglot) look like a box cut short.
  if (CHECKED_STRUCTURES.includes(format) && structureComplete(input, format) === false) {
    throw new InvalidImageError('TRUNCATED', `The ${FORMAT_NAMES[format]} file ends before the data its structure declares (truncated)`, {
      details: { format, bytes: input.length },
    });
  }
  const orientation = metadata.orientation ?? 1;
  const storedWidth = metadata.width;
  const storedHeight = metadata.height;
  const swaps = orientation >= 5 && orientation <= 8;
  // Only a TIFF's first page or a collection's primary image is decoded: the rest is never
  // animated and does not count against maxFrames.
  const isStill = metadata.pagePrimary !== undefined || format === 'tiff';
  return {
    format,
    width: metadata.autoOrient?.width ?? (swaps ? storedHeight : storedWidth),
    height: metadata.autoOrient?.height ?? (swaps ? storedWidth : storedHeight),
    storedWidth,
    storedHeight,
    frames: isStill ? 1 : (metadata.pages ?? 1),
    hasAlpha: metadata.hasAlpha,
    colourSpace: metadata.space,
    bitDepth: metadata.bitsPerSample ?? DEPTH_BITS[metadata.depth] ?? 8,
    channels: metadata.channels,
    hasIccProfile: metadata.hasProfile,
    hasExif: metadata.exif !== undefined,
    hasXmp: metadata.xmp !== undefined,
    orientation,
    bytes: input.length,
    trailingBytes: trailingBytes(input, format),
    sha256: sha256Hex(input),
  };
}

/** A format we can name but not decode: enough for validation to refuse it by name. */
function unreadableInfo(format: InputFormat, input: Buffer): ImageInfo {
  return {
    format,
    width: 0,
    height: 0,
    storedWidth: 0,
    storedHeight: 0,
    frames: 1,
    hasAlpha: false,
    colourSpace: 'unknown',
    bitDepth: 0,
    channels: 0,
    hasIccProfile: false,
    hasExif: false,
    hasXmp: false,
    orientation: 1,
    bytes: input.length,
    trailingBytes: undefined,
    sha256: sha256Hex(input),
  };
}
