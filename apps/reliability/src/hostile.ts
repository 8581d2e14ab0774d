import { deflateSync } from 'node:zlib';
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
import {
  XML_PROLOG,
  animatedWebp,
  animatedWebpDeclaring,
  bmp,
  gifFrameDeclaring,
  gifLayout,
  handTiff,
  handTiffLayout,
  icon,
  isoBox,
  isoFile,
  j2kCodestream,
  jpegMarker,
  jpegMarkers,
  jxlCodestream,
  pngChunk,
  pngChunks,
  pngInserting,
  psd,
  signatureBoxFile,
  svgSpellings,
  text,
  vp8Declaring,
  vp8lDeclaring,
  webpChunks,
  webpWithFrames,
} from './hostile-inputs.js';

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
  /** Retries the execution made. No fault is injected here: any retry is a defect, and one on a permanent error (a rejection) is what issue 12 forbids. */
  retries?: number;
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
    // Truncated files: cut at half (TRUNCATED: the data, or the structure, ends before the image does).
    { name: 'truncated JPEG', key: 'hostile/truncated.jpg', body: half(await smallImage('jpeg', 640, 480)), expect: rejected('TRUNCATED') },
    { name: 'truncated PNG', key: 'hostile/truncated.png', body: half(await smallImage('png', 640, 480)), expect: rejected('TRUNCATED') },
    { name: 'truncated WebP', key: 'hostile/truncated.webp', body: half(await smallImage('webp', 640, 480)), expect: rejected('TRUNCATED') },
    { name: 'truncated GIF', key: 'hostile/truncated.gif', body: half(await smallImage('gif', 640, 480)), expect: rejected('TRUNCATED') },
    { name: 'truncated TIFF', key: 'hostile/truncated.tiff', body: half(await smallImage('tiff', 640, 480)), expect: rejected('TRUNCATED') },
    { name: 'truncated AVIF', key: 'hostile/truncated.avif', body: half(await smallImage('avif', 640, 480)), expect: rejected('TRUNCATED') },
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
    ...(await grownCases()),
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
    const retries = check.report?.retries ?? 0;
    if (retries > 0) {
      problems.push(
        check.record?.status === 'SUCCEEDED' ? `${retries} retries with no fault injected` : `retried ${retries} time(s) on a permanent error (${check.record?.reasonCode ?? 'no reason'})`,
      );
    }
    results.push({
      name: hostile.name,
      key: hostile.key,
      expected: hostile.expect,
      ...(check.record?.status ? { status: check.record.status } : {}),
      ...(check.record?.reasonCode ? { code: check.record.reasonCode } : {}),
      retries,
      problems: [...problems, ...check.problems],
    });
  }
  return results;
}

// ---------------------------------------------------------------------------------------------
// The grown suite (issue 12): every spelling of a refused format, the structural boundaries of
// every accepted one, and the metadata and polyglot tricks. Grouped by the prefix of each name.

const rejectedWith = (code: string): HostileExpectation => ({ status: 'REJECTED', code });
const SUCCEEDED: HostileExpectation = { status: 'SUCCEEDED' };

/** 1, 2 and 3 bytes: too short for any signature, even when they are the start of one. */
function tinyFiles(): HostileCase[] {
  return [
    { name: 'tiny: 1-byte file (0xFF)', key: 'hostile/tiny/1.jpg', body: Buffer.from([0xff]), expect: rejectedWith('UNKNOWN_FORMAT') },
    { name: 'tiny: 2-byte file (JPEG SOI alone)', key: 'hostile/tiny/2.jpg', body: Buffer.from([0xff, 0xd8]), expect: rejectedWith('UNKNOWN_FORMAT') },
    { name: 'tiny: 3-byte file ("GIF")', key: 'hostile/tiny/3.gif', body: Buffer.from('GIF'), expect: rejectedWith('UNKNOWN_FORMAT') },
    { name: 'tiny: 3-byte file (PNG signature start)', key: 'hostile/tiny/3.png', body: Buffer.from([0x89, 0x50, 0x4e]), expect: rejectedWith('UNKNOWN_FORMAT') },
  ];
}

/** SVG is off by default: in any spelling, no SVG parser may see it. */
function svgCases(): HostileCase[] {
  return svgSpellings().map(({ name, key, body }) => ({ name: `SVG: ${name}`, key, body, expect: rejectedWith('FORMAT_NOT_ALLOWED') }));
}

