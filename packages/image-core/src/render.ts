import sharp, { type Sharp, type SharpOptions } from 'sharp';
import { type EncodedImage, encode, fixedQuality } from './encode.js';
import { type Assets, applyFilters } from './filters.js';
import { ANIMATED_OUTPUT_FORMATS, FILE_EXTENSIONS, MEDIA_TYPES, type OutputFormat, sniffSignature } from './formats.js';
import { openHeic } from './heic.js';
import { DEFAULT_LIMITS, type ImageLimits } from './limits.js';
import { validateImage } from './validate.js';
import { originalRights } from './metadata.js';
import { type Placeholder, placeholder } from './placeholder.js';
import { DECODE_FAIL_ON, type ImageInfo, decodeFailure } from './probe.js';
import { AUTO_FORMATS, type QualityChoice, type ResolvedQualities, chooseQualities } from './quality.js';
import { type Encoding, type Recipe, type Rendition, formatsFor } from './recipe.js';
import { type RenditionGeometry, type Size, renditionSize, resizeOptions, sharedDecodeSize } from './resize.js';
import { type WorkingImage, capture, open } from './working.js';

export interface DecodeOptions {
  limits?: ImageLimits;
  /** Keep the input's ICC profile (and its colour space) instead of converting to sRGB. */
  keepIcc?: boolean;
}

/** Counts decodes of the original, so tests and the benchmark can hold the design to "decode once". */
export interface DecodeCounter {
  originalDecodes: number;
}

/**
 * The original's bytes as libvips reads them: every failure of such a pipeline goes through
 * toDecodeError. A HEIC's pixels come from libheif first (openHeic): libvips has no HEVC decoder.
 */
async function openOriginal(input: Buffer, size: Size, limits: ImageLimits, animated: boolean): Promise<Sharp> {
  const options: SharpOptions = { limitInputPixels: limits.maxPixels, failOn: DECODE_FAIL_ON, sequentialRead: true };
  const pipeline = sniffSignature(input) === 'heic' ? await openHeic(input, size, options) : sharp(input, { ...options, animated });
  return pipeline.timeout({ seconds: limits.timeoutSeconds });
}

/**
 * Decodes the original once, upright (EXIF orientation applied), at the smallest size every
 * rendition can be derived from (libvips shrinks on load for JPEG/WebP), converted to sRGB.
 */
export async function decodeForRenditions(
  input: Buffer,
  info: Size,
  renditions: readonly RenditionGeometry[],
  options: DecodeOptions = {},
): Promise<WorkingImage> {
  const limits = options.limits ?? DEFAULT_LIMITS;
  const size = sharedDecodeSize(info, renditions);
  let pipeline = (await openOriginal(input, info, limits, false)).autoOrient();
  if (size.width !== info.width || size.height !== info.height) {
    pipeline = pipeline.resize({ width: size.width, height: size.height, fit: 'fill', kernel: 'lanczos3' });
  }
  if (!options.keepIcc) pipeline = pipeline.toColourspace('srgb');
  // A decode failure of the original is deterministic: a rejection (toDecodeError), never a retry.
  return capture(pipeline, options.keepIcc ? 'tiff' : 'raw', 'Decoding the image', (error, context) => decodeFailure(error, context, input));
}

/** Two renditions with the same geometry and filters look the same: they are rendered (and encoded) once. */
export function lookOf(original: Size, rendition: Rendition): string {
  return JSON.stringify([resizeOptions(original, rendition), rendition.filters]);
}

/** Derives one rendition (size, crop, then its filters in order) from a decoded image. */
export async function renderRendition(decoded: WorkingImage, original: Size, rendition: Rendition, assets: Assets = new Map()): Promise<WorkingImage> {
  const target = renditionSize(original, rendition);
  const resized =
    target.width === decoded.width && target.height === decoded.height && rendition.fit !== 'contain'
      ? decoded
      : await capture(open(decoded).resize(resizeOptions(original, rendition)), decoded.kind, `Resizing to ${rendition.name}`);
  return applyFilters(resized, rendition.filters, assets);
}

