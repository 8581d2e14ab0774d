import { createHash } from 'node:crypto';
import type { EncodedImage } from '@imgflow/image-core';

/** The identity of one upload: the same object delivered twice has the same identity. */
export interface ObjectRef {
  bucket: string;
  key: string;
  /** Version id when the bucket is versioned; otherwise undefined. */
  versionId?: string;
  /** ETag without quotes. */
  etag: string;
  size: number;
}

/**
 * A job id derived from the object's identity (bucket, key, version or ETag). It is also a
 * valid Step Functions execution name (≤ 80 chars of [A-Za-z0-9-_]).
 */
export function jobIdFor(object: ObjectRef): string {
  const identity = [object.bucket, object.key, object.versionId ?? '', object.etag].join('\n');
  return createHash('sha256').update(identity).digest('hex').slice(0, 32);
}

const MAX_STEM_BYTES = 512;
const SAFE = /[^A-Za-z0-9._-]/g;

/**
 * The folder of an upload's outputs, from its key: "photos/Cat.JPG" → "photos/Cat". User keys
 * are hostile: every segment is reduced to [A-Za-z0-9._-], "", "." and ".." segments vanish,
 * so no key can climb out of the output prefix or hide control characters. When that changes
 * the key (unicode, spaces, ../), a short hash of the original keeps two such keys apart.
 */
export function outputStem(sourceKey: string): string {
  const normalised = sourceKey.normalize('NFC');
  const segments = normalised.split('/');
  const last = segments.pop() ?? '';
  const dot = last.lastIndexOf('.');
  segments.push(dot > 0 ? last.slice(0, dot) : last);
  const safeSegments = segments
    .map((segment) => segment.replace(SAFE, '_').replace(/^\.+/, ''))
    .filter((segment) => segment.length > 0);
  let stem = safeSegments.join('/');
  const original = segments.join('/');
  const changed = stem !== original;
  if (stem.length === 0) stem = 'image';
  if (changed || Buffer.byteLength(stem) > MAX_STEM_BYTES) {
    const hash = createHash('sha256').update(sourceKey).digest('hex').slice(0, 8);
    stem = `${stem.slice(0, MAX_STEM_BYTES)}-${hash}`;
  }
  return stem;
}

export function outputKey(outputPrefix: string, stem: string, rendition: string, output: Pick<EncodedImage, 'extension'>): string {
  return `${outputPrefix}${stem}/${rendition}.${output.extension}`;
}

/**
 * The image's manifest, beside its renditions: `<outputPrefix><stem>/manifest.json`. No output
 * key is ever it: an output's name ends in an image format's extension.
 */
export function manifestKey(outputPrefix: string, stem: string): string {
  return `${outputPrefix}${stem}/manifest.json`;
}

/**
 * The key of an output of a rendition whose definition changed in a re-render: its fingerprint
 * keeps it apart from the output it supersedes, which stays where markup and old manifests
 * point until nothing names it (see Rerender).
 */
export function versionedOutputKey(outputPrefix: string, stem: string, rendition: string, output: Pick<EncodedImage, 'extension'>, fingerprint: string): string {
  return `${outputPrefix}${stem}/${rendition}.${fingerprint.slice(0, 8)}.${output.extension}`;
}

export function workPrefixFor(workPrefix: string, jobId: string): string {
  return `${workPrefix}${jobId}/`;
}

export function workKey(workPrefix: string, jobId: string, name: string): string {
  return `${workPrefixFor(workPrefix, jobId)}${name}`;
}

/** The steps that leave an intermediate bundle, one object each. */
export const BUNDLE_STEPS = ['resize', 'filter'] as const;
export type BundleStep = (typeof BUNDLE_STEPS)[number];

/** The work object a branch writes: `work/<jobId>/<step>.bundle`. */
export function bundleKey(workPrefix: string, jobId: string, step: BundleStep): string {
  return workKey(workPrefix, jobId, `${step}.bundle`);
}

/**
 * Every work object a job can have. Known in advance, so cleaning up is one DeleteObjects with
 * no LIST (a LIST is billed like a PUT, and needs a wider grant).
 */
export function bundleKeys(workPrefix: string, jobId: string): string[] {
  return BUNDLE_STEPS.map((step) => bundleKey(workPrefix, jobId, step));
}
