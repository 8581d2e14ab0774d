import sharp from 'sharp';
import { ssim } from 'ssim.js';
import { type EncodeOptions, encode } from './encode.js';
import { toImageError } from './errors.js';
import type { Encoding } from './recipe.js';
import { type WorkingImage, capture, open } from './working.js';

/**
 * Perceptual auto-quality: for a format whose recipe quality is 'auto', the lowest quality
 * whose encoding still scores at least the target against the rendition's own pixels.
 *
 * The metric is SSIM on luma at full resolution (ssim.js, Bezkrovny's variant, no
 * downsampling). SSIMULACRA2 and Butteraugli were measured first and run here only as
 * WebAssembly or hand-ported JavaScript, at 1.8 µs and 50 µs a pixel: one score of a 2048 px
 * rendition would cost more CPU than rendering the whole image. SSIM costs about 35 ns a pixel
 * (docs/auto-quality.md has the figures and the choice).
 *
 * The search never encodes a whole rendition: its trials encode two small proxies (the
 * smallest rendition scaled down to AUTO_QUALITY.proxySide, and a full-resolution crop of the
 * largest), and the quality found applies to every rendition of the image in that format. The formats are searched in order (JPEG, WebP, AVIF), each
 * seeded where the one before landed in its range, with at most AUTO_QUALITY.maxTrials trial
 * qualities per format.
 */
export const AUTO_QUALITY = {
  metric: 'ssim',
  /** The default target score per format (AVIF's smoothing costs it SSIM): docs/auto-quality.md says how they were chosen. */
  targets: { jpeg: 0.92, webp: 0.92, avif: 0.9 },
  maxTrials: 3,
  /**
   * The proxy must score this much above the target: the renditions the quality is applied to
   * score a little lower than the proxy on some images (docs/auto-quality.md).
   */
  margin: 0.005,
  /** The longer side of the proxy the trials encode: the smallest rendition, scaled down to it. */
  proxySide: 240,
  /** The side of the full-resolution centre crop of the largest rendition that the trials also encode. */
  cropSide: 160,
  /** Quality ranges searched, and where the first format searched starts. */
  ranges: {
    jpeg: { min: 30, max: 95, seed: 75 },
    webp: { min: 30, max: 95, seed: 75 },
    avif: { min: 20, max: 80, seed: 45 },
  },
} as const;

export type AutoFormat = keyof typeof AUTO_QUALITY.ranges;
export const AUTO_FORMATS = Object.keys(AUTO_QUALITY.ranges) as AutoFormat[];

/** What the search chose for one format, as the ledger, the notification and the manifest record it. */
export interface QualityChoice {
  /** The encoder quality chosen. */
  quality: number;
  /** That quality's score on the proxies the search encodes (the lower of the two; see chooseQualities). */
  score: number;
  target: number;
  metric: typeof AUTO_QUALITY.metric;
  /** False when even the highest quality of the range scored below the target (that quality is used). */
  met: boolean;
  /** Trial encodes made (per proxy). */
  trials: number;
}

type SsimInput = Parameters<typeof ssim>[0];

interface Luma {
  data: Uint8ClampedArray;
  width: number;
  height: number;
}

/** sRGB luma (ssim.js's integer weights), flattened on the background, as grey RGBA for ssim.js. */
async function lumaOf(input: ReturnType<typeof open>, background: string): Promise<Luma> {
  const { data, info } = await input.flatten({ background }).toColourspace('srgb').removeAlpha().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  const pixels = info.width * info.height;
  const grey = new Uint8ClampedArray(pixels * 4);
  for (let pixel = 0, offset = 0; pixel < pixels; pixel += 1, offset += info.channels) {
    const value = (77 * (data[offset] as number) + 150 * (data[offset + 1] as number) + 29 * (data[offset + 2] as number) + 128) >> 8;
    const target = pixel * 4;
    grey[target] = value;
    grey[target + 1] = value;
    grey[target + 2] = value;
    grey[target + 3] = 255;
  }
  return { data: grey, width: info.width, height: info.height };
}

/** SSIM of two lumas of the same size, full resolution. */
function ssimOf(reference: Luma, candidate: Luma): number {
  if (reference.width !== candidate.width || reference.height !== candidate.height) {
    throw new Error(`Cannot score a ${candidate.width}×${candidate.height} encoding against a ${reference.width}×${reference.height} reference`);
  }
  // ssim.js types its inputs as the DOM's ImageData, of which it reads data, width and height.
  const { mssim } = ssim(reference as unknown as SsimInput, candidate as unknown as SsimInput, { ssim: 'bezkrovny', downsample: false });
  return Math.round(mssim * 10_000) / 10_000;
}

/** The metric's score of encoded bytes against the pixels they were encoded from. */
export async function perceptualScore(reference: WorkingImage, encoded: Buffer, background = '#ffffff'): Promise<number> {
  try {
    const [expected, actual] = await Promise.all([lumaOf(open(reference), background), lumaOf(sharp(encoded), background)]);
    return ssimOf(expected, actual);
  } catch (error) {
    throw toImageError(error, 'Scoring an encoding');
  }
}

/** Encoding settings with one format's quality fixed. */
function withQuality(encoding: Encoding, format: AutoFormat, quality: number): Encoding {
  return { ...encoding, [format]: { ...encoding[format], quality } };
}

/** The target of a format whose quality is 'auto', or undefined when its quality is fixed. */
export function autoTarget(encoding: Encoding, format: AutoFormat): number | undefined {
  const settings = encoding[format];
  return settings.quality === 'auto' ? (settings.target ?? AUTO_QUALITY.targets[format]) : undefined;
}