export interface RenderedOutput extends EncodedImage {
  rendition: string;
  /**
   * The original stands in for this output: re-encoding would only have made the file larger.
   * `bytes` is the original's size and `data` the original's bytes (empty when encodeOutputs
   * was not given them: store the original itself, e.g. by a server-side copy).
   */
  passthrough: boolean;
  animated: boolean;
  /** How an 'auto' quality was chosen for this output's format (quality.ts); absent for fixed qualities. */
  autoQuality?: QualityChoice;
}

export interface RenderOptions {
  limits?: ImageLimits;
  assets?: Assets;
  /** A probe already made (e.g. by the validate step); saves reading the header again. */
  info?: ImageInfo;
  counter?: DecodeCounter;
}

export interface RenderResult {
  info: ImageInfo;
  outputs: RenderedOutput[];
  placeholder: Placeholder;
}

/** Whether the original is upright, sRGB, still, carries nothing to strip and nothing after its end: a candidate to stand in for an output. */
export function isCleanOriginal(info: ImageInfo): boolean {
  return (
    // Nothing after the image's end: a polyglot's trailer must never be served with it.
    info.trailingBytes === 0 &&
    info.frames === 1 &&
    info.orientation === 1 &&
    !info.hasExif &&
    !info.hasXmp &&
    (info.colourSpace === 'srgb' || info.colourSpace === 'b-w')
  );
}

export interface OriginalFacts {
  format: string;
  width: number;
  height: number;
  bytes: number;
  /** isCleanOriginal() of its probe. */
  clean: boolean;
}

/**
 * The original may stand in for an output when re-encoding cannot make it better: same
 * format and size, no filters, a clean original (see isCleanOriginal), and the re-encode came out larger.
 */
export function canPassThrough(original: OriginalFacts, rendition: Rendition, output: Pick<EncodedImage, 'format' | 'bytes'>): boolean {
  const target = renditionSize(original, rendition);
  return (
    original.clean &&
    original.format === output.format &&
    target.width === original.width &&
    target.height === original.height &&
    rendition.filters.length === 0 &&
    output.bytes > original.bytes
  );
}

/**
 * Animated WebP straight from the original: every frame resized. One extra decode per output.
 * `encoding` has its qualities resolved (chooseQualities); an 'auto' WebP quality chosen on
 * the still renditions applies to the frames.
 */
export async function renderAnimated(input: Buffer, original: Size, rendition: Rendition, encoding: Encoding, limits: ImageLimits): Promise<RenderedOutput> {
  const format: OutputFormat = 'webp';
  try {
    const options = resizeOptions(original, rendition);
    const { data, info: out } = await (await openOriginal(input, original, limits, true))
      .resize(options)
      .webp({ quality: fixedQuality(encoding, 'webp'), effort: encoding.webp.effort, loop: 0 })
      .toBuffer({ resolveWithObject: true });
    return {
      rendition: rendition.name,
      format,
      mediaType: MEDIA_TYPES[format],
      extension: FILE_EXTENSIONS[format],
      data,
      width: out.width,
      height: out.pageHeight ?? out.height,
      bytes: data.length,
      passthrough: false,
      animated: true,
    };
  } catch (error) {
    throw decodeFailure(error, `Encoding animated ${rendition.name}`, input);
  }
}

type QualityChoices = ResolvedQualities['choices'];

/** An output's quality choice, to spread into it (nothing for a fixed quality). */
export function qualityOf(choices: QualityChoices, format: OutputFormat): { autoQuality?: QualityChoice } {
  const choice = (choices as Partial<Record<OutputFormat, QualityChoice>>)[format];
  return choice ? { autoQuality: choice } : {};
}

/**
 * Resolves the recipe's 'auto' qualities for one image (chooseQualities), searching on proxies
 * of its smallest and largest renditions (by the size each comes out at). Without an 'auto' quality nothing
 * is searched.
 */
