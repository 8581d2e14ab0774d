import { crc32, gzipSync } from 'node:zlib';
import sharp from 'sharp';
import { noise } from './formats.js';

/**
 * Hand-made bytes for the hostile suite: formats imgflow refuses (forged from their signatures),
 * SVG in every spelling, and the structural boundaries of the accepted formats, so a file can
 * be cut exactly where one structure ends or another begins. Nothing here reads a third-party file.
 */

function fail(what: string): never {
  throw new Error(`cannot build the hostile input: ${what}`);
}

// ---------------------------------------------------------------------------------------------
// SVG and other text

const SVG_BODY = '<svg xmlns="http://www.w3.org/2000/svg" width="400" height="300"><rect width="400" height="300" fill="red"/></svg>';

/** A text file in UTF-8 (with a BOM when asked), or UTF-16 with its BOM. */
export function text(content: string, encoding: 'utf8' | 'utf8-bom' | 'utf16le-bom' | 'utf16be-bom' = 'utf8'): Buffer {
  switch (encoding) {
    case 'utf8':
      return Buffer.from(content, 'utf8');
    case 'utf8-bom':
      return Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(content, 'utf8')]);
    case 'utf16le-bom':
      return Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(content, 'utf16le')]);
    case 'utf16be-bom':
      return Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(content, 'utf16le').swap16()]);
  }
}

const XML_PROLOG = '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n';
const SVG_DOCTYPE = '<!DOCTYPE svg PUBLIC "-//W3C//DTD SVG 1.1//EN" "http://www.w3.org/Graphics/SVG/1.1/DTD/svg11.dtd">\n';

/** Ten levels of ten references: a billion "lol"s once expanded (the "billion laughs" attack). */
export function billionLaughsSvg(): string {
  const entities = ['<!ENTITY lol "lol">'];
  for (let level = 1; level <= 9; level += 1) {
    entities.push(`<!ENTITY lol${level} "${`&lol${level === 1 ? '' : level - 1};`.repeat(10)}">`);
  }
  return `${XML_PROLOG}<!DOCTYPE svg [\n${entities.join('\n')}\n]>\n<svg xmlns="http://www.w3.org/2000/svg" width="400" height="300"><text y="20">&lol9;</text></svg>`;
}

