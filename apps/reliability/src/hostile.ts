import { type ImageInfo, probe } from '@imgflow/image-core';
import { outputKey, outputStem } from '@imgflow/pipeline';
import sharp from 'sharp';
import {
  avifDeclaring,
  gifDeclaring,
  gifWithFrames,
  jpegDeclaring,
  jpegWithSegments,
  noise,
  pngDeclaring,
  smallImage,
  tiffDeclaring,
  webpDeclaring,
  zipOf,
} from './formats.js';
import { type Harness, type UploadCheck, checkUpload } from './harness.js';

/** What must happen to a hostile input. */
export type HostileExpectation =
  | { status: 'REJECTED'; code: string }
  /** A valid image under a hostile key or with hostile metadata: processed, and the checks of `check` hold. */
  | { status: 'SUCCEEDED' };

export interface HostileCase {
  name: string;
  /** The object key it is uploaded under. */
  key: string;
  body: Buffer;
  expect: HostileExpectation;
  /** Decompression bombs: the header must really declare this many pixels (checked with image-core's probe). */
  declaredPixels?: number;
  /** Strings that must not appear in any output (GPS, XMP text, a polyglot's trailer). */
  forbiddenInOutputs?: string[];
}

export interface HostileResult {
  name: string;
  key: string;
  expected: HostileExpectation;
  status?: string;
  code?: string;
  problems: string[];
}

/** S3's longest key (1024 bytes of UTF-8), in segments of at most 255 bytes (a file-system limit of s3rver). */
export const MAX_LENGTH_KEY = `${Array.from({ length: 4 }, (_, index) => `${index}${'k'.repeat(250)}`).join('/')}/${'m'.repeat(1024 - 4 * 252 - 4)}.jpg`;

/** Dimensions each format's header can declare, far above the 50 MP default limit. */
export const BOMB_DIMENSIONS = {
  png: [65535, 65535],
  jpeg: [65500, 65500],
  gif: [65535, 65535],
  // VP8 key frames carry 14-bit dimensions: 16383 × 16383 is the largest a WebP can declare.
  webp: [16383, 16383],
  tiff: [65535, 65535],
  // libheif refuses images over its own security limit (32768 × 32768) with an error of its
  // own; 20000 × 20000 is 400 MP: a bomb for imgflow that libheif still reads the header of.
  avif: [20000, 20000],
} as const;

const GPS_XMP = (size: number) => {
  const head =
    '<?xpacket begin="\uFEFF" id="W5M0MpCehiHzreSzNTczkc9d"?><x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">' +
    '<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="51,30.0N" exif:GPSLongitude="0,7.5W"><exif:UserComment>SECRET-XMP-MARKER ';
  const tail = '</exif:UserComment></rdf:Description></rdf:RDF></x:xmpmeta><?xpacket end="w"?>';
  return Buffer.from(`http://ns.adobe.com/xap/1.0/\0${head}${'A'.repeat(Math.max(0, size - head.length - tail.length - 29))}${tail}`);
};

/** An APP2 ICC_PROFILE segment holding garbage that claims to be a profile. */
function bogusIccSegment(): Buffer {
  const header = Buffer.from('ICC_PROFILE\0\x01\x01', 'latin1');
  const profile = noise(2000, 99);
  profile.writeUInt32BE(2000, 0);
  profile.write('acsp', 36, 'latin1');
  return Buffer.concat([header, profile]);
}

/**
 * Every hostile and broken input, with the reason it must be rejected for (or, for valid images
 * under hostile keys or with hostile metadata, that it is processed safely).
 */
