/** Formats imgflow can read, as named in probes, limits and the ledger. */
export const INPUT_FORMATS = ['jpeg', 'png', 'webp', 'avif', 'gif', 'tiff', 'heic', 'svg', 'pdf'] as const;
export type InputFormat = (typeof INPUT_FORMATS)[number];

/**
 * Accepted by default: every raster format the bundled libvips decodes that a photo site takes.
 * SVG (scriptable, renders fonts and external references) and PDF are off unless a deployment opts in.
 * HEIC is named so it can be recognised and refused clearly; the bundled libvips has no HEVC decoder.
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
 * libvips here cannot open PDF or HEVC at all, so they would be "unknown". Recognising their
 * signatures lets the rejection say what the file is.
 */
export function sniffUnreadable(bytes: Buffer): InputFormat | undefined {
  if (bytes.subarray(0, 5).toString('latin1') === '%PDF-') return 'pdf';
  if (bytes.length >= 12 && bytes.subarray(4, 8).toString('latin1') === 'ftyp') {
    const brand = bytes.subarray(8, 12).toString('latin1');
    if (['heic', 'heix', 'hevc', 'hevx', 'heim', 'heis', 'mif1', 'msf1'].includes(brand)) return 'heic';
  }
  return undefined;
}

/**
 * The format whose signature (magic bytes) the file starts with, for the formats imgflow reads
 * by default. A file with one of these signatures that cannot be read is a broken image, not
 * an unknown format.
 */
export function sniffSignature(bytes: Buffer): InputFormat | undefined {
  const head = bytes.subarray(0, 12);
  const text = head.toString('latin1');
  if (head[0] === 0xff && head[1] === 0xd8 && head[2] === 0xff) return 'jpeg';
  if (text.startsWith('\x89PNG\r\n\x1a\n')) return 'png';
  if (text.startsWith('GIF87a') || text.startsWith('GIF89a')) return 'gif';
  if (text.startsWith('RIFF') && text.slice(8, 12) === 'WEBP') return 'webp';
  if (text.startsWith('II*\0') || text.startsWith('MM\0*')) return 'tiff';
  if (text.slice(4, 8) === 'ftyp' && ['avif', 'avis'].includes(text.slice(8, 12))) return 'avif';
  return undefined;
}