/** SVG spelled every way a sniffer must still call SVG. Each entry: name, key, bytes. */
export function svgSpellings(): Array<{ name: string; key: string; body: Buffer }> {
  const xxe = (doctypeName: string) =>
    `${XML_PROLOG}<!DOCTYPE ${doctypeName} [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>\n<svg xmlns="http://www.w3.org/2000/svg" width="400" height="300"><text y="20">&xxe;</text></svg>`;
  return [
    { name: 'plain <svg> named .svg', key: 'hostile/svg/plain.svg', body: text(SVG_BODY) },
    { name: 'XML prolog named .png', key: 'hostile/svg/prolog.png', body: text(`${XML_PROLOG}${SVG_BODY}`) },
    { name: 'prolog + DOCTYPE svg PUBLIC', key: 'hostile/svg/doctype.jpg', body: text(`${XML_PROLOG}${SVG_DOCTYPE}${SVG_BODY}`) },
    { name: 'DOCTYPE with internal entities (billion laughs)', key: 'hostile/svg/laughs.jpg', body: text(billionLaughsSvg()) },
    { name: 'external entity file:///etc/passwd (XXE)', key: 'hostile/svg/xxe.jpg', body: text(xxe('svg')) },
    { name: 'XXE under a DOCTYPE named otherwise, svg root', key: 'hostile/svg/xxe-foo.jpg', body: text(xxe('foo')) },
    {
      name: 'external parameter entity (XXE via DTD)',
      key: 'hostile/svg/xxe-dtd.webp',
      body: text(`${XML_PROLOG}<!DOCTYPE svg [<!ENTITY % remote SYSTEM "http://169.254.169.254/latest/meta-data/"> %remote;]>\n${SVG_BODY}`),
    },
    { name: 'UTF-8 BOM', key: 'hostile/svg/bom8.jpg', body: text(`${XML_PROLOG}${SVG_BODY}`, 'utf8-bom') },
    { name: 'UTF-16LE BOM', key: 'hostile/svg/bom16le.jpg', body: text(`<?xml version="1.0" encoding="UTF-16"?>\n${SVG_BODY}`, 'utf16le-bom') },
    { name: 'UTF-16BE BOM', key: 'hostile/svg/bom16be.jpg', body: text(`<?xml version="1.0" encoding="UTF-16"?>\n${SVG_BODY}`, 'utf16be-bom') },
    { name: 'leading comment', key: 'hostile/svg/comment.jpg', body: text(`<!-- Generator: Adobe Illustrator 27.0.0 -->\n${SVG_BODY}`) },
    { name: 'leading whitespace', key: 'hostile/svg/whitespace.jpg', body: text(`\n\r\n\t   \n${SVG_BODY}`) },
    {
      name: 'prolog, stylesheet PI, comment and DOCTYPE before the root',
      key: 'hostile/svg/everything.gif',
      body: text(`${XML_PROLOG}<?xml-stylesheet href="x.css"?>\n<!-- c -->\n${SVG_DOCTYPE}<!-- d -->\n${SVG_BODY}`),
    },
    { name: 'namespace-prefixed root <svg:svg>', key: 'hostile/svg/prefixed.jpg', body: text('<svg:svg xmlns:svg="http://www.w3.org/2000/svg" width="400" height="300"><svg:rect width="400" height="300"/></svg:svg>') },
    {
      name: 'external image href file:///etc/passwd',
      key: 'hostile/svg/href.jpg',
      body: text('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="400" height="300"><image xlink:href="file:///etc/passwd" width="400" height="300"/></svg>'),
    },
    {
      name: 'foreignObject with HTML and script',
      key: 'hostile/svg/foreign.png',
      body: text('<svg xmlns="http://www.w3.org/2000/svg" width="400" height="300"><foreignObject width="400" height="300"><body xmlns="http://www.w3.org/1999/xhtml"><script>alert(1)</script></body></foreignObject></svg>'),
    },
    { name: 'gzip-compressed SVGZ', key: 'hostile/svg/compressed.jpg', body: gzipSync(Buffer.from(`${XML_PROLOG}${SVG_BODY}`)) },
    { name: 'gzip-compressed SVGZ with a DOCTYPE and entities', key: 'hostile/svg/compressed-laughs.svgz', body: gzipSync(Buffer.from(billionLaughsSvg())) },
  ];
}

// ---------------------------------------------------------------------------------------------
// Formats imgflow names and refuses (forged from their signatures)

/** A 24-bit BMP (BITMAPINFOHEADER) of width × height grey pixels. */
export function bmp(width = 16, height = 16): Buffer {
  const row = Math.ceil((width * 3) / 4) * 4;
  const out = Buffer.alloc(54 + row * height, 0x80);
  out.write('BM', 0, 'latin1');
  out.writeUInt32LE(out.length, 2);
  out.writeUInt32LE(0, 6);
  out.writeUInt32LE(54, 10);
  out.writeUInt32LE(40, 14);
  out.writeInt32LE(width, 18);
  out.writeInt32LE(height, 22);
  out.writeUInt16LE(1, 26);
  out.writeUInt16LE(24, 28);
  out.writeUInt32LE(0, 30);
  out.writeUInt32LE(row * height, 34);
  out.fill(0, 38, 54);
  return out;
}

/** An icon (type 1) or cursor (type 2) directory holding one PNG. */
export function icon(png: Buffer, type: 1 | 2 = 1): Buffer {
  const header = Buffer.alloc(6 + 16);
  header.writeUInt16LE(0, 0);
  header.writeUInt16LE(type, 2);
  header.writeUInt16LE(1, 4);
  header[6] = 16;
  header[7] = 16;
  header.writeUInt16LE(1, 10);
  header.writeUInt16LE(32, 12);
  header.writeUInt32LE(png.length, 14);
  header.writeUInt32LE(header.length, 18);
  return Buffer.concat([header, png]);
}

