import { InvalidImageError } from './errors.js';
import type { WorkingImage } from './working.js';

/**
 * Several decoded images in one object, so a pipeline step hands all of its renditions to
 * the next step with one S3 PUT and one GET instead of one per rendition. Layout:
 * magic "IMGB1\n", a 4-byte big-endian header length, a JSON header, then the pixel data.
 */
const MAGIC = Buffer.from('IMGB1\n', 'latin1');

export interface BundleEntry {
  name: string;
  image: WorkingImage;
}

interface HeaderEntry {
  name: string;
  kind: WorkingImage['kind'];
  width: number;
  height: number;
  channels: WorkingImage['channels'];
  offset: number;
  length: number;
}

export function packBundle(entries: readonly BundleEntry[]): Buffer {
  let offset = 0;
  const header: HeaderEntry[] = entries.map(({ name, image }) => {
    const entry = { name, kind: image.kind, width: image.width, height: image.height, channels: image.channels, offset, length: image.data.length };
    offset += image.data.length;
    return entry;
  });
  const json = Buffer.from(JSON.stringify(header), 'utf8');
  const length = Buffer.alloc(4);
  length.writeUInt32BE(json.length);
  return Buffer.concat([MAGIC, length, json, ...entries.map(({ image }) => image.data)]);
}

/** Reads a bundle back; the images share the bundle's memory (no copies). */
export function unpackBundle(bundle: Buffer): BundleEntry[] {
  if (bundle.length < MAGIC.length + 4 || !bundle.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new InvalidImageError('CORRUPT_IMAGE', 'The intermediate bundle is not an imgflow bundle');
  }
  const headerLength = bundle.readUInt32BE(MAGIC.length);
  const start = MAGIC.length + 4;
  const dataStart = start + headerLength;
  let header: HeaderEntry[];
  try {
    header = JSON.parse(bundle.subarray(start, dataStart).toString('utf8')) as HeaderEntry[];
  } catch (error) {
    throw new InvalidImageError('CORRUPT_IMAGE', 'The intermediate bundle header is unreadable', { cause: error });
  }
  return header.map((entry) => {
    const begin = dataStart + entry.offset;
    if (begin + entry.length > bundle.length) {
      throw new InvalidImageError('CORRUPT_IMAGE', `The intermediate bundle is truncated at "${entry.name}"`);
    }
    return {
      name: entry.name,
      image: { kind: entry.kind, width: entry.width, height: entry.height, channels: entry.channels, data: bundle.subarray(begin, begin + entry.length) },
    };
  });
}