/** Next quality to try, or undefined when the bracket is closed. Interpolates in log(1 − score). */
function nextQuality(trials: ReadonlyMap<number, number>, target: number, range: { min: number; max: number }, remaining: number): number | undefined {
  const step = 15;
  let pass: number | undefined;
  let fail: number | undefined;
  for (const [quality, score] of trials) {
    if (score >= target) pass = pass === undefined ? quality : Math.min(pass, quality);
    else fail = fail === undefined ? quality : Math.max(fail, quality);
  }
  // Nothing passed yet: the last trial goes to the top of the range, so `met: false` means the range cannot reach the target.
  if (pass === undefined) return fail === undefined || fail >= range.max ? undefined : remaining <= 1 ? range.max : Math.min(range.max, fail + step);
  if (fail === undefined) return pass <= range.min ? undefined : Math.max(range.min, pass - step);
  if (pass - fail <= 1) return undefined;
  const error = (score: number) => Math.log(Math.max(1e-4, 1 - score));
  const [low, high] = [error(trials.get(fail) as number), error(trials.get(pass) as number)];
  const guess = low === high ? (fail + pass) / 2 : fail + ((pass - fail) * (low - error(target))) / (low - high);
  return Math.min(pass - 1, Math.max(fail + 1, Math.ceil(guess)));
}

/** What chooseQualities settled on for one image. */
export interface ResolvedQualities {
  /** The recipe's encoding with every 'auto' quality replaced by the chosen one. */
  encoding: Encoding;
  choices: Partial<Record<AutoFormat, QualityChoice>>;
}

/** The image the trials encode: `image` scaled down so its longer side is AUTO_QUALITY.proxySide (never enlarged). */
async function proxyOf(image: WorkingImage): Promise<WorkingImage> {
  const scale = AUTO_QUALITY.proxySide / Math.max(image.width, image.height);
  if (scale >= 1) return image;
  const size = { width: Math.max(8, Math.round(image.width * scale)), height: Math.max(8, Math.round(image.height * scale)) };
  return capture(open(image).resize({ ...size, fit: 'fill', kernel: 'lanczos3' }), image.kind, 'Scaling the quality proxy');
}

/** A full-resolution centre crop of `image`, or nothing when the proxy already shows it at (nearly) full size. */
async function cropOf(image: WorkingImage, proxy: WorkingImage): Promise<WorkingImage | undefined> {
  if (image.width <= proxy.width * 1.5) return undefined;
  const width = Math.min(AUTO_QUALITY.cropSide, image.width);
  const height = Math.min(AUTO_QUALITY.cropSide, image.height);
  const region = { left: Math.floor((image.width - width) / 2), top: Math.floor((image.height - height) / 2), width, height };
  return capture(open(image).extract(region), image.kind, 'Cropping the quality proxy');
}

/**
 * Chooses the quality of every 'auto' format of `encoding` for one image, by trial encodes
 * with the final encode's settings of two proxies: the image's smallest rendition scaled down
 * (its look as a whole) and a full-resolution crop of its largest rendition (the detail only
 * full size shows). A trial's score is the lower of the two.
 */
export async function chooseQualities(
  renditions: { smallest: WorkingImage; largest: WorkingImage },
  encoding: Encoding,
  options: Pick<EncodeOptions, 'background'> = {},
): Promise<ResolvedQualities> {
  const formats = AUTO_FORMATS.filter((format) => autoTarget(encoding, format) !== undefined);
  if (formats.length === 0) return { encoding, choices: {} };
  const background = options.background ?? '#ffffff';
  const proxy = await proxyOf(renditions.smallest);
  const crop = await cropOf(renditions.largest, proxy);
  const proxies = crop ? [proxy, crop] : [proxy];
  const references = await Promise.all(proxies.map((image) => lumaOf(open(image), background)));
  const resolved: ResolvedQualities = { encoding, choices: {} };
  // Where the previous format landed in its range (0 = its minimum): the next one starts there.
  let position: number | undefined;
  for (const format of formats) {
    const target = autoTarget(encoding, format) as number;
    const needed = Math.min(0.999, target + AUTO_QUALITY.margin);
    const range = AUTO_QUALITY.ranges[format];
    const scores = new Map<number, number>();
    let quality: number | undefined = position === undefined ? range.seed : Math.round(range.min + position * (range.max - range.min));
    while (quality !== undefined && scores.size < AUTO_QUALITY.maxTrials) {
      const settings = withQuality(resolved.encoding, format, quality);
      const trial = await Promise.all(
        proxies.map(async (image, index) => {
          const encoded = await encode(image, format, { encoding: settings, background });
          return ssimOf(references[index] as Luma, await lumaOf(sharp(encoded.data), background));
        }),
      );
      scores.set(quality, Math.min(...trial));
      quality = nextQuality(scores, needed, range, AUTO_QUALITY.maxTrials - scores.size);
    }
    const tried = [...scores].sort(([a], [b]) => a - b);
    const passing = tried.filter(([, score]) => score >= needed);
    // None passed: the highest quality tried (the range's maximum unless the trials ran out).
    const [chosen, score] = (passing[0] ?? tried[tried.length - 1]) as [number, number];
    resolved.choices[format] = { quality: chosen, score, target, metric: AUTO_QUALITY.metric, met: passing.length > 0, trials: scores.size };
    resolved.encoding = withQuality(resolved.encoding, format, chosen);
    position = (chosen - range.min) / (range.max - range.min);
  }
  return resolved;
}
