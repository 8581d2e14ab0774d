import type { InputFormat } from './formats.js';

/**
 * Where an image file's own structure ends. Decoders stop there and ignore what follows, so a
 * valid JPEG with a ZIP or an HTML page appended (a polyglot) decodes fine: the pixels are
 * used, but the bytes themselves must never be served as an output, or the trailer rides along.
 */

function jpegEnd(bytes: Buffer): number | undefined {
  if (bytes[0] !== 0xff || bytes[1] !== 0xd8) return undefined;
  let offset = 2;
  let inScan = false;
  while (offset + 1 < bytes.length) {
    if (inScan) {
      // Entropy-coded data: 0xFF is followed by a stuffed 0x00, a restart marker or fill bytes.
      if (bytes[offset] !== 0xff) {
        offset += 1;
        continue;
      }
      const next = bytes[offset + 1] as number;
      if (next === 0x00 || next === 0xff || (next >= 0xd0 && next <= 0xd7)) {
        offset += next === 0xff ? 1 : 2;
        continue;
      }
      inScan = false;
    }
    if (bytes[offset] !== 0xff) return undefined;
    const marker = bytes[offset + 1] as number;
    if (marker === 0xd9) return offset + 2;
    if (marker === 0xff) {
      offset += 1;
      continue;
    }
    if (marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      offset += 2;
      continue;
    }
    if (offset + 4 > bytes.length) return undefined;
    offset += 2 + bytes.readUInt16BE(offset + 2);
    if (marker === 0xda) inScan = true;
  }
  return undefined;
}

function pngEnd(bytes: Buffer): number | undefined {
  let offset = 8;
  while (offset + 12 <= bytes.length) {
    const length = bytes.readUInt32BE(offset);
    const type = bytes.subarray(offset + 4, offset + 8).toString('latin1');
    offset += 12 + length;
    if (type === 'IEND') return offset <= bytes.length ? offset : undefined;
  }
  return undefined;
}

function riffEnd(bytes: Buffer): number | undefined {
  if (bytes.length < 12 || bytes.subarray(0, 4).toString('latin1') !== 'RIFF') return undefined;
  const size = bytes.readUInt32LE(4);
  const end = 8 + size + (size % 2);
  return end <= bytes.length ? end : undefined;
}

/** ISO BMFF (AVIF, HEIC): top-level boxes one after another; a box that does not fit is not part of the file. */
function isoBoxesEnd(bytes: Buffer): number | undefined {
  let offset = 0;
  while (offset + 8 <= bytes.length) {
    let size = bytes.readUInt32BE(offset);
    const type = bytes.subarray(offset + 4, offset + 8).toString('latin1');
    if (!/^[\x20-\x7e]{4}$/.test(type)) break;
    if (size === 0) return bytes.length;
    if (size === 1) {
      if (offset + 16 > bytes.length) break;
      const large = bytes.readBigUInt64BE(offset + 8);
      if (large > BigInt(bytes.length)) break;
      size = Number(large);
    }
    if (size < 8 || offset + size > bytes.length) break;
    offset += size;
  }
  return offset > 0 ? offset : undefined;
}

/**
 * Bytes after the end of the image's own structure (0 for a plain file), or undefined when the
 * format's end cannot be located (formats imgflow never serves as-is: GIF, TIFF, SVG, PDF).
 */
export function trailingBytes(bytes: Buffer, format: InputFormat): number | undefined {
  let end: number | undefined;
  switch (format) {
    case 'jpeg':
      end = jpegEnd(bytes);
      break;
    case 'png':
      end = pngEnd(bytes);
      break;
    case 'webp':
      end = riffEnd(bytes);
      break;
    case 'avif':
    case 'heic':
      end = isoBoxesEnd(bytes);
      break;
    default:
      end = undefined;
  }
  return end === undefined ? undefined : bytes.length - end;
}

/**
 * Whether a TIFF's structure is all there: its first directory, and the strips or tiles that
 * directory points to (a cut file loses the directory, which libtiff writes after the pixels, or
 * the end of the pixels). Undefined when the directory cannot be read far enough to tell.
 */