/** Formats imgflow recognises and refuses by name, forged from their signatures. */
function foreignFormatCases(png: Buffer): HostileCase[] {
  const notAllowed = rejectedWith('FORMAT_NOT_ALLOWED');
  const raw = (name: string, key: string, body: Buffer): HostileCase => ({ name: `foreign: ${name}`, key, body, expect: notAllowed });
  return [
    raw('JPEG 2000 (jp2 signature box) named .jpg', 'hostile/foreign/jp2.jpg', signatureBoxFile('jp2')),
    raw('JPEG 2000 codestream (SOC + SIZ) named .jpg', 'hostile/foreign/j2k.jpg', j2kCodestream()),
    raw('JPEG XL (container) named .jpg', 'hostile/foreign/jxl-box.jpg', signatureBoxFile('jxl')),
    raw('JPEG XL codestream (ff 0a) named .jpg', 'hostile/foreign/jxl.jpg', jxlCodestream()),
    raw('PSD named .png', 'hostile/foreign/layers.png', psd()),
    raw('BMP named .jpg', 'hostile/foreign/bitmap.jpg', bmp()),
    raw('ICO holding a PNG, named .png', 'hostile/foreign/favicon.png', icon(png, 1)),
    raw('CUR holding a PNG, named .png', 'hostile/foreign/pointer.png', icon(png, 2)),
    raw('HEIC (ftyp heic) named .jpg', 'hostile/foreign/photo-heic.jpg', isoFile('heic', ['mif1', 'heic'])),
    raw('HEIF (ftyp mif1, no AVIF brand) named .avif', 'hostile/foreign/photo-heif.avif', isoFile('mif1', ['mif1', 'miaf'])),
    raw('CR2 (TIFF + "CR") named .tiff', 'hostile/foreign/canon.tiff', handTiff({ after: Buffer.from('CR\x02\x00\x00\x00\x00\x00', 'latin1') })),
    raw('CR3 (ftyp crx) named .jpg', 'hostile/foreign/canon3.jpg', isoFile('crx ', ['crx ', 'isom'])),
    raw('RAF (FUJIFILMCCD-RAW) named .jpg', 'hostile/foreign/fuji.jpg', Buffer.concat([Buffer.from('FUJIFILMCCD-RAW 0201FF383501', 'latin1'), noise(256, 12)])),
    raw('ORF (IIRO) named .tiff', 'hostile/foreign/olympus.tiff', handTiff({ magic: Buffer.from('RO', 'latin1') })),
    raw('RW2 (IIU) named .tiff', 'hostile/foreign/panasonic.tiff', handTiff({ magic: Buffer.from([0x55, 0x00]) })),
    raw('DNG (TIFF with DNGVersion) named .tiff', 'hostile/foreign/adobe.tiff', handTiff({ extraTags: [[0xc612, 0x00000401]] })),
  ];
}

