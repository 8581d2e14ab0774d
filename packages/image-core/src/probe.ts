import { createHash } from 'node:crypto';
import sharp, { type Metadata } from 'sharp';
import { InvalidImageError, UnsupportedFormatError, toImageError } from './errors.js';
import { trailingBytes } from './container.js';
import { type InputFormat, inputFormatFromSharp, sniffSignature, sniffUnreadable } from './formats.js';

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
  /** Number of animation frames (1 for still images; an AVIF/HEIF collection counts its primary image only). */
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
 * Reads an image's header. Throws InvalidImageError for empty or unreadable headers and
 * UnsupportedFormatError for bytes that are not an image format we know.
 */
export async function probe(input: Buffer): Promise<ImageInfo> {
  if (input.length === 0) {
    throw new InvalidImageError('EMPTY_FILE', 'The file is empty (0 bytes)');
  }
  const unreadable = sniffUnreadable(input);
  let metadata: Metadata;
  try {
    metadata = await sharp(input, { limitInputPixels: false }).metadata();
  } catch (error) {
    if (unreadable) {
      return unreadableInfo(unreadable, input);
    }
    const failure = toImageError(error, 'Reading the image header failed');
    const signature = sniffSignature(input);
    if (failure.code === 'UNKNOWN_FORMAT' && signature) {
      // The bytes start like an image we read: it is broken (e.g. truncated), not some other format.
      throw new InvalidImageError('CORRUPT_IMAGE', `The file starts like a ${signature.toUpperCase()} image, but its header cannot be read (truncated or corrupt)`, {
        cause: error,
        details: { format: signature },
      });
    }
    throw failure;
  }
  const format = inputFormatFromSharp(metadata.format, metadata.compression) ?? unreadable;
  if (!format) {
    throw new UnsupportedFormatError('UNKNOWN_FORMAT', `The bytes are ${String(metadata.format)}, not an image format imgflow reads`);
  }
  const orientation = metadata.orientation ?? 1;
  const storedWidth = metadata.width;
  const storedHeight = metadata.height;
  const swaps = orientation >= 5 && orientation <= 8;
  const isCollection = metadata.pagePrimary !== undefined;
  return {
    format,
    width: metadata.autoOrient?.width ?? (swaps ? storedHeight : storedWidth),
    height: metadata.autoOrient?.height ?? (swaps ? storedWidth : storedHeight),
    storedWidth,
    storedHeight,
    frames: isCollection ? 1 : (metadata.pages ?? 1),
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