/** A PSD file header (version 1, 3 channels, 16 × 16, 8 bits, RGB) and empty sections. */
export function psd(): Buffer {
  const out = Buffer.alloc(26 + 4 + 4 + 4 + 2 + 16 * 16 * 3);
  out.write('8BPS', 0, 'latin1');
  out.writeUInt16BE(1, 4);
  out.writeUInt16BE(3, 12);
  out.writeUInt32BE(16, 14);
  out.writeUInt32BE(16, 18);
  out.writeUInt16BE(8, 22);
  out.writeUInt16BE(3, 24);
  return out;
}

/** An ISO base media file: an ftyp box with the given brands, then a little of something else. */
export function isoFile(major: string, compatible: string[], rest: Buffer = noise(256, 5)): Buffer {
  const ftyp = Buffer.alloc(16 + 4 * compatible.length);
  ftyp.writeUInt32BE(ftyp.length, 0);
  ftyp.write('ftyp', 4, 'latin1');
  ftyp.write(major, 8, 'latin1');
  for (const [index, brand] of compatible.entries()) ftyp.write(brand, 16 + 4 * index, 'latin1');
  return Buffer.concat([ftyp, box('mdat', rest)]);
}

/** An ISO box: size, type, payload. */
export function box(type: string, payload: Buffer): Buffer {
  const header = Buffer.alloc(8);
  header.writeUInt32BE(8 + payload.length, 0);
  header.write(type, 4, 'latin1');
  return Buffer.concat([header, payload]);
}

/** The 12-byte signature box of JPEG 2000 ('jP  ') or JPEG XL ('JXL '), then an ftyp box and noise. */
export function signatureBoxFile(kind: 'jp2' | 'jxl'): Buffer {
  const signature = Buffer.alloc(12);
  signature.writeUInt32BE(12, 0);
  signature.write(kind === 'jp2' ? 'jP  ' : 'JXL ', 4, 'latin1');
  signature.writeUInt32BE(0x0d0a870a, 8);
  const brand = kind === 'jp2' ? 'jp2 ' : 'jxl ';
  return Buffer.concat([signature, box('ftyp', Buffer.from(`${brand}\0\0\0\0${brand}`, 'latin1')), noise(256, 6)]);
}

/** A JPEG 2000 codestream: SOC, then a SIZ marker segment declaring 16 × 16, then noise. */
export function j2kCodestream(): Buffer {
  const siz = Buffer.alloc(4 + 38 + 3 * 3);
  siz.writeUInt16BE(0xff51, 0);
  siz.writeUInt16BE(38 + 3 * 3, 2);
  siz.writeUInt32BE(16, 6);
  siz.writeUInt32BE(16, 10);
  siz.writeUInt32BE(16, 22);
  siz.writeUInt32BE(16, 26);
  siz.writeUInt16BE(3, 40);
  return Buffer.concat([Buffer.from([0xff, 0x4f]), siz, noise(128, 8)]);
}

/** A JPEG XL bare codestream: ff 0a, then noise. */
export function jxlCodestream(): Buffer {
  return Buffer.concat([Buffer.from([0xff, 0x0a]), noise(256, 9)]);
}

/**
 * A baseline TIFF written by hand: header, the IFD right after it (so a cut can fall inside the
 * strips with the IFD intact), then uncompressed RGB strips. `extraTags` (tag, LONG value) join
 * IFD0 in tag order; `magic` replaces bytes 2–3 ('*\0') and `after` is written at offset 8 (the
 * IFD then starts after it), for RAW containers built on TIFF.
 */