export async function resolveQualities(
  recipe: Recipe,
  sizeOf: (rendition: Rendition) => Size,
  imageOf: (rendition: Rendition) => Promise<WorkingImage>,
): Promise<ResolvedQualities> {
  const auto = AUTO_FORMATS.some((format) => recipe.encoding[format].quality === 'auto');
  const area = (rendition: Rendition) => sizeOf(rendition).width * sizeOf(rendition).height;
  const bySize = [...recipe.renditions].sort((a, b) => area(a) - area(b));
  const [smallest, largest] = [bySize[0], bySize[bySize.length - 1]];
  if (!auto || !smallest || !largest) return { encoding: recipe.encoding, choices: {} };
  const [small, large] = await Promise.all([imageOf(smallest), imageOf(largest)]);
  return chooseQualities({ smallest: small, largest: large }, recipe.encoding, { background: smallest.background });
}

/**
 * Every output of a recipe from one original: validate, decode once, derive each rendition,
 * encode each format. Renditions run one after another to bound memory; the formats of one
 * rendition encode in parallel.
 */
export async function render(input: Buffer, recipe: Recipe, options: RenderOptions = {}): Promise<RenderResult> {
  const limits = options.limits ?? DEFAULT_LIMITS;
  const info = options.info ?? (await validateImage(input, limits));
  const rights = await originalRights(input, recipe);
  const keepIcc = recipe.metadata.keep.includes('icc') && info.hasIccProfile;
  const decoded = await decodeForRenditions(input, info, recipe.renditions, { limits, keepIcc });
  if (options.counter) options.counter.originalDecodes += 1;
  const preview = await placeholder(decoded, recipe.placeholder);
  const animate = recipe.animation === 'animate' && info.frames > 1;
  const facts: OriginalFacts = { format: info.format, width: info.width, height: info.height, bytes: info.bytes, clean: isCleanOriginal(info) };
  // Renditions that come out identical (e.g. 1024 and 2048 wide from a 600 px original) are rendered and encoded once.
  const renditionsByLook = new Map<string, Promise<WorkingImage>>();
  const imageOf = (rendition: Rendition): Promise<WorkingImage> => {
    const look = lookOf(info, rendition);
    let image = renditionsByLook.get(look);
    if (!image) {
      image = renderRendition(decoded, info, rendition, options.assets);
      renditionsByLook.set(look, image);
    }
    return image;
  };
  const { encoding, choices } = await resolveQualities(recipe, (rendition) => renditionSize(info, rendition), imageOf);
  const encodedByLook = new Map<string, Promise<EncodedImage>>();
  const outputs: RenderedOutput[] = [];
  for (const rendition of recipe.renditions) {
    const look = lookOf(info, rendition);
    const rendered = await imageOf(rendition);
    const encoded = await Promise.all(
      formatsFor(recipe, rendition).map(async (format): Promise<RenderedOutput> => {
        const quality = qualityOf(choices, format);
        if (animate && rendition.filters.length === 0 && ANIMATED_OUTPUT_FORMATS.includes(format)) {
          if (options.counter) options.counter.originalDecodes += 1;
          return { ...(await renderAnimated(input, info, rendition, encoding, limits)), ...quality };
        }
        const key = `${look}|${format}`;
        let pending = encodedByLook.get(key);
        if (!pending) {
          pending = encode(rendered, format, { encoding, keep: recipe.metadata.keep, rights, background: rendition.background });
          encodedByLook.set(key, pending);
        }
        const output = await pending;
        if (canPassThrough(facts, rendition, output)) {
          return { ...output, data: input, bytes: input.length, rendition: rendition.name, passthrough: true, animated: false };
        }
        return { ...output, rendition: rendition.name, passthrough: false, animated: false, ...quality };
      }),
    );
    outputs.push(...encoded);
  }
  return { info, outputs, placeholder: preview };
}
