import type { Placeholder } from '@imgflow/image-core';
import { MEDIA_TYPES, OUTPUT_FORMATS, type OutputFormat, type Recipe, renditionFingerprint } from '@imgflow/image-core/contracts';
import { z } from 'zod';
import type { StepDeps } from './deps.js';
import { manifestKey } from './keys.js';
import type { Job, OutputRecord } from './state.js';

/**
 * The manifest's schema id. Fields added to it keep `/1` (a reader ignores fields it does not
 * know); removing, renaming or changing the meaning of one makes it `/2`. See docs/manifest.md.
 */
export const MANIFEST_SCHEMA = 'imgflow.manifest/1';

/**
 * Cache-Control of the manifest: short, unlike the outputs' (immutable). It sits at a fixed key
 * and is rewritten when the image is processed again (a new recipe, a new upload under the same
 * key), so a CDN must not hold it for long; a minute bounds how stale a front end can be.
 */
export const MANIFEST_CACHE_CONTROL = 'public, max-age=60';

const Sha256 = z.string().regex(/^[0-9a-f]{64}$/);
const Dimension = z.number().int().positive();
const Format = z.enum(OUTPUT_FORMATS);

export const ManifestOutputSchema = z.object({
  format: Format,
  mediaType: z.string(),
  /** The object's full key in the output bucket. */
  key: z.string().min(1),
  /** The key relative to the output prefix: what `pictures` use as a URL. */
  path: z.string().min(1),
  bytes: z.number().int().nonnegative(),
  width: Dimension,
  height: Dimension,
  /** Hex sha256 of the stored bytes. */
  sha256: Sha256,
  /**
   * Present when the recipe's quality for the format is 'auto': the encoder quality chosen for
   * this image and its perceptual score (docs/auto-quality.md).
   */
  autoQuality: z
    .object({
      quality: z.number().int().min(1).max(100),
      /** The score of that quality on the search's proxy; `met` is false when no quality of the range reached `target`. */
      score: z.number().min(-1).max(1),
      target: z.number().min(0.5).max(0.999),
      metric: z.literal('ssim'),
      met: z.boolean(),
    })
    .optional(),
});

export const ManifestRenditionSchema = z.object({
  name: z.string(),
  /** image-core renditionFingerprint: changes when anything that decides this rendition's outputs does. */
  fingerprint: z.string().min(1),
  width: Dimension,
  height: Dimension,
  /** In the recipe's format order. */
  outputs: z.array(ManifestOutputSchema).min(1),
});

export const PictureSourceSchema = z.object({
  /** The `type` attribute of a `<source>`, e.g. image/avif. */
  type: z.string(),
  /** `path widthw, …`, narrowest first. */
  srcset: z.string(),
});

/**
 * A ready `<picture>`: renditions of one look (the same filters and aspect ratio) at several
 * widths. `sources` in the order a browser should try them (AVIF, then WebP), then `img`, the
 * fallback every browser reads (JPEG, else PNG). `sizes` is the front end's: only it knows the layout.
 */
export const PictureSchema = z.object({
  /** The renditions it is made of, narrowest first. */
  renditions: z.array(z.string()).min(1),
  sources: z.array(PictureSourceSchema),
  img: z.object({
    type: z.string(),
    /** The widest fallback rendition. */
    src: z.string(),
    srcset: z.string(),
    /** Of the widest rendition: for `width`/`height` attributes (the aspect ratio, so the layout does not shift). */
    width: Dimension,
    height: Dimension,
  }),
});