export async function hostileCases(): Promise<HostileCase[]> {
  const jpeg = await smallImage('jpeg');
  const png = await smallImage('png');
  const webp = await smallImage('webp');
  const gif = await smallImage('gif');
  const tiff = await smallImage('tiff');
  const avif = await smallImage('avif');
  const half = (bytes: Buffer) => bytes.subarray(0, Math.floor(bytes.length / 2));
  const pixels = (format: keyof typeof BOMB_DIMENSIONS) => BOMB_DIMENSIONS[format][0] * BOMB_DIMENSIONS[format][1];
  const rejected = (code: string) => ({ status: 'REJECTED' as const, code });
  const html = '<!doctype html><html><body><script>alert(document.cookie)</script></body></html>';
  // A JPEG that the default recipe would otherwise serve as-is (320 px wide like the sm rendition,
  // clean, cheaply encoded so a re-encode comes out larger): the polyglot's trailer must not ride along.
  const plainJpeg = await sharp(await smallImage('png', 320, 200, 11)).jpeg({ quality: 30 }).toBuffer();
  const exifJpeg = await sharp(jpeg)
    .withExif({ IFD0: { Artist: 'someone', Copyright: 'someone' }, IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '51/1 30/1 0/1', GPSLongitudeRef: 'W', GPSLongitude: '0/1 7/1 30/1' } })
    .jpeg()
    .toBuffer();

  return [
    { name: 'zero-byte file', key: 'hostile/empty.jpg', body: Buffer.alloc(0), expect: rejected('EMPTY_FILE') },
    { name: 'random bytes named .jpg', key: 'hostile/noise.jpg', body: noise(4096, 1), expect: rejected('UNKNOWN_FORMAT') },
    { name: 'random bytes named .png', key: 'hostile/noise.png', body: noise(4096, 2), expect: rejected('UNKNOWN_FORMAT') },
    { name: 'HTML named .jpg', key: 'hostile/page.jpg', body: Buffer.from(html), expect: rejected('UNKNOWN_FORMAT') },
    {
      name: 'SVG with <script> named .jpg',
      key: 'hostile/vector.jpg',
      body: Buffer.from('<svg xmlns="http://www.w3.org/2000/svg" width="400" height="300"><script>alert(1)</script><rect width="400" height="300"/></svg>'),
      expect: rejected('FORMAT_NOT_ALLOWED'),
    },
    { name: 'shell script named .jpg', key: 'hostile/script.jpg', body: Buffer.from('#!/bin/sh\nrm -rf / --no-preserve-root\n'), expect: rejected('UNKNOWN_FORMAT') },
    { name: 'PDF named .jpg', key: 'hostile/document.jpg', body: Buffer.from('%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n'), expect: rejected('FORMAT_NOT_ALLOWED') },
    // Polyglots: a valid JPEG stays a JPEG. It is processed as an image, the trailer ignored; the
    // outputs are re-encoded pixels, so the appended ZIP/HTML is never served (see README, Guarantees).
    {
      name: 'polyglot JPEG + ZIP',
      key: 'hostile/polyglot-zip.jpg',
      body: Buffer.concat([plainJpeg, zipOf('payload.html', Buffer.from(html))]),
      expect: { status: 'SUCCEEDED' },
      forbiddenInOutputs: ['payload.html', '<script>'],
    },
    {
      name: 'polyglot JPEG + HTML',
      key: 'hostile/polyglot-html.jpg',
      body: Buffer.concat([plainJpeg, Buffer.from(html)]),
      expect: { status: 'SUCCEEDED' },
      forbiddenInOutputs: ['<script>'],
    },
    // Decompression bombs: small files whose headers declare huge images.
    { name: 'bomb: PNG IHDR', key: 'hostile/bomb.png', body: pngDeclaring(png, ...BOMB_DIMENSIONS.png), expect: rejected('TOO_MANY_PIXELS'), declaredPixels: pixels('png') },
    { name: 'bomb: JPEG SOF0', key: 'hostile/bomb.jpg', body: jpegDeclaring(jpeg, ...BOMB_DIMENSIONS.jpeg), expect: rejected('TOO_MANY_PIXELS'), declaredPixels: pixels('jpeg') },
    { name: 'bomb: GIF screen + descriptor', key: 'hostile/bomb.gif', body: gifDeclaring(gif, ...BOMB_DIMENSIONS.gif), expect: rejected('TOO_MANY_PIXELS'), declaredPixels: pixels('gif') },
    { name: 'bomb: WebP VP8X canvas', key: 'hostile/bomb.webp', body: webpDeclaring(webp, ...BOMB_DIMENSIONS.webp), expect: rejected('TOO_MANY_PIXELS'), declaredPixels: pixels('webp') },
    { name: 'bomb: TIFF ImageWidth/ImageLength', key: 'hostile/bomb.tiff', body: tiffDeclaring(tiff, ...BOMB_DIMENSIONS.tiff), expect: rejected('TOO_MANY_PIXELS'), declaredPixels: pixels('tiff') },
    { name: 'bomb: AVIF ispe', key: 'hostile/bomb.avif', body: avifDeclaring(avif, ...BOMB_DIMENSIONS.avif), expect: rejected('TOO_MANY_PIXELS'), declaredPixels: pixels('avif') },
    { name: 'animation: 3000-frame GIF', key: 'hostile/frames.gif', body: gifWithFrames(await smallImage('gif', 16, 16, 3), 3000), expect: rejected('TOO_MANY_FRAMES') },
    // Truncated files: cut at half.
    { name: 'truncated JPEG', key: 'hostile/truncated.jpg', body: half(await smallImage('jpeg', 640, 480)), expect: rejected('CORRUPT_IMAGE') },
    { name: 'truncated PNG', key: 'hostile/truncated.png', body: half(await smallImage('png', 640, 480)), expect: rejected('CORRUPT_IMAGE') },
    { name: 'truncated WebP', key: 'hostile/truncated.webp', body: half(await smallImage('webp', 640, 480)), expect: rejected('CORRUPT_IMAGE') },
    { name: 'truncated GIF', key: 'hostile/truncated.gif', body: half(await smallImage('gif', 640, 480)), expect: rejected('CORRUPT_IMAGE') },
    { name: 'truncated TIFF', key: 'hostile/truncated.tiff', body: half(await smallImage('tiff', 640, 480)), expect: rejected('CORRUPT_IMAGE') },
    { name: 'truncated AVIF', key: 'hostile/truncated.avif', body: half(await smallImage('avif', 640, 480)), expect: rejected('CORRUPT_IMAGE') },
    // Absurd metadata: processed (it is a valid image), and nothing of it reaches the outputs.
    {
      name: 'JPEG with 20 × 60 KB XMP segments and GPS in EXIF and XMP',
      key: 'hostile/huge-xmp.jpg',
      body: jpegWithSegments(exifJpeg, Array.from({ length: 20 }, () => ({ marker: 0xe1, payload: GPS_XMP(60_000) }))),
      expect: { status: 'SUCCEEDED' },
      forbiddenInOutputs: ['SECRET-XMP-MARKER', 'GPSLatitude', 'http://ns.adobe.com/xap/1.0/'],
    },
    {
      name: 'JPEG with a bogus ICC profile',
      key: 'hostile/bogus-icc.jpg',
      body: jpegWithSegments(jpeg, [{ marker: 0xe2, payload: bogusIccSegment() }]),
      expect: { status: 'SUCCEEDED' },
    },
    // Hostile keys (valid images): outputs stay under renditions/ with safe names. Each body differs,
    // so the content cache does not turn them into copies of one another.
    ...[
      '../../escape/../../etc/passwd.jpg',
      'ünïcødé/日本語/ phötö .jpg',
      'ctl\u0001\u001b[31m\u007fred.jpg',
      'with spaces/and  more spaces .jpg',
      MAX_LENGTH_KEY,
    ].map((key, index) => ({
      name: `hostile key ${JSON.stringify(key.length > 40 ? `${key.slice(0, 20)}…(${Buffer.byteLength(key)} bytes)` : key)}`,
      key,
      body: jpegWithSegments(jpeg, [{ marker: 0xfe, payload: Buffer.from(`key ${index}`) }]),
      expect: { status: 'SUCCEEDED' as const },
    })),
  ];
}