export function handTiff(options: { width?: number; height?: number; bigEndian?: boolean; extraTags?: Array<[number, number]>; magic?: Buffer; after?: Buffer } = {}): Buffer {
  const { width = 16, height = 16, bigEndian = false, extraTags = [] } = options;
  const rowsPerStrip = 4;
  const strips = Math.ceil(height / rowsPerStrip);
  const tags: Array<[number, number, number, number | number[]]> = [
    // tag, type (3 SHORT, 4 LONG), count, value(s)
    [256, 4, 1, width],
    [257, 4, 1, height],
    [258, 3, 3, [8, 8, 8]],
    [259, 3, 1, 1],
    [262, 3, 1, 2],
    [273, 4, strips, []],
    [277, 3, 1, 3],
    [278, 4, 1, rowsPerStrip],
    [279, 4, strips, []],
    ...extraTags.map(([tag, value]): [number, number, number, number] => [tag, 4, 1, value]),
  ];
  tags.sort((a, b) => a[0] - b[0]);
  const after = options.after ?? Buffer.alloc(0);
  const ifdAt = 8 + after.length;
  const ifdSize = 2 + tags.length * 12 + 4;
  const bitsAt = ifdAt + ifdSize;
  const offsetsAt = bitsAt + 6;
  const countsAt = offsetsAt + 4 * strips;
  const dataAt = countsAt + 4 * strips;
  const stripBytes = width * 3 * rowsPerStrip;
  const out = Buffer.alloc(dataAt + width * 3 * height);
  const u16 = (value: number, at: number) => (bigEndian ? out.writeUInt16BE(value, at) : out.writeUInt16LE(value, at));
  const u32 = (value: number, at: number) => (bigEndian ? out.writeUInt32BE(value, at) : out.writeUInt32LE(value, at));
  out.write(bigEndian ? 'MM' : 'II', 0, 'latin1');
  if (options.magic) options.magic.copy(out, 2);
  else u16(42, 2);
  u32(ifdAt, 4);
  after.copy(out, 8);
  u16(tags.length, ifdAt);
  for (const [index, [tag, type, count, value]] of tags.entries()) {
    const entry = ifdAt + 2 + index * 12;
    u16(tag, entry);
    u16(type, entry + 2);
    u32(count, entry + 4);
    if (tag === 258) u32(bitsAt, entry + 8);
    else if (tag === 273) u32(strips === 1 ? dataAt : offsetsAt, entry + 8);
    else if (tag === 279) u32(strips === 1 ? Math.min(stripBytes, width * 3 * height) : countsAt, entry + 8);
    else if (type === 3) u16(value as number, entry + 8);
    else u32(value as number, entry + 8);
  }
  for (let sample = 0; sample < 3; sample += 1) u16(8, bitsAt + 2 * sample);
  for (let strip = 0; strip < strips; strip += 1) {
    u32(dataAt + strip * stripBytes, offsetsAt + 4 * strip);
    u32(Math.min(stripBytes, width * 3 * height - strip * stripBytes), countsAt + 4 * strip);
  }
  for (let at = dataAt; at < out.length; at += 1) out[at] = (at * 7) & 0xff;
  return out;
}

/** Where the hand-made TIFF's IFD and pixel data start (for cutting). */
export function handTiffLayout(tiff: Buffer): { ifd: number; data: number } {
  const little = tiff[0] === 0x49;
  const ifd = little ? tiff.readUInt32LE(4) : tiff.readUInt32BE(4);
  const count = little ? tiff.readUInt16LE(ifd) : tiff.readUInt16BE(ifd);
  for (let index = 0; index < count; index += 1) {
    const entry = ifd + 2 + index * 12;
    const tag = little ? tiff.readUInt16LE(entry) : tiff.readUInt16BE(entry);
    if (tag !== 273) continue;
    const offsets = little ? tiff.readUInt32LE(entry + 8) : tiff.readUInt32BE(entry + 8);
    return { ifd, data: little ? tiff.readUInt32LE(offsets) : tiff.readUInt32BE(offsets) };
  }
  return fail('TIFF without StripOffsets');
}

// ---------------------------------------------------------------------------------------------
// Structure of the accepted formats: where each part starts and ends

/** JPEG marker segments up to and including SOS: marker, offset of its 0xFF, total length with the marker. */
export function jpegMarkers(jpeg: Buffer): Array<{ marker: number; offset: number; end: number }> {
  const markers: Array<{ marker: number; offset: number; end: number }> = [];
  let offset = 2;
  while (offset + 4 <= jpeg.length) {
    if (jpeg[offset] !== 0xff) fail(`JPEG marker expected at ${offset}`);
    const marker = jpeg[offset + 1] as number;
    const end = offset + 2 + jpeg.readUInt16BE(offset + 2);
    markers.push({ marker, offset, end });
    if (marker === 0xda) return markers;
    offset = end;
  }
  return fail('JPEG without a scan');
}