export const ImageManifestSchema = z.object({
  schema: z.literal(MANIFEST_SCHEMA),
  jobId: z.string().min(1),
  /** ISO time the manifest was written. */
  generatedAt: z.iso.datetime(),
  source: z.object({
    bucket: z.string(),
    key: z.string(),
    versionId: z.string().optional(),
    etag: z.string(),
    sha256: Sha256,
    format: z.string(),
    width: Dimension,
    height: Dimension,
    bytes: z.number().int().nonnegative(),
  }),
  /** The recipe the outputs were made with (image-core recipeFingerprint). */
  recipe: z.object({ fingerprint: z.string().min(1) }),
  outputBucket: z.string(),
  /** The prefix every output key starts with; `path`s and `pictures` are relative to it. */
  outputPrefix: z.string(),
  /** Absent when the job computed none. */
  placeholder: z
    .object({
      kind: z.enum(['thumbhash', 'blurhash', 'none']),
      /** ThumbHash as base64, BlurHash as base83; absent for kind none. */
      hash: z.string().optional(),
      dominantColor: z.string().regex(/^#[0-9a-f]{6}$/i),
    })
    .optional(),
  renditions: z.array(ManifestRenditionSchema).min(1),
  pictures: z.array(PictureSchema),
});
export type ImageManifest = z.infer<typeof ImageManifestSchema>;
export type ManifestOutput = z.infer<typeof ManifestOutputSchema>;
export type Picture = z.infer<typeof PictureSchema>;

/**
 * The JSON Schema of a manifest (committed as docs/manifest.schema.json). Written from the
 * input side: it does not forbid unknown properties, as a reader of `/1` must accept fields added later.
 */
export function manifestJsonSchema(): Record<string, unknown> {
  return z.toJSONSchema(ImageManifestSchema, { target: 'draft-2020-12', io: 'input' }) as Record<string, unknown>;
}

export interface ManifestInput {
  job: Job;
  /** In recipe order; each with its sha256. */
  outputs: readonly OutputRecord[];
  placeholder?: Placeholder;
  /** The recipe the outputs were made with: the renditions' fingerprints and looks. */
  recipe: Recipe;
  outputBucket: string;
  outputPrefix: string;
  generatedAt: Date;
}

/** Browsers try `<source>`s in order: the smallest format first. */
const SOURCE_ORDER: readonly OutputFormat[] = ['avif', 'webp'];
/** The `<img>`'s format: one every browser reads. Only a recipe without either falls back to WebP, then AVIF. */
const FALLBACK_ORDER: readonly OutputFormat[] = ['jpeg', 'png', 'webp', 'avif'];

/** Two renditions share a picture when their aspect ratios differ by under 1% (rounding of a few pixels). */
const ASPECT_TOLERANCE = 0.01;

function sameAspect(a: { width: number; height: number }, b: { width: number; height: number }): boolean {
  const ratio = (a.width * b.height) / (a.height * b.width);
  return Math.abs(ratio - 1) < ASPECT_TOLERANCE;
}

/** The rendition's fingerprints under `recipe`, by name. */
export function renditionFingerprints(recipe: Recipe): Map<string, string> {
  return new Map(recipe.renditions.map((rendition) => [rendition.name, renditionFingerprint(recipe, rendition)]));
}

/** Output records with their rendition's fingerprint under `recipe` (a rendition it does not have keeps the recorded one). */
export function withFingerprints(recipe: Recipe, outputs: readonly OutputRecord[]): OutputRecord[] {
  const fingerprints = renditionFingerprints(recipe);
  return outputs.map((output) => {
    const fingerprint = fingerprints.get(output.rendition) ?? output.fingerprint;
    return fingerprint ? { ...output, fingerprint } : { ...output };
  });
}

function relativePath(outputPrefix: string, key: string): string {
  return key.startsWith(outputPrefix) ? key.slice(outputPrefix.length) : key;
}

function srcset(entries: ReadonlyArray<{ path: string; width: number }>): string {
  return entries.map((entry) => `${entry.path} ${entry.width}w`).join(', ');
}

/**
 * Groups renditions into pictures: one per look (filters, aspect ratio), its renditions by
 * width, a width given once (renditions that came out the same size, e.g. 1024 and 2048 wide
 * from a 1200 px original, keep the first).
 */
function picturesOf(renditions: readonly ImageManifest['renditions'][number][], recipe: Recipe): Picture[] {
  const filtersOf = new Map(recipe.renditions.map((rendition) => [rendition.name, JSON.stringify(rendition.filters)]));
  const groups: Array<{ filters: string; members: Array<ImageManifest['renditions'][number]> }> = [];
  for (const rendition of renditions) {
    const filters = filtersOf.get(rendition.name) ?? `unknown:${rendition.name}`;
    const group = groups.find((each) => each.filters === filters && each.members[0] !== undefined && sameAspect(each.members[0], rendition));
    if (group) group.members.push(rendition);
    else groups.push({ filters, members: [rendition] });
  }
  return groups.map(({ members }) => {
    const byWidth = [...members].sort((a, b) => a.width - b.width);
    const entriesOf = (format: OutputFormat) => {
      const seen = new Set<number>();
      return byWidth.flatMap((rendition) => {
        const output = rendition.outputs.find((each) => each.format === format);
        if (!output || seen.has(output.width)) return [];
        seen.add(output.width);
        return [{ path: output.path, width: output.width, height: output.height }];
      });
    };
    const present = new Set(members.flatMap((rendition) => rendition.outputs.map((output) => output.format)));
    const fallback = FALLBACK_ORDER.find((format) => present.has(format)) ?? 'jpeg';
    const fallbackEntries = entriesOf(fallback);
    const widest = fallbackEntries[fallbackEntries.length - 1] ?? { path: '', width: 1, height: 1 };
    return {
      renditions: byWidth.map((rendition) => rendition.name),
      sources: SOURCE_ORDER.filter((format) => format !== fallback && present.has(format)).map((format) => ({ type: MEDIA_TYPES[format], srcset: srcset(entriesOf(format)) })),
      img: { type: MEDIA_TYPES[fallback], src: widest.path, srcset: srcset(fallbackEntries), width: widest.width, height: widest.height },
    };
  });
}

/** What the manifest says of an 'auto' quality (the search's trial count stays in the ledger). */
function autoQualityOf(choice: NonNullable<OutputRecord['autoQuality']>): NonNullable<ManifestOutput['autoQuality']> {
  return { quality: choice.quality, score: choice.score, target: choice.target, metric: choice.metric, met: choice.met };
}

/**
 * The manifest of a finished job, from its output records (each with the sha256 of its stored
 * bytes). Renditions in recipe order, their outputs in the order recorded. Throws when an
 * output has no sha256: a manifest never lists an object it cannot vouch for.
 */
export function buildManifest(input: ManifestInput): ImageManifest {
  const { job, recipe, outputPrefix } = input;
  const fingerprints = renditionFingerprints(recipe);
  const byRendition = new Map<string, OutputRecord[]>();
  for (const output of input.outputs) byRendition.set(output.rendition, [...(byRendition.get(output.rendition) ?? []), output]);
  const renditions = [...byRendition].map(([name, outputs]) => {
    const fingerprint = fingerprints.get(name) ?? outputs[0]?.fingerprint;
    if (!fingerprint) throw new Error(`The rendition "${name}" is not in the recipe and its outputs carry no fingerprint`);
    const first = outputs[0] as OutputRecord;
    return {
      name,
      fingerprint,
      width: first.width,
      height: first.height,
      outputs: outputs.map((output): ManifestOutput => {
        if (!output.sha256) throw new Error(`The output ${output.key} has no sha256`);
        return {
          format: output.format,
          mediaType: MEDIA_TYPES[output.format],
          key: output.key,
          path: relativePath(outputPrefix, output.key),
          bytes: output.bytes,
          width: output.width,
          height: output.height,
          sha256: output.sha256,
          ...(output.autoQuality ? { autoQuality: autoQualityOf(output.autoQuality) } : {}),
        };
      }),
    };
  });
  const order = new Map(recipe.renditions.map((rendition, index) => [rendition.name, index]));
  renditions.sort((a, b) => (order.get(a.name) ?? Number.MAX_SAFE_INTEGER) - (order.get(b.name) ?? Number.MAX_SAFE_INTEGER));
  const { source } = job;
  return {
    schema: MANIFEST_SCHEMA,
    jobId: job.jobId,
    generatedAt: input.generatedAt.toISOString(),
    source: {
      bucket: source.bucket,
      key: source.key,
      ...(source.versionId ? { versionId: source.versionId } : {}),
      etag: source.etag,
      sha256: job.sha256,
      format: job.format,
      width: job.width,
      height: job.height,
      bytes: source.size,
    },
    recipe: { fingerprint: job.recipe },
    outputBucket: input.outputBucket,
    outputPrefix,
    ...(input.placeholder
      ? {
          placeholder: {
            kind: input.placeholder.kind,
            ...(input.placeholder.hash ? { hash: input.placeholder.hash } : {}),
            dominantColor: input.placeholder.dominantColor,
          },
        }
      : {}),
    renditions,
    pictures: picturesOf(renditions, recipe),
  };
}

/**
 * Writes a job's manifest (one PUT, JSON, MANIFEST_CACHE_CONTROL) beside its outputs, once
 * every output is stored, and returns its key. Storage errors come out named, as every write's.
 */
export async function writeManifest(
  deps: Pick<StepDeps, 'config' | 'storage' | 'clock'>,
  fields: Pick<ManifestInput, 'job' | 'outputs' | 'placeholder'>,
): Promise<string> {
  const { config } = deps;
  const manifest = buildManifest({ ...fields, recipe: config.recipe, outputBucket: config.outputBucket, outputPrefix: config.outputPrefix, generatedAt: deps.clock() });
  const key = manifestKey(config.outputPrefix, fields.job.stem);
  await deps.storage.put({ bucket: config.outputBucket, key }, Buffer.from(JSON.stringify(manifest)), 'application/json', MANIFEST_CACHE_CONTROL);
  return key;
}
