import exifReader from 'exif-reader';
import sharp, { type Metadata, type Sharp } from 'sharp';
import { toDecodeError } from './errors.js';
import type { MetadataKeep, Recipe } from './recipe.js';

/** The rights fields worth carrying into outputs. Everything else (GPS above all) is dropped. */
export interface Rights {
  copyright?: string;
  artist?: string;
}

function text(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  const trimmed = value.replace(/\0+$/, '').trim();
  return trimmed.length > 0 && trimmed.length <= 1000 ? trimmed : undefined;
}

/** Reads Copyright and Artist from an EXIF block; a malformed block yields no rights, not an error. */
export function readRights(exif: Buffer | undefined): Rights {
  if (!exif) return {};
  try {
    const tags = exifReader(exif);
    const rights: Rights = {};
    const copyright = text(tags.Image?.Copyright);
    const artist = text(tags.Image?.Artist);
    if (copyright) rights.copyright = copyright;
    if (artist) rights.artist = artist;
    return rights;
  } catch {
    return {};
  }
}

/** The rights an original's outputs carry: none unless the recipe keeps copyright. */
export async function originalRights(original: Buffer, recipe: Pick<Recipe, 'metadata'>): Promise<Rights> {
  if (!recipe.metadata.keep.includes('copyright')) return {};
  let metadata: Metadata;
  try {
    metadata = await sharp(original).metadata();
  } catch (error) {
    throw toDecodeError(error, 'Reading the rights from the header');
  }
  return readRights(metadata.exif);
}

/**
 * Sets what an output keeps. By default sharp writes no EXIF, XMP or IPTC, so nothing leaks;
 * the rights fields are written back only when the recipe asks for them.
 */
export function applyMetadata(pipeline: Sharp, keep: readonly MetadataKeep[], rights: Rights): Sharp {
  let result = pipeline;
  if (keep.includes('copyright') && (rights.copyright || rights.artist)) {
    const ifd0: Record<string, string> = {};
    if (rights.copyright) ifd0.Copyright = rights.copyright;
    if (rights.artist) ifd0.Artist = rights.artist;
    result = result.withExif({ IFD0: ifd0 });
  }
  if (keep.includes('icc')) {
    result = result.keepIccProfile();
  }
  return result;
}