/** The first JPEG segment with this marker (or any SOFn when marker is 'sof'). */
export function jpegMarker(jpeg: Buffer, marker: number | 'sof'): { marker: number; offset: number; end: number } {
  const isSof = (each: number) => each >= 0xc0 && each <= 0xcf && each !== 0xc4 && each !== 0xc8 && each !== 0xcc;
  return jpegMarkers(jpeg).find((each) => (marker === 'sof' ? isSof(each.marker) : each.marker === marker)) ?? fail(`JPEG without marker ${String(marker)}`);
}

/** PNG chunks: type, offset of the length field, end (after the CRC). */
export function pngChunks(png: Buffer): Array<{ type: string; offset: number; end: number }> {
  const chunks: Array<{ type: string; offset: number; end: number }> = [];
  let offset = 8;
  while (offset + 12 <= png.length) {
    const length = png.readUInt32BE(offset);
    const type = png.subarray(offset + 4, offset + 8).toString('latin1');
    chunks.push({ type, offset, end: offset + 12 + length });
    offset += 12 + length;
  }
  return chunks;
}

export function pngChunk(type: string, data: Buffer): Buffer {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'latin1');
  data.copy(out, 8);
  out.writeUInt32BE(crc32(out.subarray(4, 8 + data.length)) >>> 0, 8 + data.length);
  return out;
}

/** A PNG with `chunks` inserted before the chunk of type `before` (IHDR, IDAT, IEND). */
export function pngInserting(png: Buffer, before: string, chunks: Buffer[]): Buffer {
  const at = pngChunks(png).find((chunk) => chunk.type === before) ?? fail(`PNG without ${before}`);
  return Buffer.concat([png.subarray(0, at.offset), ...chunks, png.subarray(at.offset)]);
}

/** RIFF chunks of a WebP: fourcc, offset of the chunk header, end (padded). */
export function webpChunks(webp: Buffer): Array<{ fourcc: string; offset: number; end: number }> {
  const chunks: Array<{ fourcc: string; offset: number; end: number }> = [];
  let offset = 12;
  while (offset + 8 <= webp.length) {
    const size = webp.readUInt32LE(offset + 4);
    const end = offset + 8 + size + (size % 2);
    chunks.push({ fourcc: webp.subarray(offset, offset + 4).toString('latin1'), offset, end });
    offset = end;
  }
  return chunks;
}

function riff(chunks: Buffer[]): Buffer {
  const header = Buffer.alloc(12);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(4 + chunks.reduce((sum, chunk) => sum + chunk.length, 0), 4);
  header.write('WEBP', 8, 'latin1');
  return Buffer.concat([header, ...chunks]);
}

/** An animated WebP of `frames` copies of the first ANMF frame of `animated`. */
export function webpWithFrames(animated: Buffer, frames: number): Buffer {
  const chunks = webpChunks(animated);
  const frame = chunks.find((chunk) => chunk.fourcc === 'ANMF') ?? fail('WebP without an ANMF frame');
  const before = chunks.filter((chunk) => chunk.fourcc !== 'ANMF' && chunk.offset < frame.offset);
  const frameBytes = animated.subarray(frame.offset, frame.end);
  return riff([...before.map((chunk) => animated.subarray(chunk.offset, chunk.end)), ...Array.from({ length: frames }, () => frameBytes)]);
}

/**
 * An animated WebP whose canvas (VP8X), every frame (ANMF) and every frame's VP8 key-frame
 * header declare width × height: the "animated WebP's frame" bomb.
 */
export function animatedWebpDeclaring(animated: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(animated);
  let frames = 0;
  for (const chunk of webpChunks(out)) {
    if (chunk.fourcc === 'VP8X') {
      out.writeUIntLE(width - 1, chunk.offset + 12, 3);
      out.writeUIntLE(height - 1, chunk.offset + 15, 3);
    } else if (chunk.fourcc === 'ANMF') {
      // ANMF payload: X, Y (3 bytes each), width-1, height-1 (3 bytes each), duration, flags; then sub-chunks.
      out.writeUIntLE(width - 1, chunk.offset + 14, 3);
      out.writeUIntLE(height - 1, chunk.offset + 17, 3);
      const vp8 = out.indexOf('VP8 ', chunk.offset + 24, 'latin1');
      if (vp8 < 0 || vp8 > chunk.end) fail('an ANMF frame without a lossy VP8 bitstream');
      if (out[vp8 + 11] !== 0x9d || out[vp8 + 12] !== 0x01 || out[vp8 + 13] !== 0x2a) fail('VP8 start code not found');
      out.writeUInt16LE(width & 0x3fff, vp8 + 14);
      out.writeUInt16LE(height & 0x3fff, vp8 + 16);
      frames += 1;
    }
  }
  if (frames === 0) fail('WebP without ANMF frames');
  return out;
}