/** Things that are not images at all, or images carrying code. */
async function disguisedCases(jpeg: Buffer, png: Buffer, gif: Buffer): Promise<HostileCase[]> {
  const php = '<?php system($_GET["c"]); ?>';
  const script = '<script>alert(document.domain)</script>';
  const gifComment = (() => {
    const { screenEnd } = gifLayout(gif);
    const payload = Buffer.from(script);
    const extension = Buffer.concat([Buffer.from([0x21, 0xfe, payload.length]), payload, Buffer.from([0])]);
    return Buffer.concat([gif.subarray(0, screenEnd), extension, gif.subarray(screenEnd)]);
  })();
  const phpExif = await sharp(jpeg).withExif({ IFD0: { ImageDescription: php } }).jpeg().toBuffer();
  return [
    { name: 'disguised: PHP script named .jpg', key: 'hostile/disguised/shell.jpg', body: Buffer.from(`${php}\n`), expect: rejectedWith('UNKNOWN_FORMAT') },
    { name: 'disguised: JavaScript named .gif', key: 'hostile/disguised/app.gif', body: Buffer.from(`${script.replace(/<\/?script>/g, '')};\n`), expect: rejectedWith('UNKNOWN_FORMAT') },
    { name: 'disguised: HTML with a UTF-8 BOM named .png', key: 'hostile/disguised/page.png', body: text('<html><body><script>alert(1)</script></body></html>', 'utf8-bom'), expect: rejectedWith('UNKNOWN_FORMAT') },
    { name: 'disguised: XML (not SVG) named .jpg', key: 'hostile/disguised/feed.jpg', body: text(`${XML_PROLOG}<rss version="2.0"><channel><title>x</title></channel></rss>`), expect: rejectedWith('UNKNOWN_FORMAT') },
    { name: 'disguised: ZIP archive named .jpg', key: 'hostile/disguised/archive.jpg', body: zipOf('payload.html', Buffer.from(script)), expect: rejectedWith('UNKNOWN_FORMAT') },
    {
      name: 'disguised: PDF after 200 bytes of junk, named .png',
      key: 'hostile/disguised/late-pdf.png',
      body: Buffer.concat([noise(200, 13).map((byte) => 0x20 + (byte % 90)), Buffer.from('\n%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n')]),
      expect: rejectedWith('FORMAT_NOT_ALLOWED'),
    },
    // GIF89a followed by JavaScript: the classic GIF/JS polyglot header, with no GIF after it.
    { name: 'polyglot: GIF89a header followed by JavaScript', key: 'hostile/polyglot/gifjs.gif', body: Buffer.from(`GIF89a/*\x00\x00*/=1;alert(document.domain);//`, 'latin1'), expect: rejectedWith('CORRUPT_IMAGE') },
    // Valid images carrying code are images: processed, and the code never reaches an output.
    { name: 'polyglot: JPEG with <?php in a COM segment', key: 'hostile/polyglot/php-comment.jpg', body: jpegWithSegments(jpeg, [{ marker: 0xfe, payload: Buffer.from(php) }]), expect: SUCCEEDED, forbiddenInOutputs: ['<?php'] },
    { name: 'polyglot: JPEG with <?php in EXIF ImageDescription', key: 'hostile/polyglot/php-exif.jpg', body: phpExif, expect: SUCCEEDED, forbiddenInOutputs: ['<?php'] },
    { name: 'polyglot: PNG + PHP after IEND', key: 'hostile/polyglot/php-trailer.png', body: Buffer.concat([png, Buffer.from(php)]), expect: SUCCEEDED, forbiddenInOutputs: ['<?php'] },
    {
      name: 'polyglot: PNG with <script> in a tEXt chunk',
      key: 'hostile/polyglot/text-chunk.png',
      body: pngInserting(png, 'IDAT', [pngChunk('tEXt', Buffer.from(`Comment\0${script}`, 'latin1'))]),
      expect: SUCCEEDED,
      forbiddenInOutputs: ['<script>'],
    },
    { name: 'polyglot: GIF with <script> in a comment extension', key: 'hostile/polyglot/comment.gif', body: gifComment, expect: SUCCEEDED, forbiddenInOutputs: ['<script>'] },
  ];
}