/**
 * Keys s3rver cannot store (a leading slash, a path segment over 255 bytes) are an emulator
 * limit, not an S3 one: for them the key layout itself is checked (packages/pipeline keys.ts,
 * also covered by packages/pipeline/tests/unit/keys.test.ts). Returns the problems found.
 */
export function keyLayoutProblems(): { keys: string[]; problems: string[] } {
  const keys = ['/leading/slash.jpg', '//double//slash/../x.jpg', `${'s'.repeat(1100)}.jpg`, `${'seg/'.repeat(260)}x.jpg`, `/${'ü'.repeat(600)}.png`];
  const problems: string[] = [];
  for (const key of keys) {
    const stem = outputStem(key);
    const full = outputKey('renditions/', stem, 'lg', { extension: 'avif' });
    const label = JSON.stringify(key.slice(0, 30));
    if (!/^[A-Za-z0-9_-][A-Za-z0-9._/-]*$/.test(stem)) problems.push(`${label}: stem ${JSON.stringify(stem)} has unsafe characters`);
    if (stem.split('/').some((segment) => segment === '' || segment === '.' || segment === '..')) problems.push(`${label}: stem has an empty, . or .. segment`);
    if (!full.startsWith('renditions/')) problems.push(`${label}: output key leaves renditions/`);
    if (Buffer.byteLength(full) > 1024) problems.push(`${label}: output key is ${Buffer.byteLength(full)} bytes, over S3's 1024`);
  }
  return { keys, problems };
}

/** Checks that a bomb's header really declares what it claims (so the rejection is the limit's doing). */
export async function declaredProblems(hostile: HostileCase): Promise<string[]> {
  if (hostile.declaredPixels === undefined) return [];
  let info: ImageInfo;
  try {
    info = await probe(hostile.body);
  } catch (error) {
    return [`${hostile.name}: image-core cannot read the header (${(error as Error).message}): not a real bomb`];
  }
  const declared = info.width * info.height;
  return declared === hostile.declaredPixels ? [] : [`${hostile.name}: header declares ${info.width}×${info.height}, expected ${hostile.declaredPixels} pixels`];
}

/** Uploads each hostile input through the trigger and checks every guarantee for it. */
export async function runHostile(harness: Harness, cases: readonly HostileCase[]): Promise<HostileResult[]> {
  const results: HostileResult[] = [];
  for (const hostile of cases) {
    const problems = await declaredProblems(hostile);
    const check: UploadCheck = await checkUpload(harness, hostile.key, hostile.body, {
      status: hostile.expect.status,
      ...(hostile.expect.status === 'REJECTED' ? { code: hostile.expect.code } : {}),
      notifications: 1,
      ...(hostile.forbiddenInOutputs ? { forbiddenInOutputs: hostile.forbiddenInOutputs } : {}),
      noGps: true,
    });
    results.push({
      name: hostile.name,
      key: hostile.key,
      expected: hostile.expect,
      ...(check.record?.status ? { status: check.record.status } : {}),
      ...(check.record?.reasonCode ? { code: check.record.reasonCode } : {}),
      problems: [...problems, ...check.problems],
    });
  }
  return results;
}
