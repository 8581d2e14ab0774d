import sharp, { type Sharp } from 'sharp';
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
 * largest), and the quality found applies to every rendition of the image in that format.
 * Each format's search starts at a seed (where its quality landed for the typical photo of the
 * shared corpus) and makes at most AUTO_QUALITY.maxTrials trials (nextQuality).
 */
export const AUTO_QUALITY = {
  metric: 'ssim',
  /** The default target score per format (AVIF's smoothing costs it SSIM): docs/auto-quality.md says how they were chosen. */
  targets: { jpeg: 0.92, webp: 0.92, avif: 0.9 },
  maxTrials: 3,
  /** The first step from the seed, before two trials give a secant to follow. */
  step: 15,
  /**
   * The proxy must score this much above the target: the renditions the quality is applied to
   * score a little lower than the proxy on some images (docs/auto-quality.md).
   */
  margin: 0.005,
  /** The longer side of the proxy the trials encode: the smallest rendition, scaled down to it. */
  proxySide: 240,
  /** The side of the full-resolution centre crop of the largest rendition that the trials also encode. */
  cropSide: 160,
  /** Quality ranges searched, and where each search starts (the median quality found on the shared corpus's photos, docs/auto-quality.md). */
  ranges: {
    jpeg: { min: 30, max: 95, seed: 70 },
    webp: { min: 30, max: 95, seed: 40 },
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

export interface Luma {
  data: Uint8ClampedArray;
  width: number;
  height: number;
}

/**
 * sRGB luma (ssim.js's integer rgb2gray weights) of 3-channel pixels, averaged over
 * factor × factor blocks (1: full resolution), as the grey RGBA ssim.js reads.
 */
function lumaForSsim(rgb: Uint8Array, width: number, height: number, factor = 1): Luma {
  const outWidth = Math.floor(width / factor);
  const outHeight = Math.floor(height / factor);
  const data = new Uint8ClampedArray(outWidth * outHeight * 4);
  const area = factor * factor;
  for (let y = 0; y < outHeight; y += 1) {
    for (let x = 0; x < outWidth; x += 1) {
      let total = 0;
      for (let dy = 0; dy < factor; dy += 1) {
        let offset = ((y * factor + dy) * width + x * factor) * 3;
        for (let dx = 0; dx < factor; dx += 1, offset += 3) {
          total += (77 * (rgb[offset] as number) + 150 * (rgb[offset + 1] as number) + 29 * (rgb[offset + 2] as number) + 128) >> 8;
        }
      }
      const value = Math.round(total / area);
      const target = (y * outWidth + x) * 4;
      data[target] = value;
      data[target + 1] = value;
      data[target + 2] = value;
      data[target + 3] = 255;
    }
  }
  return { data, width: outWidth, height: outHeight };
}

/**
 * A pipeline's pixels flattened on the background, in sRGB, as luma for ssim.js: at full
 * resolution, or averaged over the blocks `factorOf` asks for at that size.
 */
export async function lumaOf(input: Sharp, background: string, factorOf: (width: number, height: number) => number = () => 1): Promise<Luma> {
  const { data, info } = await input.flatten({ background }).toColourspace('srgb').removeAlpha().raw({ depth: 'uchar' }).toBuffer({ resolveWithObject: true });
  if (info.channels !== 3) throw new Error(`Expected 3 channels to score but received ${info.channels}`);
  return lumaForSsim(data, info.width, info.height, factorOf(info.width, info.height));
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

/** log(1 − score): roughly linear in the encoder quality near a target, so a secant through two trials predicts well. */
const errorOf = (score: number) => Math.log(Math.max(1e-4, 1 - score));

/** The quality where the line through two trials (quality, log(1 − score)) reaches the target, rounded up and one higher (a passing guess saves a trial). */
function secant([a, scoreA]: [number, number], [b, scoreB]: [number, number], target: number): number | undefined {
  const [errorA, errorB] = [errorOf(scoreA), errorOf(scoreB)];
  if (errorA === errorB) return undefined;
  return Math.ceil(a + ((b - a) * (errorA - errorOf(target))) / (errorA - errorB)) + 1;
}

/**
 * Next quality to try, or undefined when the search is done. Before the target is bracketed it
 * steps AUTO_QUALITY.step from the seed, then follows the secant through the two trials; once
 * bracketed, it interpolates between the highest failing and the lowest passing quality.
 */
function nextQuality(trials: ReadonlyMap<number, number>, target: number, range: { min: number; max: number }, remaining: number): number | undefined {
  const step = AUTO_QUALITY.step;
  const tried = [...trials].sort(([a], [b]) => a - b);
  const passing = tried.filter(([, score]) => score >= target);
  const failing = tried.filter(([, score]) => score < target);
  const pass = passing[0]?.[0];
  const fail = failing[failing.length - 1]?.[0];
  if (pass === undefined) {
    // Nothing passed yet: the last trial goes to the top of the range, so `met: false` means the range cannot reach the target.
    if (fail === undefined || fail >= range.max) return undefined;
    if (remaining <= 1) return range.max;
    const guess = tried.length >= 2 ? secant(tried[tried.length - 2] as [number, number], tried[tried.length - 1] as [number, number], target) : undefined;
    return Math.min(range.max, Math.max(fail + 1, guess ?? fail + step));
  }
  if (fail === undefined) {
    if (pass <= range.min) return undefined;
    const guess = tried.length >= 2 ? secant(tried[0] as [number, number], tried[1] as [number, number], target) : undefined;
    return Math.min(pass - 1, Math.max(range.min, guess ?? pass - step));
  }
  if (pass - fail <= 1) return undefined;
  const guess = secant([fail, trials.get(fail) as number], [pass, trials.get(pass) as number], target) ?? Math.ceil((fail + pass) / 2);
  return Math.min(pass - 1, Math.max(fail + 1, guess));
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
  // The formats are searched side by side: each trial fixes only its own format's quality.
  const searched = await Promise.all(
    formats.map(async (format): Promise<[AutoFormat, QualityChoice]> => {
      const target = autoTarget(encoding, format) as number;
      const needed = Math.min(0.999, target + AUTO_QUALITY.margin);
      const range = AUTO_QUALITY.ranges[format];
      const scores = new Map<number, number>();
      let quality: number | undefined = range.seed;
      while (quality !== undefined && scores.size < AUTO_QUALITY.maxTrials) {
        const settings = withQuality(encoding, format, quality);
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
      return [format, { quality: chosen, score, target, metric: AUTO_QUALITY.metric, met: passing.length > 0, trials: scores.size }];
    }),
  );
  const resolved: ResolvedQualities = { encoding, choices: {} };
  for (const [format, choice] of searched) {
    resolved.choices[format] = choice;
    resolved.encoding = withQuality(resolved.encoding, format, choice.quality);
  }
  return resolved;
}
