import sharp, { type Sharp } from 'sharp';
import { MissingAssetError, toImageError } from './errors.js';
import type { Filter, Position, Rendition } from './recipe.js';
import { type WorkingImage, capture, hasAlpha, open } from './working.js';

/** Images a recipe refers to by name (e.g. watermarks), supplied by the caller. */
export type Assets = ReadonlyMap<string, Buffer>;

/** The names of the assets the renditions' filters refer to, each once: what the caller must supply as Assets. */
export function assetNames(renditions: readonly Pick<Rendition, 'filters'>[]): string[] {
  const names = renditions.flatMap((rendition) => rendition.filters.flatMap((filter) => (filter.type === 'watermark' ? [filter.image] : [])));
  return [...new Set(names)];
}

const SEPIA: number[][] = [
  [0.393, 0.769, 0.189],
  [0.349, 0.686, 0.168],
  [0.272, 0.534, 0.131],
];

/** Rec. 709 luma weights. */
const LUMA: [number, number, number] = [0.2126, 0.7152, 0.0722];

type Matrix3x3 = [[number, number, number], [number, number, number], [number, number, number]];

/** The classic sepia matrix blended with the identity by `intensity`. */
function sepiaMatrix(intensity: number): Matrix3x3 {
  const cell = (i: number, j: number) => intensity * (SEPIA[i]?.[j] ?? 0) + (1 - intensity) * (i === j ? 1 : 0);
  const row = (i: number): [number, number, number] => [cell(i, 0), cell(i, 1), cell(i, 2)];
  return [row(0), row(1), row(2)];
}

/** Pango markup (GMarkup) knows these five entities; everything else in the text is literal. */
const MARKUP_ENTITIES: Record<string, string> = { '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' };

function escapeMarkup(text: string): string {
  return text.replace(/[<>&'"]/g, (char) => MARKUP_ENTITIES[char] ?? char);
}

/** Offsets an overlay of `size` inside `canvas` at a compass position with a margin. */
function place(canvas: { width: number; height: number }, size: { width: number; height: number }, position: Position, margin: number) {
  const maxLeft = Math.max(0, canvas.width - size.width);
  const maxTop = Math.max(0, canvas.height - size.height);
  const clamp = (value: number, max: number) => Math.min(max, Math.max(0, Math.round(value)));
  const left = position.includes('west') ? margin : position.includes('east') ? maxLeft - margin : maxLeft / 2;
  const top = position.startsWith('north') ? margin : position.startsWith('south') ? maxTop - margin : maxTop / 2;
  return { left: clamp(left, maxLeft), top: clamp(top, maxTop) };
}

/** Multiplies an RGBA overlay's alpha by `opacity`. */
async function withOpacity(overlay: Sharp, opacity: number): Promise<Buffer> {
  const { data, info } = await overlay.ensureAlpha().raw().toBuffer({ resolveWithObject: true });
  for (let index = 3; index < data.length; index += 4) {
    data[index] = Math.round((data[index] ?? 0) * opacity);
  }
  return sharp(data, { raw: { width: info.width, height: info.height, channels: 4 } }).png().toBuffer();
}

/**
 * The text drawn by libvips' text operation (Pango through fontconfig), not by the SVG loader:
 * that loader stays blocked wherever SVG input is off (see guardLoaders). At 72 dpi a point is a
 * pixel, so the font size is a fraction of the canvas height.
 */
async function textOverlay(filter: Extract<Filter, { type: 'text' }>, canvas: WorkingImage): Promise<Buffer> {
  const fontSize = Math.max(6, Math.round(canvas.height * filter.size));
  const align = filter.position.includes('west') ? 'left' : filter.position.includes('east') ? 'right' : 'centre';
  const text = sharp({
    text: {
      text: `<span foreground="${filter.color}">${escapeMarkup(filter.text)}</span>`,
      font: `${filter.font} ${fontSize}`,
      width: canvas.width,
      align,
      dpi: 72,
      rgba: true,
    },
  }).resize({ width: canvas.width, height: canvas.height, fit: 'inside', withoutEnlargement: true });
  return withOpacity(text, filter.opacity);
}

async function imageOverlay(filter: Extract<Filter, { type: 'watermark' }>, canvas: WorkingImage, assets: Assets) {
  const asset = assets.get(filter.image);
  if (!asset) {
    throw new MissingAssetError(`The watermark image "${filter.image}" was not supplied`, { details: { asset: filter.image } });
  }
  const width = Math.max(1, Math.round(canvas.width * filter.scale));
  const resized = sharp(asset).resize({ width, height: canvas.height, fit: 'inside', withoutEnlargement: false });
  return withOpacity(resized, filter.opacity);
}

/** Applies one filter as a sharp pipeline on a working image. */
async function applyOne(image: WorkingImage, filter: Filter, assets: Assets): Promise<Sharp> {
  const pipeline = open(image);
  switch (filter.type) {
    case 'grayscale':
      // A luma matrix rather than greyscale(): raw output of greyscale() keeps one band and
      // drops alpha; later steps and encoders expect the same channel layout.
      return pipeline.recomb([LUMA, LUMA, LUMA]);
    case 'sepia':
      return pipeline.recomb(sepiaMatrix(filter.intensity));
    case 'blur':
      return pipeline.blur(filter.sigma);
    case 'sharpen':
      return pipeline.sharpen({ sigma: filter.sigma });
    case 'modulate':
      return pipeline.modulate({ brightness: filter.brightness, saturation: filter.saturation, hue: filter.hue });
    case 'tint':
      return pipeline.tint(filter.color);
    case 'gamma':
      // gamma(g) alone darkens before a resize and brightens after it: with no resize they
      // cancel. Input gamma 1 with output gamma g brightens mid-tones: out = in^(1/g).
      return pipeline.gamma(1, filter.value);
    case 'normalize':
      return pipeline.normalise();
    case 'negate':
      return pipeline.negate({ alpha: false });
    case 'median':
      return pipeline.median(filter.size);
    case 'rotate':
      return pipeline.rotate(filter.angle, { background: filter.background });
    case 'flip':
      return pipeline.flip();
    case 'flop':
      return pipeline.flop();
    case 'text':
    case 'watermark': {
      // Blank text draws nothing (and libvips' text operation refuses it).
      if (filter.type === 'text' && filter.text.trim() === '') return pipeline;
      const overlay = filter.type === 'text' ? await textOverlay(filter, image) : await imageOverlay(filter, image, assets);
      const size = await sharp(overlay).metadata();
      const margin = filter.type === 'watermark' ? Math.round(Math.min(image.width, image.height) * filter.margin) : Math.round(image.height * 0.02);
      const offset = place(image, { width: size.width, height: size.height }, filter.position, margin);
      return pipeline.composite([{ input: overlay, ...offset }]);
    }
  }
}

/**
 * Applies filters in the order given. Each filter is its own pass on decoded pixels: sharp
 * reorders operations inside one pipeline, and the recipe's order must hold.
 */
export async function applyFilters(image: WorkingImage, filters: readonly Filter[], assets: Assets = new Map()): Promise<WorkingImage> {
  let current = image;
  for (const filter of filters) {
    try {
      const before = current;
      current = await capture(await applyOne(current, filter, assets), current.kind, `Applying the ${filter.type} filter`);
      if (!hasAlpha(before) && hasAlpha(current)) {
        // composite() adds an alpha band; an opaque one only costs bytes in every output.
        current = await capture(open(current).removeAlpha(), current.kind, `Applying the ${filter.type} filter`);
      }
    } catch (error) {
      throw toImageError(error, `Applying the ${filter.type} filter`);
    }
  }
  return current;
}
