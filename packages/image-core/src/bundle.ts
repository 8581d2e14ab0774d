import { InvalidImageError } from './errors.js';
import type { Assets } from './filters.js';
import { DEFAULT_LIMITS, type ImageLimits } from './limits.js';
import { type Placeholder, placeholder } from './placeholder.js';
import type { Recipe, Rendition } from './recipe.js';
import { decodeForRenditions, lookOf, renderRendition } from './render.js';
import type { Size } from './resize.js';
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

/** What renderBundle needs to know about the original, as validation read it from the header. */
export interface BundleFacts extends Size {
  /** The original carries an ICC profile (kept when the recipe keeps icc). */
  icc: boolean;
}

export interface BundleOptions {
  /** The recipe the renditions come from: its metadata (icc) and placeholder kind apply. */
  recipe: Recipe;
  /** Default: DEFAULT_LIMITS. */
  limits?: ImageLimits;
  /** Also compute the placeholder from this decode. Default: false. */
  placeholder?: boolean;
  /** The images the renditions' filters name (see assetNames). Default: none. */
  assets?: Assets;
}

/** A bundle ready to store, and how its renditions map onto its entries. */
export interface RenderedBundle {
  /** packBundle of the distinct renditions; absent when there was nothing to render. */
  bundle?: Buffer;
  renditions: string[];
  /** Rendition name → the bundle entry holding its pixels (identical renditions share one entry). */
  aliases: Record<string, string>;
  placeholder?: Placeholder;
}

/**
 * Decodes the original once at the size the renditions need, derives each distinct rendition
 * (size, crop, filters) and packs them into one bundle, so a pipeline step stores all of them
 * with one write. With no renditions it decodes nothing.
 */
export function renderBundle(original: Buffer, facts: BundleFacts, renditions: readonly Rendition[], options: BundleOptions): Promise<RenderedBundle> {
  if (renditions.length === 0) return Promise.resolve({ renditions: [], aliases: {} });
  const keepIcc = options.recipe.metadata.keep.includes('icc') && facts.icc;
  // Not an async function: an async function keeps its arguments alive until it returns, and
  // the original (often the largest buffer of the job) is garbage once it is decoded.
  const decoded = decodeForRenditions(original, facts, renditions, { limits: options.limits ?? DEFAULT_LIMITS, keepIcc });
  return bundleFrom(decoded, facts, renditions, options);
}

async function bundleFrom(pending: Promise<WorkingImage>, facts: BundleFacts, renditions: readonly Rendition[], options: BundleOptions): Promise<RenderedBundle> {
  const decoded = await pending;
  const preview = options.placeholder ? await placeholder(decoded, options.recipe.placeholder) : undefined;
  const entries: BundleEntry[] = [];
  const aliases: Record<string, string> = {};
  const byLook = new Map<string, string>();
  for (const rendition of renditions) {
    const look = lookOf(facts, rendition);
    const existing = byLook.get(look);
    if (existing) {
      aliases[rendition.name] = existing;
      continue;
    }
    entries.push({ name: rendition.name, image: await renderRendition(decoded, facts, rendition, options.assets) });
    byLook.set(look, rendition.name);
    aliases[rendition.name] = rendition.name;
  }
  return {
    bundle: packBundle(entries),
    renditions: renditions.map((rendition) => rendition.name),
    aliases,
    ...(preview ? { placeholder: preview } : {}),
  };
}