/** More headers declaring huge images: every variant of every accepted format's size fields. */
async function moreBombCases(png: Buffer, gif: Buffer, webp: Buffer): Promise<HostileCase[]> {
  const tooMany = rejectedWith('TOO_MANY_PIXELS');
  const [webpW, webpH] = BOMB_DIMENSIONS.webp;
  const progressive = await sharp(png).jpeg({ progressive: true }).toBuffer();
  const lossless = await sharp(png).webp({ lossless: true, effort: 0 }).toBuffer();
  const textChunk = pngChunk('tEXt', Buffer.from('Comment\0a valid chunk before IHDR', 'latin1'));
  const ihdrBomb = pngDeclaring(png, ...BOMB_DIMENSIONS.png);
  return [
    { name: 'bomb: progressive JPEG SOF2', key: 'hostile/bomb/progressive.jpg', body: jpegDeclaring(progressive, ...BOMB_DIMENSIONS.jpeg), expect: tooMany, declaredPixels: 65500 * 65500 },
    { name: 'bomb: simple lossy WebP (VP8 key frame)', key: 'hostile/bomb/vp8.webp', body: vp8Declaring(webp, webpW, webpH), expect: tooMany, declaredPixels: webpW * webpH },
    { name: 'bomb: lossless WebP (VP8L header)', key: 'hostile/bomb/vp8l.webp', body: vp8lDeclaring(lossless, webpW, webpH), expect: tooMany, declaredPixels: webpW * webpH },
    { name: 'bomb: animated WebP, canvas and every frame', key: 'hostile/bomb/animated.webp', body: animatedWebpDeclaring(await animatedWebp(3), webpW, webpH), expect: tooMany, declaredPixels: webpW * webpH },
    { name: 'bomb: GIF frame only (logical screen small)', key: 'hostile/bomb/frame.gif', body: gifFrameDeclaring(gif, 65535, 65535), expect: tooMany },
    { name: 'bomb: big-endian TIFF IFD (hand-made)', key: 'hostile/bomb/motorola.tiff', body: tiffDeclaring(handTiff({ bigEndian: true }), 65535, 65535), expect: tooMany, declaredPixels: 65535 * 65535 },
    // IHDR must come first: a valid chunk ahead of it makes the PNG corrupt; its huge IHDR is never decoded.
    { name: 'bomb: PNG IHDR after a valid first chunk', key: 'hostile/bomb/late-ihdr.png', body: pngInserting(ihdrBomb, 'IHDR', [textChunk]), expect: rejectedWith('CORRUPT_IMAGE') },
    { name: 'bomb: PNG IHDR declaring 0 × 0', key: 'hostile/bomb/zero.png', body: pngDeclaring(png, 0, 0), expect: rejectedWith('CORRUPT_IMAGE') },
  ];
}

async function frameCases(): Promise<HostileCase[]> {
  const tooMany = rejectedWith('TOO_MANY_FRAMES');
  const animated = await animatedWebp(2);
  return [
    { name: 'animation: 3000-frame animated WebP', key: 'hostile/frames/many.webp', body: webpWithFrames(animated, 3000), expect: tooMany },
    { name: 'animation: 101-frame animated WebP (one over the limit)', key: 'hostile/frames/101.webp', body: webpWithFrames(animated, 101), expect: tooMany },
    { name: 'animation: 101-frame GIF (one over the limit)', key: 'hostile/frames/101.gif', body: gifWithFrames(await smallImage('gif', 16, 16, 4), 101), expect: tooMany },
  ];
}

