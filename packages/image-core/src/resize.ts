import type { FitEnum, ResizeOptions } from 'sharp';
import { invalidOption } from './check.js';
import type { Fit, Rendition } from './recipe.js';

export interface Size {
  width: number;
  height: number;
}

export type RenditionGeometry = Pick<Rendition, 'width' | 'height' | 'fit' | 'enlarge'>;

/**
 * The scale a rendition needs from an image of `source` size: for cover/outside/fill the
 * larger of the two axis scales, for contain/inside the smaller. Never above 1 without enlarge.
 */
export function requiredScale(source: Size, rendition: RenditionGeometry): number {
  const { width, height, fit, enlarge } = rendition;
  const scaleX = width === undefined ? undefined : width / source.width;
  const scaleY = height === undefined ? undefined : height / source.height;
  let scale: number;
  if (scaleX === undefined && scaleY === undefined) {
    throw invalidOption('a width or a height', 'rendition', rendition);
  } else if (scaleX === undefined || scaleY === undefined) {
    scale = (scaleX ?? scaleY) as number;
  } else if (fit === 'contain' || fit === 'inside') {
    scale = Math.min(scaleX, scaleY);
  } else {
    scale = Math.max(scaleX, scaleY);
  }
  return enlarge ? scale : Math.min(scale, 1);
}

/**
 * The size to decode an original to so that every rendition can be derived from it without
 * losing detail: the largest scale any rendition needs, capped at the original (enlargement
 * happens per rendition). Rounded like renditionSize, so the largest rendition is exactly the
 * decoded image and needs no second resize. libvips uses shrink-on-load to get there cheaply.
 */
export function sharedDecodeSize(source: Size, renditions: readonly RenditionGeometry[]): Size {
  const scale = Math.min(1, Math.max(...renditions.map((rendition) => requiredScale(source, rendition))));
  if (scale >= 1) return { ...source };
  return {
    width: Math.min(source.width, Math.max(1, Math.round(source.width * scale))),
    height: Math.min(source.height, Math.max(1, Math.round(source.height * scale))),
  };
}

/**
 * The size a rendition comes out at, computed from the original's displayed size (not from
 * the shared decode, whose rounding must not leak into output sizes).
 */
export function renditionSize(source: Size, rendition: RenditionGeometry): Size {
  const { width, height, fit, enlarge } = rendition;
  const scale = requiredScale(source, rendition);
  const scaled = (value: number) => Math.max(1, Math.round(value * scale));
  if (width === undefined || height === undefined || fit === 'inside' || fit === 'outside') {
    return { width: scaled(source.width), height: scaled(source.height) };
  }
  // cover, contain, fill: the box itself, unless the image is smaller and may not be enlarged.
  if (!enlarge && (source.width < width || source.height < height)) {
    if (fit === 'contain') return { width: scaled(source.width), height: scaled(source.height) };
    return { width: Math.min(width, source.width), height: Math.min(height, source.height) };
  }
  return { width, height };
}

const FIT_FOR_SHARP: Record<Fit, keyof FitEnum> = {
  cover: 'cover',
  contain: 'contain',
  inside: 'fill',
  outside: 'fill',
  fill: 'fill',
};

/**
 * sharp resize options that turn an image of any size with the original's aspect into the
 * rendition. inside/outside become an exact 'fill' to the size computed from the original.
 */
export function resizeOptions(source: Size, rendition: Rendition): ResizeOptions {
  const target = renditionSize(source, rendition);
  const smallerThanBox =
    !rendition.enlarge &&
    rendition.width !== undefined &&
    rendition.height !== undefined &&
    (source.width < rendition.width || source.height < rendition.height);
  const fit: keyof FitEnum = smallerThanBox && rendition.fit !== 'cover' ? 'fill' : FIT_FOR_SHARP[rendition.fit];
  return {
    width: target.width,
    height: target.height,
    fit,
    position: rendition.position,
    background: rendition.background,
    kernel: 'lanczos3',
  };
}
