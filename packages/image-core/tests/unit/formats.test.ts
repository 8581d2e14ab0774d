import { gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { sniffSignature, sniffUnreadable } from '../../src/index.js';
import { SVG_SPELLINGS, photo, tiffFile } from '../fixtures.js';

const PROLOG = '<?xml version="1.0" encoding="UTF-8" standalone="no"?>\n';

function ico(type: 1 | 2): Buffer {
  const file = Buffer.alloc(6 + 16 + 40);
  file.writeUInt16LE(type, 2);
  file.writeUInt16LE(1, 4);
  file[6] = 16;
  file[7] = 16;
  file.writeUInt32LE(40, 14);
  file.writeUInt32LE(22, 18);
  return file;
}

function bmp(): Buffer {
  const file = Buffer.alloc(54 + 4 * 4 * 3);
  file.write('BM', 0, 'latin1');
  file.writeUInt32LE(file.length, 2);
  file.writeUInt32LE(54, 10);
  file.writeUInt32LE(40, 14);
  file.writeInt32LE(4, 18);
  file.writeInt32LE(4, 22);
  file.writeUInt16LE(1, 26);
  file.writeUInt16LE(24, 28);
  return file;
}

const ftyp = (major: string, ...compatible: string[]) => {
  const box = Buffer.alloc(16 + 4 * compatible.length + 16);
  box.writeUInt32BE(16 + 4 * compatible.length, 0);
  box.write(`ftyp${major}`, 4, 'latin1');
  for (const [index, brand] of compatible.entries()) box.write(brand, 16 + 4 * index, 'latin1');
  return box;
};

const signatureBox = (type: string) => {
  const box = Buffer.alloc(32);
  box.writeUInt32BE(12, 0);
  box.write(type, 4, 'latin1');
  box.writeUInt32BE(0x0d0a870a, 8);
  return box;
};

const rgb = (width: number, height: number) => Buffer.alloc(width * height * 3, 0x80);

describe('sniffSignature', () => {
  it.each(SVG_SPELLINGS)('names SVG spelled as: %s', (_, bytes) => {
    expect(sniffSignature(bytes)).toBe('svg');
    expect(sniffUnreadable(bytes)).toBeUndefined();
  });

  it('names the raster formats libvips reads from the files sharp writes', async () => {
    const base = photo({ width: 32, height: 24 });
    const files: Array<[string, Buffer]> = [
      ['jpeg', await base.clone().jpeg().toBuffer()],
      ['png', await base.clone().png().toBuffer()],
      ['webp', await base.clone().webp().toBuffer()],
      ['gif', await base.clone().gif().toBuffer()],
      ['tiff', await base.clone().tiff().toBuffer()],
      ['tiff', await base.clone().tiff({ bigtiff: true }).toBuffer()],
      ['avif', await base.clone().avif({ effort: 0 }).toBuffer()],
    ];
    for (const [format, file] of files) expect(sniffSignature(file), format).toBe(format);
  });

  it.each([
    ['PDF', Buffer.from('%PDF-1.7\n1 0 obj <<>> endobj\n'), 'pdf'],
    ['PDF after a BOM and blank lines', Buffer.from('\uFEFF\n\n%PDF-1.4\n'), 'pdf'],
    ['PDF with junk before its header (readers look through the first 1024 bytes)', Buffer.from(`${'x'.repeat(300)}\n%PDF-1.5\n`), 'pdf'],
    ['HEIC (major brand heic)', ftyp('heic', 'mif1', 'heic'), 'heic'],
    ['HEIF (major brand mif1, compatible heic)', ftyp('mif1', 'mif1', 'heic'), 'heic'],
    ['AVIF (major brand mif1, compatible avif)', ftyp('mif1', 'mif1', 'avif', 'miaf'), 'avif'],
    ['Canon CR3 (ftyp crx)', ftyp('crx ', 'crx ', 'isom'), 'cr3'],
    ['JPEG 2000 (jp2 signature box)', signatureBox('jP  '), 'jp2'],
    ['JPEG 2000 (raw codestream, SOC + SIZ)', Buffer.from([0xff, 0x4f, 0xff, 0x51, 0, 0x2f, 0, 0]), 'jp2'],
    ['JPEG XL (codestream)', Buffer.from([0xff, 0x0a, 0xfa, 0x7f, 0x01, 0x90]), 'jxl'],
    ['JPEG XL (container)', signatureBox('JXL '), 'jxl'],
    ['PSD', Buffer.concat([Buffer.from('8BPS\0\x01', 'latin1'), Buffer.alloc(32)]), 'psd'],
    ['PSB (large PSD)', Buffer.concat([Buffer.from('8BPS\0\x02', 'latin1'), Buffer.alloc(32)]), 'psd'],
    ['BMP', bmp(), 'bmp'],
    ['ICO', ico(1), 'ico'],
    ['CUR', ico(2), 'cur'],
    ['Fujifilm RAF', Buffer.from('FUJIFILMCCD-RAW 0201FF383501', 'latin1'), 'raf'],
    ['Olympus ORF (IIRO)', Buffer.concat([Buffer.from('IIRO\x08\0\0\0', 'latin1'), Buffer.alloc(32)]), 'orf'],
    ['Olympus ORF (IIRS)', Buffer.concat([Buffer.from('IIRS\x08\0\0\0', 'latin1'), Buffer.alloc(32)]), 'orf'],
    ['Panasonic RW2', Buffer.concat([Buffer.from('IIU\0\x18\0\0\0', 'latin1'), Buffer.alloc(32)]), 'rw2'],
    ['Canon CR2 (TIFF with CR at byte 8)', Buffer.concat([Buffer.from('II*\0\x10\0\0\0CR\x02\0', 'latin1'), Buffer.alloc(32)]), 'cr2'],
    ['DNG (TIFF with a DNGVersion tag)', tiffFile(8, 8, rgb(8, 8), [{ tag: 0xc612, type: 1, values: [1, 4, 0, 0] }]), 'dng'],
  ])('names %s', (_, bytes, format) => {
    expect(sniffSignature(bytes)).toBe(format);
    if (format !== 'heic' && format !== 'avif') expect(sniffUnreadable(bytes)).toBe(format);
  });

  it('keeps a TIFF with GeoTIFF and private tags a TIFF', () => {
    const geo = tiffFile(8, 8, rgb(8, 8), [
      { tag: 33550, type: 12, values: [0.5, 0.5, 0] },
      { tag: 65000, type: 4, values: [42] },
    ]);
    expect(sniffSignature(geo)).toBe('tiff');
  });

  it.each([
    ['HTML', Buffer.from('<!doctype html><html><body><svg width="1" height="1"></svg></body></html>')],
    ['XHTML with a prolog', Buffer.from(`${PROLOG}<html xmlns="http://www.w3.org/1999/xhtml"><body/></html>`)],
    ['other XML', Buffer.from(`${PROLOG}<feed xmlns="http://www.w3.org/2005/Atom"/>`)],
    ['a comment that never closes', Buffer.from('<!-- <svg> ')],
    ['a shell script', Buffer.from('#!/bin/sh\necho <svg>\n')],
    ['a ZIP', Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), Buffer.alloc(64)])],
    ['gzip of HTML', gzipSync(Buffer.from('<html><body>hi</body></html>'))],
    ['gzip that is not deflate data', Buffer.from([0x1f, 0x8b, 0x08, 0, 0, 0, 0, 0, 0, 0xff, 0xde, 0xad, 0xbe, 0xef])],
    ['an MP4 (ftyp isom)', ftyp('isom', 'isom', 'mp41')],
    ['text that starts with BM', Buffer.from('BMW 3 series, 2011, low mileage, one owner')],
    ['random bytes', Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 7919) % 251))],
    ['one byte', Buffer.from([0xff])],
  ])('names nothing for %s', (_, bytes) => {
    expect(sniffSignature(bytes)).toBeUndefined();
  });

  it('inflates only a bounded prefix of a gzip bomb', () => {
    const bomb = gzipSync(Buffer.alloc(64 * 1024 * 1024, 0x20));
    const started = performance.now();
    expect(sniffSignature(bomb)).toBeUndefined();
    expect(performance.now() - started).toBeLessThan(1000);
  });
});