/** Metadata that is huge or malformed: the image is valid, so it is processed, and nothing of the metadata reaches an output. */
async function metadataCases(jpeg: Buffer, png: Buffer): Promise<HostileCase[]> {
  const exif = (tiff: Buffer) => Buffer.concat([Buffer.from('Exif\0\0', 'latin1'), tiff]);
  // An IFD claiming 65535 entries, then 60 KB of noise.
  const hugeIfd = Buffer.concat([Buffer.from('II*\0\x08\0\0\0\xff\xff', 'latin1'), noise(60_000, 21)]);
  // IFD0 with one entry and a next-IFD offset pointing back at itself.
  const loop = Buffer.from('II*\0\x08\0\0\0\x01\0\x0e\x01\x02\0\x04\0\0\0abc\0\x08\0\0\0', 'latin1');
  const iccChunks = [1, 1, 3, 9].map((sequence) => Buffer.concat([Buffer.from(`ICC_PROFILE\0${String.fromCharCode(sequence)}\x02`, 'latin1'), noise(1000, sequence)]));
  const hugeIcc = (() => {
    const profile = noise(2000, 31);
    profile.writeUInt32BE(0xffffffff, 0);
    profile.write('acsp', 36, 'latin1');
    return Buffer.concat([Buffer.from('ICC_PROFILE\0\x01\x01', 'latin1'), profile]);
  })();
  const iccpBomb = Buffer.concat([Buffer.from('bomb\0\0', 'latin1'), deflateSync(Buffer.alloc(16 * 1024 * 1024))]);
  const xmpText = GPS_XMP(30_000).subarray(29).toString('utf8');
  const itxt = Buffer.concat([Buffer.from('XML:com.adobe.xmp\0\0\0\0\0', 'latin1'), Buffer.from(xmpText)]);
  const gpsExif = { IFD3: { GPSLatitudeRef: 'N', GPSLatitude: '51/1 30/1 0/1', GPSLongitudeRef: 'W', GPSLongitude: '0/1 7/1 30/1' } };
  const webpMeta = await sharp(png).withExif(gpsExif).withXmp(xmpText).webp().toBuffer();
  const tiffMeta = await sharp(png).withExif(gpsExif).withXmp(xmpText).tiff().toBuffer();
  const avifMeta = await sharp(png).withExif(gpsExif).avif({ effort: 0 }).toBuffer();
  const secrets = ['SECRET-XMP-MARKER'];
  return [
    { name: 'metadata: JPEG EXIF claiming 65535 IFD entries (60 KB)', key: 'hostile/meta/huge-ifd.jpg', body: jpegWithSegments(jpeg, [{ marker: 0xe1, payload: exif(hugeIfd) }]), expect: SUCCEEDED },
    { name: 'metadata: JPEG EXIF whose IFD chain loops', key: 'hostile/meta/loop.jpg', body: jpegWithSegments(jpeg, [{ marker: 0xe1, payload: exif(loop) }]), expect: SUCCEEDED },
    { name: 'metadata: JPEG EXIF that is not TIFF at all', key: 'hostile/meta/garbage-exif.jpg', body: jpegWithSegments(jpeg, [{ marker: 0xe1, payload: exif(noise(500, 22)) }]), expect: SUCCEEDED },
    { name: 'metadata: JPEG ICC profile in out-of-order, duplicate chunks', key: 'hostile/meta/icc-chunks.jpg', body: jpegWithSegments(jpeg, iccChunks.map((payload) => ({ marker: 0xe2, payload }))), expect: SUCCEEDED },
    { name: 'metadata: JPEG ICC profile declaring 4 GB', key: 'hostile/meta/icc-4gb.jpg', body: jpegWithSegments(jpeg, [{ marker: 0xe2, payload: hugeIcc }]), expect: SUCCEEDED },
    { name: 'metadata: PNG iCCP inflating to 16 MB', key: 'hostile/meta/iccp-bomb.png', body: pngInserting(png, 'IDAT', [pngChunk('iCCP', iccpBomb)]), expect: SUCCEEDED },
    { name: 'metadata: PNG iTXt XMP with GPS (30 KB)', key: 'hostile/meta/xmp.png', body: pngInserting(png, 'IDAT', [pngChunk('iTXt', itxt)]), expect: SUCCEEDED, forbiddenInOutputs: secrets },
    { name: 'metadata: PNG eXIf chunk of noise', key: 'hostile/meta/exif-noise.png', body: pngInserting(png, 'IDAT', [pngChunk('eXIf', noise(400, 23))]), expect: SUCCEEDED },
    { name: 'metadata: WebP with EXIF GPS and XMP', key: 'hostile/meta/gps.webp', body: webpMeta, expect: SUCCEEDED, forbiddenInOutputs: secrets },
    { name: 'metadata: TIFF with EXIF GPS and XMP', key: 'hostile/meta/gps.tiff', body: tiffMeta, expect: SUCCEEDED, forbiddenInOutputs: secrets },
    { name: 'metadata: AVIF with EXIF GPS', key: 'hostile/meta/gps.avif', body: avifMeta, expect: SUCCEEDED },
  ];
}

/**
 * Files cut at each structural boundary of each accepted format. Where the data ends early the
 * reason is TRUNCATED; a file cut before its signature is complete is not recognisable at all.
 */
