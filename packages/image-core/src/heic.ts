import { crc32, deflateSync } from 'node:zlib';
import sharp, { type Sharp, type SharpOptions } from 'sharp';
import { InvalidImageError, UnsupportedFormatError } from './errors.js';
import { structureComplete } from './container.js';

/**
 * HEIC/HEIF decoding. The bundled libvips reads a HEIC's header (dimensions, ICC profile, EXIF)
 * but has no HEVC decoder, so the pixels come from libheif compiled to WebAssembly
 * (`heic-decode` over `libheif-js`, LGPL-3.0). It is loaded on the first HEIC only, ships as a
 * separate module beside the Lambda bundle (never inlined: the LGPL lets a deployer replace it),
 * and runs only after the limits have passed on the header's dimensions.
 *
 * libheif applies the file's transformations (irot, imir, clap): the pixels come out upright,
 * and libvips reports those upright dimensions and no EXIF orientation, so nothing is rotated twice.
 * Pixels come out as 8-bit RGBA; a 10-bit HEIC is reduced to 8 bits.
 */

type HeicDecode = typeof import('heic-decode').default;
type HeicPixels = Awaited<ReturnType<HeicDecode>>;

let decoder: Promise<HeicDecode> | undefined;

/** The first HEIC loads the decoder (2 MB of JavaScript and WebAssembly); a process that never sees one never pays for it. */
export function loadHeicDecoder(): Promise<HeicDecode> {
  decoder ??= import('heic-decode').then((module) => module.default);
  return decoder;
}

/** The expected size, from the header the limits were checked on. */
export interface HeicSize {
  width: number;
  height: number;
}

/**
 * Decodes a HEIC's primary image into a sharp pipeline holding its pixels, with the file's ICC
 * profile (an iPhone's Display P3) attached so the usual conversion to sRGB is right. A decode
 * failure is a rejection (TRUNCATED when the boxes end early, CORRUPT_IMAGE otherwise), never a retry.
 */
export async function openHeic(input: Buffer, size: HeicSize, options: SharpOptions): Promise<Sharp> {
  const decode = await loadHeicDecoder();
  let pixels: HeicPixels;
  try {
    pixels = await decode({ buffer: input });
  } catch (error) {
    const truncated = structureComplete(input, 'heic') === false;
    // heic-decode reads only the brands mif1, msf1, heic, heix, hevc and hevx.
    if (!truncated && error instanceof TypeError && /not a HEIC/i.test(error.message)) {
      throw new UnsupportedFormatError('UNSUPPORTED_VARIANT', `This HEIF variant cannot be decoded (${errorText(error)})`, {
        cause: error,
        details: { format: 'heic' },
      });
    }
    throw new InvalidImageError(
      truncated ? 'TRUNCATED' : 'CORRUPT_IMAGE',
      truncated ? 'Decoding the HEIC image failed: the file ends before the data its boxes declare' : `Decoding the HEIC image failed: ${errorText(error)}`,
      { cause: error, details: { format: 'heic', bytes: input.length } },
    );
  }
  if (pixels.width !== size.width || pixels.height !== size.height) {
    throw new InvalidImageError(
      'CORRUPT_IMAGE',
      `The HEIC header says ${size.width}×${size.height}, but its image decodes to ${pixels.width}×${pixels.height}`,
      { details: { format: 'heic', header: size, decoded: { width: pixels.width, height: pixels.height } } },
    );
  }
  const rgba = Buffer.from(pixels.data.buffer, pixels.data.byteOffset, pixels.data.byteLength);
  const raw = { width: pixels.width, height: pixels.height, channels: 4 } as const;
  const { icc } = await sharp(input, { failOn: options.failOn, limitInputPixels: false }).metadata();
  if (!icc) return sharp(rgba, { ...options, raw });
  // sharp takes an input profile only from an encoded image: the pixels travel as an uncompressed
  // PNG carrying the HEIC's profile in an iCCP chunk.
  const png = await sharp(rgba, { raw }).png({ compressionLevel: 0, adaptiveFiltering: false }).toBuffer();
  return sharp(withIccChunk(png, icc), options);
}

function errorText(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split('\n')[0] || 'libheif gave no reason';
}

const PNG_SIGNATURE_BYTES = 8;
/** Length, type, 13 bytes of data and CRC. */
const IHDR_BYTES = 25;

/** A PNG with an iCCP chunk (the profile, zlib-compressed) inserted right after IHDR, where the PNG spec wants it. */
export function withIccChunk(png: Buffer, icc: Buffer): Buffer {
  // Profile name "icc", a NUL, compression method 0 (zlib), then the compressed profile.
  const typeAndData = Buffer.concat([Buffer.from('iCCPicc\0\0', 'latin1'), deflateSync(icc)]);
  const chunk = Buffer.alloc(4 + typeAndData.length + 4);
  chunk.writeUInt32BE(typeAndData.length - 4, 0);
  typeAndData.copy(chunk, 4);
  chunk.writeUInt32BE(crc32(typeAndData), 4 + typeAndData.length);
  const headerEnd = PNG_SIGNATURE_BYTES + IHDR_BYTES;
  return Buffer.concat([png.subarray(0, headerEnd), chunk, png.subarray(headerEnd)]);
}