/** A simple lossy WebP (RIFF + VP8) whose key-frame header declares width × height (14 bits). */
export function vp8Declaring(webp: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(webp);
  const vp8 = webpChunks(out).find((chunk) => chunk.fourcc === 'VP8 ') ?? fail('expected a simple lossy WebP');
  if (out[vp8.offset + 11] !== 0x9d) fail('VP8 start code not found');
  out.writeUInt16LE(width & 0x3fff, vp8.offset + 14);
  out.writeUInt16LE(height & 0x3fff, vp8.offset + 16);
  return out;
}

/** A lossless WebP (RIFF + VP8L) whose header declares width × height (14 bits each, stored minus one). */
export function vp8lDeclaring(webp: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(webp);
  const vp8l = webpChunks(out).find((chunk) => chunk.fourcc === 'VP8L') ?? fail('expected a lossless WebP');
  const at = vp8l.offset + 9;
  const bits = out.readUInt32LE(at);
  out.writeUInt32LE(((bits & ~0x0fffffff) | ((width - 1) & 0x3fff) | (((height - 1) & 0x3fff) << 14)) >>> 0, at);
  return out;
}

/** GIF: where the header, the logical screen (with its colour table) and the first image's LZW data are. */
export function gifLayout(gif: Buffer): { screenEnd: number; image: number; lzwStart: number } {
  const flags = gif[10] as number;
  let offset = 13 + (flags & 0x80 ? 3 * 2 ** ((flags & 7) + 1) : 0);
  const screenEnd = offset;
  while (gif[offset] === 0x21) {
    offset += 2;
    while ((gif[offset] as number) !== 0) offset += 1 + (gif[offset] as number);
    offset += 1;
  }
  if (gif[offset] !== 0x2c) fail('GIF without an image descriptor');
  const local = gif[offset + 9] as number;
  const lzwStart = offset + 10 + (local & 0x80 ? 3 * 2 ** ((local & 7) + 1) : 0) + 1;
  return { screenEnd, image: offset, lzwStart };
}

/** GIF: only the first image descriptor rewritten; the logical screen keeps its size. */
export function gifFrameDeclaring(gif: Buffer, width: number, height: number): Buffer {
  const out = Buffer.from(gif);
  const { image } = gifLayout(out);
  out.writeUInt16LE(width, image + 5);
  out.writeUInt16LE(height, image + 7);
  return out;
}

/** ISO BMFF top-level boxes (AVIF): type, offset, end. */
export function isoBoxes(file: Buffer): Array<{ type: string; offset: number; end: number }> {
  const boxes: Array<{ type: string; offset: number; end: number }> = [];
  let offset = 0;
  while (offset + 8 <= file.length) {
    const size = file.readUInt32BE(offset);
    if (size < 8) break;
    boxes.push({ type: file.subarray(offset + 4, offset + 8).toString('latin1'), offset, end: offset + size });
    offset += size;
  }
  return boxes;
}

export function isoBox(file: Buffer, type: string): { type: string; offset: number; end: number } {
  return isoBoxes(file).find((each) => each.type === type) ?? fail(`no ${type} box`);
}

/** An animated WebP of `frames` frames of distinct pictures (so the encoder keeps each one). */
export async function animatedWebp(frames: number, width = 16, height = 16): Promise<Buffer> {
  const pages = await Promise.all(
    Array.from({ length: frames }, (_, index) =>
      sharp({ create: { width, height, channels: 3, background: { r: (index * 80) % 256, g: 40, b: 200 - index * 30 } } })
        .png()
        .toBuffer(),
    ),
  );
  return sharp(pages, { join: { animated: true } }).webp({ quality: 60, effort: 0, loop: 0, delay: 100 }).toBuffer();
}

export { SVG_BODY, XML_PROLOG };