async function truncationCases(): Promise<HostileCase[]> {
  const truncated = rejectedWith('TRUNCATED');
  const cut = (format: string, where: string, key: string, bytes: Buffer, end: number): HostileCase => ({
    name: `truncated ${format}: ${where}`,
    key: `hostile/truncated/${key}`,
    body: Buffer.from(bytes.subarray(0, end)),
    expect: truncated,
  });
  const jpeg = await smallImage('jpeg', 160, 120, 17);
  const png = await smallImage('png', 160, 120, 17);
  const webp = await smallImage('webp', 160, 120, 17);
  const lossless = await sharp(png).webp({ lossless: true, effort: 0 }).toBuffer();
  const animated = await animatedWebp(3, 64, 48);
  const gif = await smallImage('gif', 160, 120, 17);
  const tiff = handTiff({ width: 64, height: 48 });
  const avif = await smallImage('avif', 160, 120, 17);

  const sof = jpegMarker(jpeg, 'sof');
  const sos = jpegMarker(jpeg, 0xda);
  const dqt = jpegMarker(jpeg, 0xdb);
  const chunks = pngChunks(png);
  const ihdr = chunks.find((chunk) => chunk.type === 'IHDR') ?? { end: 33 };
  const idat = chunks.find((chunk) => chunk.type === 'IDAT') ?? { offset: 33, end: png.length - 12 };
  const vp8 = webpChunks(webp)[0] ?? { offset: 12, end: webp.length };
  const vp8l = webpChunks(lossless)[0] ?? { offset: 12, end: lossless.length };
  const frames = webpChunks(animated).filter((chunk) => chunk.fourcc === 'ANMF');
  const firstFrame = frames[0] ?? { offset: 12, end: animated.length };
  const layout = gifLayout(gif);
  const tiffAt = handTiffLayout(tiff);
  const meta = isoBox(avif, 'meta');
  const mdat = isoBox(avif, 'mdat');
  const middle = (from: number, to: number) => from + Math.floor((to - from) / 2);

  return [
    cut('JPEG', 'after SOI and the first segment', 'jpeg-app0.jpg', jpeg, jpegMarkers(jpeg)[0]?.end ?? 20),
    cut('JPEG', 'inside DQT', 'jpeg-dqt.jpg', jpeg, dqt.offset + 10),
    cut('JPEG', 'inside SOF', 'jpeg-sof.jpg', jpeg, sof.offset + 6),
    cut('JPEG', 'after the SOS header', 'jpeg-sos.jpg', jpeg, sos.end),
    cut('JPEG', 'mid-scan', 'jpeg-scan.jpg', jpeg, middle(sos.end, jpeg.length)),
    cut('JPEG', 'before EOI', 'jpeg-eoi.jpg', jpeg, jpeg.length - 2),
    cut('PNG', 'after the signature', 'png-signature.png', png, 8),
    cut('PNG', 'mid-IHDR', 'png-ihdr.png', png, 8 + 12),
    cut('PNG', 'after IHDR', 'png-after-ihdr.png', png, ihdr.end),
    cut('PNG', 'mid-IDAT', 'png-idat.png', png, middle(idat.offset, idat.end)),
    cut('PNG', 'before IEND', 'png-iend.png', png, png.length - 12),
    cut('WebP', 'after the RIFF header', 'webp-riff.webp', webp, 12),
    cut('WebP', 'mid-VP8 chunk header', 'webp-chunk-header.webp', webp, vp8.offset + 4),
    cut('WebP', 'mid-VP8 data', 'webp-vp8.webp', webp, middle(vp8.offset + 8, vp8.end)),
    cut('WebP', 'mid-VP8L data (lossless)', 'webp-vp8l.webp', lossless, middle(vp8l.offset + 8, vp8l.end)),
    cut('WebP', 'animated, before the first frame', 'webp-anim-head.webp', animated, firstFrame.offset),
    cut('WebP', 'animated, mid-frame', 'webp-anim-frame.webp', animated, middle(firstFrame.offset, firstFrame.end)),
    cut('GIF', 'after the header', 'gif-header.gif', gif, 6),
    cut('GIF', 'after the logical screen and colour table', 'gif-screen.gif', gif, layout.screenEnd),
    cut('GIF', 'inside the image descriptor', 'gif-descriptor.gif', gif, layout.image + 5),
    cut('GIF', 'mid-LZW', 'gif-lzw.gif', gif, middle(layout.lzwStart, gif.length)),
    cut('TIFF', 'after the header', 'tiff-header.tiff', tiff, 8),
    cut('TIFF', 'mid-IFD', 'tiff-ifd.tiff', tiff, tiffAt.ifd + 30),
    cut('TIFF', 'mid-strip', 'tiff-strip.tiff', tiff, middle(tiffAt.data, tiff.length)),
    cut('AVIF', 'mid-ftyp', 'avif-ftyp.avif', avif, 16),
    cut('AVIF', 'mid-meta box', 'avif-meta.avif', avif, middle(meta.offset, meta.end)),
    cut('AVIF', 'after the mdat header', 'avif-mdat-header.avif', avif, mdat.offset + 8),
    cut('AVIF', 'mid-mdat', 'avif-mdat.avif', avif, middle(mdat.offset + 8, mdat.end)),
  ];
}

