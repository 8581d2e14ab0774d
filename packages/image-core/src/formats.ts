import { constants, gunzipSync } from 'node:zlib';

/** Formats imgflow can read, as named in probes, limits and the ledger. */
export const INPUT_FORMATS = ['jpeg', 'png', 'webp', 'avif', 'gif', 'tiff', 'heic', 'svg', 'pdf'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

/**
 * Accepted by default: every raster format the bundled libvips decodes that a photo site takes.
 * SVG (scriptable, renders fonts and external references) and PDF are off unless a deployment opts in.
 * HEIC is opt-in: its decoder (libheif as WebAssembly, src/heic.ts) implements HEVC, which is
 * patent-encumbered; a deployment that accepts it says so (README, "HEIC input").
 */
export const DEFAULT_ACCEPTED_FORMATS: readonly InputFormat[] = ['jpeg', 'png', 'webp', 'avif', 'gif', 'tiff'];

/** Formats imgflow writes. */
export const OUTPUT_FORMATS = ['avif', 'webp', 'jpeg', 'png'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

export const MEDIA_TYPES: Record<OutputFormat, string> = {
  avif: 'image/avif',
  webp: 'image/webp',
  jpeg: 'image/jpeg',
  png: 'image/png',
};

export const FILE_EXTENSIONS: Record<OutputFormat, string> = {
  avif: 'avif',
  webp: 'webp',
  jpeg: 'jpg',
  png: 'png',
};

/** Formats whose writers keep more than one frame. */
export const ANIMATED_OUTPUT_FORMATS: readonly OutputFormat[] = ['webp'];

/**
 * Maps what libvips reports to our names. libvips calls both AVIF and HEIC 'heif';
 * the compression tells them apart.
 */
export function inputFormatFromSharp(format: string | undefined, compression: string | undefined): InputFormat | undefined {
  switch (format) {
    case 'jpeg':
    case 'png':
    case 'webp':
    case 'gif':
    case 'tiff':
    case 'svg':
    case 'pdf':
      return format;
    case 'heif':
      return compression === 'hevc' ? 'heic' : 'avif';
    default:
      return undefined;
  }
}


/**
 * Formats imgflow recognises but never reads, whatever the limits say: naming them lets a refusal
 * say what the file is. RAW containers are named by their container. Of the TIFF-based RAWs, CR2
 * ('CR' after the TIFF header) and DNG (a DNGVersion tag in IFD0) are recognised and refused;
 * NEF, ARW, PEF and the like are TIFF files with nothing in their first IFD that tells them
 * apart: they are read as TIFF (libvips reads their first image, usually the camera's preview).
 */
export const FOREIGN_FORMATS = ['jp2', 'jxl', 'psd', 'bmp', 'ico', 'cur', 'cr2', 'cr3', 'raf', 'orf', 'rw2', 'dng'] as const;
export type ForeignFormat = (typeof FOREIGN_FORMATS)[number];

/** Every format the sniffer can name. */
export type KnownFormat = InputFormat | ForeignFormat;

/** How a refusal names a format. */
export const FORMAT_NAMES: Record<KnownFormat, string> = {
  jpeg: 'JPEG',
  png: 'PNG',
  webp: 'WEBP',
  avif: 'AVIF',
  gif: 'GIF',
  tiff: 'TIFF',
  heic: 'HEIC',
  svg: 'SVG',
  pdf: 'PDF',
  jp2: 'JPEG 2000',
  jxl: 'JPEG XL',
  psd: 'PSD',
  bmp: 'BMP',
  ico: 'ICO',
  cur: 'CUR',
  cr2: 'CR2 (Canon RAW)',
  cr3: 'CR3 (Canon RAW)',
  raf: 'RAF (Fujifilm RAW)',
  orf: 'ORF (Olympus RAW)',
  rw2: 'RW2 (Panasonic RAW)',
  dng: 'DNG (RAW)',
};

export function isInputFormat(format: string): format is InputFormat {
  return (INPUT_FORMATS as readonly string[]).includes(format);
}

/**
 * Input formats whose bytes go to libvips when accepted. PDF never does: the bundled libvips has
 * no PDF renderer, so a PDF is named and refused from its signature alone.
 */
export const LIBVIPS_INPUT_FORMATS: readonly InputFormat[] = ['jpeg', 'png', 'webp', 'avif', 'gif', 'tiff', 'heic', 'svg'];

/** How far into a text file the prolog (BOM, whitespace, XML declaration, comments, DOCTYPE) may reach. */
const TEXT_WINDOW = 64 * 1024;
/** An SVGZ is sniffed from this much of its compressed start, inflated to at most SVGZ_INFLATED_LIMIT. */
const SVGZ_COMPRESSED_WINDOW = 4096;
/** Above deflate's largest ratio (1032:1) for SVGZ_COMPRESSED_WINDOW: a gzip bomb inflates no further. */
const SVGZ_INFLATED_LIMIT = 8 * 1024 * 1024;

const HEIC_BRANDS = ['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis'];
/** Generic HEIF brands: an AVIF names avif among its compatible brands, anything else is taken for HEIC. */
const HEIF_BRANDS = ['mif1', 'msf1'];
const AVIF_BRANDS = ['avif', 'avis'];

function ascii(bytes: Buffer, start: number, end: number): string {
  return bytes.subarray(start, end).toString('latin1');
}

/** Whether IFD0 of a TIFF holds `tag` (bounded: entries past the end of the bytes are not read). */
function tiffHasTag(bytes: Buffer, littleEndian: boolean, tag: number): boolean {
  if (bytes.length < 8) return false;
  const u16 = (offset: number) => (littleEndian ? bytes.readUInt16LE(offset) : bytes.readUInt16BE(offset));
  const ifd = littleEndian ? bytes.readUInt32LE(4) : bytes.readUInt32BE(4);
  if (ifd + 2 > bytes.length) return false;
  const count = Math.min(u16(ifd), 4096);
  for (let index = 0; index < count; index += 1) {
    const entry = ifd + 2 + index * 12;
    if (entry + 2 > bytes.length) return false;
    if (u16(entry) === tag) return true;
  }
  return false;
}

function sniffTiff(bytes: Buffer): KnownFormat | undefined {
  const head = ascii(bytes, 0, 4);
  if (head === 'IIRO' || head === 'IIRS' || head === 'MMOR') return 'orf';
  if (head === 'IIU\0') return 'rw2';
  // BigTIFF: libvips reads it as TIFF.
  if (head === 'II+\0' || head === 'MM\0+') return 'tiff';
  const littleEndian = head === 'II*\0';
  if (!littleEndian && head !== 'MM\0*') return undefined;
  if (ascii(bytes, 8, 11) === 'CR\x02') return 'cr2';
  const DNG_VERSION = 0xc612;
  if (tiffHasTag(bytes, littleEndian, DNG_VERSION)) return 'dng';
  return 'tiff';
}

/** ISO base media files (HEIF, AVIF, CR3): the ftyp box's major and compatible brands. */
function sniffIsoBmff(bytes: Buffer): KnownFormat | undefined {
  if (bytes.length < 12 || ascii(bytes, 4, 8) !== 'ftyp') return undefined;
  const major = ascii(bytes, 8, 12);
  if (major === 'crx ') return 'cr3';
  if (AVIF_BRANDS.includes(major)) return 'avif';
  if (HEIC_BRANDS.includes(major)) return 'heic';
  const end = Math.min(bytes.readUInt32BE(0), bytes.length, 1024);
  const compatible: string[] = [];
  for (let offset = 16; offset + 4 <= end; offset += 4) compatible.push(ascii(bytes, offset, offset + 4));
  if (compatible.some((brand) => AVIF_BRANDS.includes(brand))) return 'avif';
  if ([major, ...compatible].some((brand) => HEIC_BRANDS.includes(brand) || HEIF_BRANDS.includes(brand))) return 'heic';
  return undefined;
}

function isBmp(bytes: Buffer): boolean {
  if (bytes.length < 26 || ascii(bytes, 0, 2) !== 'BM') return false;
  // The DIB header sizes of the BMP versions (core, OS/2 v2, info, v2–v5), and pixel data after the headers.
  const dibHeader = bytes.readUInt32LE(14);
  const pixelData = bytes.readUInt32LE(10);
  return [12, 16, 40, 52, 56, 64, 108, 124].includes(dibHeader) && pixelData >= 14 + dibHeader;
}

function sniffIcon(bytes: Buffer): KnownFormat | undefined {
  if (bytes.length < 22 || bytes[0] !== 0 || bytes[1] !== 0 || bytes[3] !== 0) return undefined;
  const type = bytes[2];
  if (type !== 1 && type !== 2) return undefined;
  const count = bytes.readUInt16LE(4);
  // The first directory entry: its reserved byte is 0 and its image lies after the directory.
  if (count === 0 || bytes[9] !== 0 || bytes.readUInt32LE(18) < 6 + 16 * count) return undefined;
  return type === 1 ? 'ico' : 'cur';
}

const BOX_SIGNATURE_TAIL = 0x0d0a870a;

function sniffBinary(bytes: Buffer): KnownFormat | undefined {
  if (bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  const head = ascii(bytes, 0, 16);
  if (head.startsWith('\x89PNG\r\n\x1a\n')) return 'png';
  if (head.startsWith('GIF87a') || head.startsWith('GIF89a')) return 'gif';
  if (head.startsWith('RIFF') && head.slice(8, 12) === 'WEBP') return 'webp';
  if (head.startsWith('FUJIFILMCCD-RAW')) return 'raf';
  const tiff = sniffTiff(bytes);
  if (tiff) return tiff;
  const iso = sniffIsoBmff(bytes);
  if (iso) return iso;
  // JPEG 2000 and JPEG XL containers open with a 12-byte signature box; their raw codestreams with SOC+SIZ / ff0a.
  if (bytes.length >= 12 && bytes.readUInt32BE(0) === 12 && bytes.readUInt32BE(8) === BOX_SIGNATURE_TAIL) {
    const box = head.slice(4, 8);
    if (box === 'jP  ') return 'jp2';
    if (box === 'JXL ') return 'jxl';
  }
  if (bytes[0] === 0xff && bytes[1] === 0x4f && bytes[2] === 0xff && bytes[3] === 0x51) return 'jp2';
  if (bytes[0] === 0xff && bytes[1] === 0x0a) return 'jxl';
  if (head.startsWith('8BPS') && bytes.length >= 6 && [1, 2].includes(bytes.readUInt16BE(4))) return 'psd';
  if (isBmp(bytes)) return 'bmp';
  return sniffIcon(bytes);
}

/** The start of a file as text: after a UTF-8 or UTF-16 byte-order mark, in its encoding (UTF-16 also without one). */
function textOf(bytes: Buffer): string {
  let start = 0;
  let encoding: 'utf8' | 'utf16le' | 'utf16be' = 'utf8';
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) start = 3;
  else if (bytes[0] === 0xff && bytes[1] === 0xfe) [start, encoding] = [2, 'utf16le'];
  else if (bytes[0] === 0xfe && bytes[1] === 0xff) [start, encoding] = [2, 'utf16be'];
  else if (bytes[0] === 0x3c && bytes[1] === 0x00) encoding = 'utf16le';
  else if (bytes[0] === 0x00 && bytes[1] === 0x3c) encoding = 'utf16be';
  const window = bytes.subarray(start, start + TEXT_WINDOW);
  if (encoding === 'utf8') return window.toString('utf8');
  const even = Buffer.from(window.subarray(0, window.length - (window.length % 2)));
  if (encoding === 'utf16be') even.swap16();
  return even.toString('utf16le');
}

function isSvgName(name: string): boolean {
  const lower = name.toLowerCase();
  return lower === 'svg' || lower.endsWith(':svg');
}

/** Where a DOCTYPE declaration ends, past its internal subset (entity declarations, comments, quoted strings); -1 if not in the text. */
function doctypeEnd(text: string, from: number): number {
  let depth = 0;
  let quote: string | undefined;
  for (let index = from; index < text.length; index += 1) {
    const char = text[index];
    if (quote) {
      if (char === quote) quote = undefined;
    } else if (char === '"' || char === "'") {
      quote = char;
    } else if (char === '[') {
      depth += 1;
    } else if (char === ']') {
      depth -= 1;
    } else if (char === '>' && depth <= 0) {
      return index + 1;
    } else if (char === '<' && text.startsWith('<!--', index)) {
      const end = text.indexOf('-->', index + 4);
      if (end < 0) return -1;
      index = end + 2;
    }
  }
  return -1;
}

/**
 * A text format from its first markup: SVG when the DOCTYPE or the root element is svg (any
 * prefix, any case), after whitespace, an XML declaration, processing instructions and comments;
 * PDF when its header comes first. Anything else (HTML, other XML, scripts) is not named.
 */
function sniffMarkup(text: string): KnownFormat | undefined {
  let index = 0;
  while (index < text.length) {
    while (index < text.length && /\s/.test(text[index] as string)) index += 1;
    if (text.startsWith('<!--', index)) {
      const end = text.indexOf('-->', index + 4);
      if (end < 0) return undefined;
      index = end + 3;
    } else if (text.startsWith('<?', index)) {
      const end = text.indexOf('?>', index + 2);
      if (end < 0) return undefined;
      index = end + 2;
    } else if (/^<!doctype/i.test(text.slice(index, index + 9))) {
      const name = /^<!doctype\s+([^\s[>]+)/i.exec(text.slice(index, index + 300))?.[1];
      if (name && isSvgName(name)) return 'svg';
      index = doctypeEnd(text, index + 9);
      if (index < 0) return undefined;
    } else if (text[index] === '<') {
      const name = /^<([A-Za-z_][\w.:-]*)/.exec(text.slice(index, index + 300))?.[1];
      return name && isSvgName(name) ? 'svg' : undefined;
    } else {
      return text.startsWith('%PDF-', index) ? 'pdf' : undefined;
    }
  }
  return undefined;
}

/** gzip whose inflated start is SVG (SVGZ, which librsvg reads): only a bounded prefix is inflated. */
function sniffSvgz(bytes: Buffer): KnownFormat | undefined {
  if (bytes[0] !== 0x1f || bytes[1] !== 0x8b) return undefined;
  let inflated: Buffer;
  try {
    inflated = gunzipSync(bytes.subarray(0, SVGZ_COMPRESSED_WINDOW), { finishFlush: constants.Z_SYNC_FLUSH, maxOutputLength: SVGZ_INFLATED_LIMIT });
  } catch {
    return undefined;
  }
  return sniffMarkup(textOf(inflated)) === 'svg' ? 'svg' : undefined;
}

/**
 * The format of a file from its bytes alone (never from a name or a Content-Type): magic numbers
 * of the binary formats, then SVG in any spelling (after a BOM, whitespace, an XML declaration,
 * comments or a DOCTYPE, and gzip-compressed SVGZ), then a PDF header (which readers find
 * anywhere in the first 1024 bytes). Undefined when nothing is recognised. This verdict comes
 * before any parser: bytes it does not name as an accepted format never reach libvips.
 */
export function sniffSignature(bytes: Buffer): KnownFormat | undefined {
  const binary = sniffBinary(bytes);
  if (binary) return binary;
  const svgz = sniffSvgz(bytes);
  if (svgz) return svgz;
  const markup = sniffMarkup(textOf(bytes));
  if (markup) return markup;
  return bytes.subarray(0, 1024).includes('%PDF-', 0, 'latin1') ? 'pdf' : undefined;
}

/**
 * A format sniffSignature names that libvips is never given (PDF, and every foreign format):
 * named so the rejection says what the file is.
 */
export function sniffUnreadable(bytes: Buffer): KnownFormat | undefined {
  const format = sniffSignature(bytes);
  return format && !(LIBVIPS_INPUT_FORMATS as readonly string[]).includes(format) ? format : undefined;
}
