import { unpackBundle } from './bundle.js';
import { invalidOption } from './check.js';
import { type EncodedImage, encode } from './encode.js';
import { ANIMATED_OUTPUT_FORMATS, type OutputFormat } from './formats.js';
import { DEFAULT_LIMITS, type ImageLimits } from './limits.js';
import { type Rights, originalRights } from './metadata.js';
import { type Recipe, type Rendition, formatsFor } from './recipe.js';
import { type OriginalFacts, type RenderedOutput, canPassThrough, qualityOf, renderAnimated, resolveQualities } from './render.js';
import type { WorkingImage } from './working.js';

/** One stored intermediate as the encoder reads it: a bundle from renderBundle and its aliases. */
export interface IntermediateBundle {
  /** The bundle's bytes; absent when its branch had nothing to render. */
  bundle?: Buffer;
  /** Rendition name → the bundle entry holding its pixels. */
  aliases: Readonly<Record<string, string>>;
}

/** What encodeOutputs needs to know about the original, as validation read it from the header. */
export interface OutputFacts extends OriginalFacts {
  frames: number;
}

export interface EncodeOutputsOptions {
  /** The recipe whose renditions × formats are encoded. */
  recipe: Recipe;
  /** Default: DEFAULT_LIMITS. */
  limits?: ImageLimits;
  /** The original's bytes. Required when outputsNeedOriginal() says so (animation, copyright). */
  original?: Buffer;
  /**
   * Receives each output as soon as it is encoded, e.g. to store it while the slower encodes
   * run on. When it rejects, encodeOutputs waits for every other output to settle, then
   * rejects with the first failure.
   */
  onOutput?: (output: RenderedOutput) => Promise<void>;
}

function animates(recipe: Recipe, facts: Pick<OutputFacts, 'frames'>): boolean {
  return recipe.animation === 'animate' && facts.frames > 1;
}

/** Whether encodeOutputs needs the original's bytes: animated outputs are resized from it, kept rights are read from it. */
export function outputsNeedOriginal(recipe: Recipe, facts: Pick<OutputFacts, 'frames'>): boolean {
  return animates(recipe, facts) || recipe.metadata.keep.includes('copyright');
}

/** The images of every bundle, keyed `<bundle index>:<entry name>`. */
function imagesOf(bundles: readonly IntermediateBundle[]): Map<string, WorkingImage> {
  const images = new Map<string, WorkingImage>();
  for (const [index, { bundle }] of bundles.entries()) {
    if (!bundle) continue;
    for (const entry of unpackBundle(bundle)) images.set(`${index}:${entry.name}`, entry.image);
  }
  return images;
}

/**
 * Encodes every rendition of the recipe in each of its formats, from the bundles the branches
 * rendered. Each distinct image × format is encoded once; animated originals get animated
 * outputs resized from the original; an output the original can stand in for (see
 * canPassThrough) comes back with `passthrough: true` and the original's size. Every output
 * starts at once (libuv's pool bounds the parallel encodes), so the long largest AVIF overlaps
 * the small encodes and whatever onOutput does with them.
 */
export async function encodeOutputs(bundles: readonly IntermediateBundle[], facts: OutputFacts, options: EncodeOutputsOptions): Promise<RenderedOutput[]> {
  const { recipe, original } = options;
  if (outputsNeedOriginal(recipe, facts) && !original) throw invalidOption("the original's bytes", 'original', original);
  const limits = options.limits ?? DEFAULT_LIMITS;
  const images = imagesOf(bundles);
  // Identical renditions share an entry, and the encode cache keys on the entry: they are encoded once.
  const entryFor = new Map<string, string>();
  for (const [index, { aliases }] of bundles.entries()) {
    for (const [rendition, entry] of Object.entries(aliases)) entryFor.set(rendition, `${index}:${entry}`);
  }
  const animate = animates(recipe, facts);
  const rights: Rights = original ? await originalRights(original, recipe) : {};
  const imageOf = (rendition: Rendition): { entry: string; image: WorkingImage } => {
    const entry = entryFor.get(rendition.name);
    const image = entry ? images.get(entry) : undefined;
    if (!entry || !image) throw new Error(`No intermediate holds the rendition "${rendition.name}"`);
    return { entry, image };
  };
  // 'auto' qualities are chosen once per image, on the smallest and largest renditions' pixels.
  const { encoding, choices } = await resolveQualities(
    recipe,
    (rendition) => imageOf(rendition).image,
    async (rendition) => imageOf(rendition).image,
  );
  const encodings = new Map<string, Promise<EncodedImage>>();

  const produce = async (rendition: Rendition, format: OutputFormat): Promise<RenderedOutput> => {
    const { entry, image } = imageOf(rendition);
    const quality = qualityOf(choices, format);
    let output: RenderedOutput;
    if (animate && original && rendition.filters.length === 0 && ANIMATED_OUTPUT_FORMATS.includes(format)) {
      output = { ...(await renderAnimated(original, facts, rendition, encoding, limits)), ...quality };
    } else {
      const cacheKey = `${entry}|${format}`;
      let pending = encodings.get(cacheKey);
      if (!pending) {
        pending = encode(image, format, { encoding, keep: recipe.metadata.keep, rights, background: rendition.background });
        encodings.set(cacheKey, pending);
      }
      output = { ...(await pending), rendition: rendition.name, passthrough: false, animated: false, ...quality };
    }
    if (canPassThrough(facts, rendition, output)) {
      // The original stands in: no quality was chosen for it.
      const { autoQuality: _unused, ...encoded } = output;
      output = { ...encoded, data: original ?? Buffer.alloc(0), bytes: facts.bytes, passthrough: true };
    }
    await options.onOutput?.(output);
    return output;
  };

  const settled = await Promise.allSettled(recipe.renditions.flatMap((rendition) => formatsFor(recipe, rendition).map((format) => produce(rendition, format))));
  const failure = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failure) throw failure.reason;
  return settled.map((result) => (result as PromiseFulfilledResult<RenderedOutput>).value);
}