/** Bytes that are complete but wrong: CORRUPT_IMAGE. */
async function corruptCases(jpeg: Buffer, png: Buffer, webp: Buffer): Promise<HostileCase[]> {
  const corrupt = rejectedWith('CORRUPT_IMAGE');
  const badCrc = Buffer.from(png);
  badCrc.writeUInt32BE((badCrc.readUInt32BE(29) ^ 0xdeadbeef) >>> 0, 29);
  const idat = pngChunks(png).find((chunk) => chunk.type === 'IDAT');
  const badZlib = (() => {
    if (!idat) return png;
    const data = Buffer.from(png.subarray(idat.offset + 8, idat.end - 4));
    for (let at = 2; at < data.length; at += 3) data[at] = (data[at] as number) ^ 0x5a;
    return Buffer.concat([png.subarray(0, idat.offset), pngChunk('IDAT', data), png.subarray(idat.end)]);
  })();
  // A quantisation table numbered 5: baseline JPEG has tables 0–3 only.
  const badDqt = Buffer.from(jpeg);
  badDqt[jpegMarker(badDqt, 0xdb).offset + 4] = 0x05;
  const badStart = Buffer.from(webp);
  const vp8 = webpChunks(badStart)[0];
  if (vp8) badStart[vp8.offset + 11] = 0x00;
  return [
    { name: 'corrupt: PNG IHDR with a wrong CRC', key: 'hostile/corrupt/crc.png', body: badCrc, expect: corrupt },
    { name: 'corrupt: PNG IDAT with a broken zlib stream', key: 'hostile/corrupt/zlib.png', body: badZlib, expect: corrupt },
    { name: 'corrupt: JPEG with a quantisation table numbered 5', key: 'hostile/corrupt/dqt.jpg', body: badDqt, expect: corrupt },
    { name: 'corrupt: WebP VP8 without its start code', key: 'hostile/corrupt/start-code.webp', body: badStart, expect: corrupt },
  ];
}

/** The cases issue 12 added, in groups: tiny, SVG, foreign, disguised/polyglot, bombs, animation, metadata, truncated, corrupt. */
async function grownCases(): Promise<HostileCase[]> {
  const jpeg = await smallImage('jpeg');
  const png = await smallImage('png');
  const webp = await smallImage('webp');
  const gif = await smallImage('gif');
  return [
    ...tinyFiles(),
    ...svgCases(),
    ...foreignFormatCases(png),
    ...(await disguisedCases(jpeg, png, gif)),
    ...(await moreBombCases(png, gif, webp)),
    ...(await frameCases()),
    ...(await metadataCases(jpeg, png)),
    ...(await truncationCases()),
    ...(await corruptCases(jpeg, png, webp)),
  ];
}

/** Retries on inputs that ended REJECTED: a rejection is permanent, so this must be 0 (issue 12). */
export function retriesOnPermanentErrors(results: readonly HostileResult[]): number {
  return results.filter((result) => result.status === 'REJECTED').reduce((sum, result) => sum + (result.retries ?? 0), 0);
}

/** One row per hostile input: expected and actual outcome, retries, ok or the first problem. */
export function renderHostileTable(results: readonly HostileResult[]): string {
  const outcome = (status?: string, code?: string) => `${status ?? '(none)'}${code ? ` ${code}` : ''}`;
  const rows: Array<[string, string, string, string, string]> = results.map((result) => [
    result.name,
    outcome(result.expected.status, result.expected.status === 'REJECTED' ? result.expected.code : undefined),
    outcome(result.status, result.code),
    String(result.retries ?? 0),
    result.problems.length === 0 ? 'ok' : `FAILED: ${result.problems[0]}`,
  ]);
  const header: [string, string, string, string, string] = ['hostile input', 'expected', 'got', 'retries', 'check'];
  const widths = header.map((cell, column) => Math.max(cell.length, ...rows.map((row) => row[column]?.length ?? 0)));
  const line = (cells: string[]) => `| ${cells.map((cell, index) => cell.padEnd(widths[index] ?? 0)).join(' | ')} |`;
  const handled = results.filter((result) => result.problems.length === 0).length;
  return [
    line(header),
    `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`,
    ...rows.map(line),
    '',
    `${results.length} hostile inputs, ${handled} handled as required; retries on permanent errors: ${retriesOnPermanentErrors(results)}`,
  ].join('\n');
}
