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
