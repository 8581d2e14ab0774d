import { crc32 } from 'node:zlib';
import { photoLike } from '@imgflow/samples';
import sharp from 'sharp';

/**
 * Byte-level surgery on real image files: the hostile inputs are made from valid files whose
 * headers are rewritten, so each one is exactly "a real file of that format, except …".
 */

/** A small photo-like image in one of the formats imgflow accepts. */
export async function smallImage(format: 'jpeg' | 'png' | 'webp' | 'gif' | 'tiff' | 'avif', width = 96, height = 64, seed = 7): Promise<Buffer> {
  const base = sharp(await photoLike({ width, height, seed, format: 'png' }));
  switch (format) {
    case 'jpeg':
      return base.jpeg({ quality: 80 }).toBuffer();
    case 'png':
      return base.png().toBuffer();
    case 'webp':
      return base.webp({ quality: 80 }).toBuffer();
    case 'gif':
      return base.gif().toBuffer();
    case 'tiff':
      return base.tiff({ compression: 'lzw' }).toBuffer();
    case 'avif':
      return base.avif({ quality: 50, effort: 0 }).toBuffer();
  }
}

function fail(what: string): never {
  throw new Error(`cannot build the hostile input: ${what}`);
}

/** PNG: IHDR width/height rewritten, CRC fixed, so libpng takes the header as genuine. */
export function pngDeclaring(png: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(png);
  if (out.subarray(12, 16).toString('latin1') !== 'IHDR') fail('PNG without IHDR first');
  out.writeUInt32BE(width, 16);
  out.writeUInt32BE(height, 20);
  out.writeUInt32BE(crc32(out.subarray(12, 29)) >>> 0, 29);
  return out;
}

/** Walks JPEG marker segments up to the first scan; calls `visit` with each marker and its offset. */
function jpegSegments(jpeg: Buffer, visit: (marker: number, offset: number, length: number) => void): number {
  let offset = 2;
  while (offset + 4 <= jpeg.length) {
    if (jpeg[offset] !== 0xff) fail(`JPEG marker expected at ${offset}`);
    const marker = jpeg[offset + 1] as number;
    const length = jpeg.readUInt16BE(offset + 2);
    visit(marker, offset, length);
    if (marker === 0xda) return offset;
    offset += 2 + length;
  }
  return fail('JPEG without a scan');
}

/** JPEG: the SOFn frame header's height and width rewritten (16 bits each: at most 65535). */
export function jpegDeclaring(jpeg: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(jpeg);
  let patched = false;
  jpegSegments(out, (marker, offset) => {
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      out.writeUInt16BE(height, offset + 5);
      out.writeUInt16BE(width, offset + 7);
      patched = true;
    }
  });
  if (!patched) fail('JPEG without a SOF segment');
  return out;
}

/** Inserts extra marker segments (APPn) right after SOI. */
export function jpegWithSegments(jpeg: Buffer, segments: Array<{ marker: number; payload: Buffer }>): Buffer {
  const parts: Buffer[] = [jpeg.subarray(0, 2)];
  for (const { marker, payload } of segments) {
    if (payload.length > 65533) fail('a JPEG segment holds at most 65533 bytes');
    const header = Buffer.alloc(4);
    header[0] = 0xff;
    header[1] = marker;
    header.writeUInt16BE(payload.length + 2, 2);
    parts.push(header, payload);
  }
  parts.push(jpeg.subarray(2));
  return Buffer.concat(parts);
}

/** GIF: the logical screen and every image descriptor rewritten (16 bits little-endian each). */
export function gifDeclaring(gif: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(gif);
  out.writeUInt16LE(width, 6);
  out.writeUInt16LE(height, 8);
  let descriptors = 0;
  walkGif(out, (kind, offset) => {
    if (kind === 'image') {
      out.writeUInt16LE(width, offset + 5);
      out.writeUInt16LE(height, offset + 7);
      descriptors += 1;
    }
  });
  if (descriptors === 0) fail('GIF without an image descriptor');
  return out;
}

function skipSubBlocks(gif: Buffer, offset: number): number {
  let at = offset;
  for (;;) {
    const size = gif[at];
    if (size === undefined) fail('GIF sub-blocks run past the end');
    at += 1 + size;
    if (size === 0) return at;
  }
}

/** Calls `visit` for each extension and image descriptor; returns where the body starts and where the trailer is. */
function walkGif(gif: Buffer, visit: (kind: 'extension' | 'image', offset: number, end: number) => void): { body: number; trailer: number } {
  const flags = gif[10] as number;
  let offset = 13 + (flags & 0x80 ? 3 * 2 ** ((flags & 7) + 1) : 0);
  const body = offset;
  for (;;) {
    const block = gif[offset];
    if (block === 0x3b) return { body, trailer: offset };
    if (block === 0x21) {
      const end = skipSubBlocks(gif, offset + 2);
      visit('extension', offset, end);
      offset = end;
    } else if (block === 0x2c) {
      const local = gif[offset + 9] as number;
      const table = local & 0x80 ? 3 * 2 ** ((local & 7) + 1) : 0;
      const end = skipSubBlocks(gif, offset + 10 + table + 1);
      visit('image', offset, end);
      offset = end;
    } else {
      fail(`unexpected GIF block 0x${(block ?? 0).toString(16)} at ${offset}`);
    }
  }
}