function tiffComplete(bytes: Buffer): boolean | undefined {
  if (bytes.length < 8) return false;
  const head = bytes.subarray(0, 4).toString('latin1');
  const little = head === 'II*\0';
  if (!little && head !== 'MM\0*') return undefined;
  const u16 = (offset: number) => (little ? bytes.readUInt16LE(offset) : bytes.readUInt16BE(offset));
  const u32 = (offset: number) => (little ? bytes.readUInt32LE(offset) : bytes.readUInt32BE(offset));
  const ifd = u32(4);
  if (ifd < 8) return undefined;
  if (ifd + 2 > bytes.length) return false;
  const count = u16(ifd);
  if (count === 0 || count > 4096) return undefined;
  if (ifd + 2 + count * 12 + 4 > bytes.length) return false;
  const arrays = new Map<number, number[]>();
  for (let index = 0; index < count; index += 1) {
    const entry = ifd + 2 + index * 12;
    const tag = u16(entry);
    // StripOffsets, StripByteCounts, TileOffsets, TileByteCounts.
    if (![273, 279, 324, 325].includes(tag)) continue;
    const type = u16(entry + 2);
    const size = type === 3 ? 2 : type === 4 ? 4 : 0;
    const values = u32(entry + 4);
    if (size === 0 || values > 1_000_000) return undefined;
    const at = values * size <= 4 ? entry + 8 : u32(entry + 8);
    if (at + values * size > bytes.length) return false;
    arrays.set(
      tag,
      Array.from({ length: values }, (_, value) => (size === 2 ? u16(at + value * 2) : u32(at + value * 4))),
    );
  }
  const offsets = arrays.get(273) ?? arrays.get(324);
  const counts = arrays.get(279) ?? arrays.get(325);
  if (!offsets || !counts || offsets.length !== counts.length) return undefined;
  return offsets.every((offset, index) => offset + (counts[index] ?? 0) <= bytes.length);
}

/** Whether every top-level box of an ISO BMFF file (AVIF, HEIC) fits in the bytes. */
function isoBoxesComplete(bytes: Buffer): boolean | undefined {
  let offset = 0;
  while (offset + 8 <= bytes.length) {
    let size = bytes.readUInt32BE(offset);
    if (!/^[\x20-\x7e]{4}$/.test(bytes.subarray(offset + 4, offset + 8).toString('latin1'))) return undefined;
    if (size === 0) return true;
    if (size === 1) {
      if (offset + 16 > bytes.length) return false;
      size = Number(bytes.readBigUInt64BE(offset + 8));
    }
    if (size < 8) return undefined;
    if (offset + size > bytes.length) return false;
    offset += size;
  }
  return offset === bytes.length ? true : offset > 0 ? false : undefined;
}

/** Whether a PNG's chunks run from the signature to IEND within the bytes (a chunk is 12 bytes plus its data). */
function pngComplete(bytes: Buffer): boolean | undefined {
  let offset = 8;
  while (offset + 8 <= bytes.length) {
    const length = bytes.readUInt32BE(offset);
    const type = bytes.subarray(offset + 4, offset + 8).toString('latin1');
    if (!/^[A-Za-z]{4}$/.test(type)) return undefined;
    if (offset + 12 + length > bytes.length) return false;
    if (type === 'IEND') return true;
    offset += 12 + length;
  }
  return false;
}

/**
 * Whether the file's own structure is all there: true when it is (so a decoder that runs out of
 * data met corrupt data, not the end of the file), false when it declares more than the bytes
 * hold (a WebP's RIFF size, a PNG chunk or its missing IEND, an AVIF/HEIC box, a TIFF's
 * directory, strips or tiles), undefined when the format's structure says nothing either way
 * (JPEG, GIF: their decoders' messages do). Tells TRUNCATED from CORRUPT_IMAGE where libpng,
 * libwebp, libheif and libtiff report only that they cannot decode.
 */
export function structureComplete(bytes: Buffer, format: string): boolean | undefined {
  switch (format) {
    case 'webp':
      if (bytes.length < 12) return false;
      return bytes.subarray(0, 4).toString('latin1') === 'RIFF' ? 8 + bytes.readUInt32LE(4) <= bytes.length : undefined;
    case 'png':
      return pngComplete(bytes);
    case 'avif':
    case 'heic':
      return isoBoxesComplete(bytes);
    case 'tiff':
      return tiffComplete(bytes);
    default:
      return undefined;
  }
}