/** A GIF of `frames` copies of the one frame of `gif` (its graphic control extension and image). */
export function gifWithFrames(gif: Buffer, frames: number): Buffer {
  const { body, trailer } = walkGif(gif, () => undefined);
  const frame = gif.subarray(body, trailer);
  return Buffer.concat([gif.subarray(0, body), ...Array.from({ length: frames }, () => frame), Buffer.from([0x3b])]);
}

/**
 * WebP: a VP8X extended header whose canvas and VP8 key frame both declare width × height
 * (14 bits in the frame: at most 16383 × 16383 = 268 MP, above any sane limit).
 */
export function webpDeclaring(webp: Buffer, width: number, height: number): Buffer {
  if (webp.subarray(12, 16).toString('latin1') !== 'VP8 ') fail('expected a simple lossy WebP');
  const vp8 = Buffer.from(webp.subarray(12));
  // Frame tag (3 bytes) and start code (3 bytes) follow the 8-byte chunk header.
  if (vp8[11] !== 0x9d || vp8[12] !== 0x01 || vp8[13] !== 0x2a) fail('VP8 start code not found');
  vp8.writeUInt16LE(width & 0x3fff, 14);
  vp8.writeUInt16LE(height & 0x3fff, 16);
  const vp8x = Buffer.alloc(18);
  vp8x.write('VP8X', 0, 'latin1');
  vp8x.writeUInt32LE(10, 4);
  vp8x.writeUIntLE(width - 1, 12, 3);
  vp8x.writeUIntLE(height - 1, 15, 3);
  const riff = Buffer.alloc(12);
  riff.write('RIFF', 0, 'latin1');
  riff.writeUInt32LE(4 + vp8x.length + vp8.length, 4);
  riff.write('WEBP', 8, 'latin1');
  return Buffer.concat([riff, vp8x, vp8]);
}

/** TIFF (little- or big-endian): ImageWidth (256) and ImageLength (257) of the first IFD rewritten. */
export function tiffDeclaring(tiff: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(tiff);
  const little = out.subarray(0, 2).toString('latin1') === 'II';
  const u16 = (at: number) => (little ? out.readUInt16LE(at) : out.readUInt16BE(at));
  const u32 = (at: number) => (little ? out.readUInt32LE(at) : out.readUInt32BE(at));
  const ifd = u32(4);
  const entries = u16(ifd);
  let patched = 0;
  for (let index = 0; index < entries; index += 1) {
    const entry = ifd + 2 + index * 12;
    const tag = u16(entry);
    if (tag !== 256 && tag !== 257) continue;
    const value = tag === 256 ? width : height;
    const type = u16(entry + 2);
    if (type === 3) {
      if (value > 0xffff) fail('a SHORT dimension holds at most 65535');
      if (little) out.writeUInt16LE(value, entry + 8);
      else out.writeUInt16BE(value, entry + 8);
    } else {
      if (little) out.writeUInt32LE(value, entry + 8);
      else out.writeUInt32BE(value, entry + 8);
    }
    patched += 1;
  }
  if (patched !== 2) fail('TIFF without ImageWidth and ImageLength');
  return out;
}

/** AVIF (HEIF): every `ispe` (image spatial extents) property rewritten. */
export function avifDeclaring(avif: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(avif);
  let patched = 0;
  for (let at = out.indexOf('ispe', 0, 'latin1'); at >= 0; at = out.indexOf('ispe', at + 4, 'latin1')) {
    // box: size(4) 'ispe'(4) version/flags(4) width(4) height(4)
    out.writeUInt32BE(width, at + 8);
    out.writeUInt32BE(height, at + 12);
    patched += 1;
  }
  if (patched === 0) fail('AVIF without an ispe box');
  return out;
}

/** A minimal ZIP archive holding one stored file: what makes a JPEG+ZIP polyglot. */
export function zipOf(name: string, content: Buffer): Buffer {
  const nameBytes = Buffer.from(name);
  const crc = crc32(content) >>> 0;
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(10, 4);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(content.length, 18);
  local.writeUInt32LE(content.length, 22);
  local.writeUInt16LE(nameBytes.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(10, 6);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(content.length, 20);
  central.writeUInt32LE(content.length, 24);
  central.writeUInt16LE(nameBytes.length, 28);
  const localSize = local.length + nameBytes.length + content.length;
  const centralSize = central.length + nameBytes.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(centralSize, 12);
  end.writeUInt32LE(localSize, 16);
  return Buffer.concat([local, nameBytes, content, central, nameBytes, end]);
}

/** Deterministic noise (xorshift): "random bytes" that are the same on every run. */
export function noise(length: number, seed = 1): Buffer {
  const out = Buffer.alloc(length);
  let state = seed >>> 0 || 1;
  for (let index = 0; index < length; index += 1) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    out[index] = state & 0xff;
  }
  return out;
}
