import { createHash } from 'node:crypto';
import { z } from 'zod';
import { RecipeError } from './errors.js';
import { ANIMATED_OUTPUT_FORMATS, OUTPUT_FORMATS } from './formats.js';
import { parseOrThrow } from './schema.js';

const HEX_COLOUR = /^#(?:[0-9a-fA-F]{3}|[0-9a-fA-F]{4}|[0-9a-fA-F]{6}|[0-9a-fA-F]{8})$/;
const Colour = z.string().regex(HEX_COLOUR);

export const POSITIONS = ['centre', 'north', 'northeast', 'east', 'southeast', 'south', 'southwest', 'west', 'northwest'] as const;
export const Position = z.enum(POSITIONS);
export type Position = z.infer<typeof Position>;

export const FITS = ['cover', 'contain', 'inside', 'outside', 'fill'] as const;
export type Fit = (typeof FITS)[number];

/** Where to crop from when fit is cover: a compass position, or let libvips pick the busiest/most salient region. */
export const CROP_POSITIONS = [...POSITIONS, 'entropy', 'attention'] as const;

const filter = <T extends z.ZodRawShape>(shape: T) => z.object(shape).strict();

export const FilterSchema = z.discriminatedUnion('type', [
  filter({ type: z.literal('grayscale') }),
  filter({ type: z.literal('sepia'), intensity: z.number().min(0).max(1).default(1) }),
  filter({ type: z.literal('blur'), sigma: z.number().min(0.3).max(100).default(2) }),
  filter({ type: z.literal('sharpen'), sigma: z.number().min(0.01).max(10).default(1) }),
  filter({
    type: z.literal('modulate'),
    brightness: z.number().min(0).max(10).default(1),
    saturation: z.number().min(0).max(10).default(1),
    hue: z.number().int().min(-360).max(360).default(0),
  }),
  filter({ type: z.literal('tint'), color: Colour }),
  /** Brightens mid-tones: out = in^(1/value). */
  filter({ type: z.literal('gamma'), value: z.number().min(1).max(3).default(2.2) }),
  filter({ type: z.literal('normalize') }),
  filter({ type: z.literal('negate') }),
  filter({ type: z.literal('median'), size: z.number().int().min(1).max(15).default(3) }),
  filter({ type: z.literal('rotate'), angle: z.number().min(-360).max(360), background: Colour.default('#000000') }),
  filter({ type: z.literal('flip') }),
  filter({ type: z.literal('flop') }),
  filter({
    type: z.literal('text'),
    text: z.string().min(1).max(200),
    position: Position.default('southeast'),
    opacity: z.number().min(0).max(1).default(0.6),
    /** Text height as a fraction of the image height. */
    size: z.number().min(0.01).max(0.5).default(0.05),
    color: Colour.default('#ffffff'),
    font: z.string().regex(/^[\w ,-]+$/).max(100).default('sans-serif'),
  }),
  filter({
    type: z.literal('watermark'),
    /** Name of an asset the caller supplies (the Lambda loads it from S3). */
    image: z.string().min(1).max(200),
    position: Position.default('southeast'),
    opacity: z.number().min(0).max(1).default(0.5),
    /** Watermark width as a fraction of the image width. */
    scale: z.number().min(0.01).max(1).default(0.2),
    /** Gap to the edge as a fraction of the image's shorter side. */
    margin: z.number().min(0).max(0.5).default(0.02),
  }),
]);
export type Filter = z.output<typeof FilterSchema>;
export type FilterInput = z.input<typeof FilterSchema>;
export type FilterType = Filter['type'];

const RENDITION_NAME = /^[a-z0-9][a-z0-9_-]{0,39}$/;

export const RenditionSchema = z
  .object({
    /** Becomes part of the output key: lower-case letters, digits, '-' and '_'. */
    name: z.string().regex(RENDITION_NAME),
    width: z.number().int().min(1).max(16384).optional(),
    height: z.number().int().min(1).max(16384).optional(),
    fit: z.enum(FITS).default('inside'),
    position: z.enum(CROP_POSITIONS).default('centre'),
    /** Upscale images smaller than the box. Off by default: enlarging adds bytes, not detail. */
    enlarge: z.boolean().default(false),
    /** Letterbox colour for fit: contain (and the flattening colour for formats without alpha). */
    background: Colour.default('#ffffff'),
    filters: z.array(FilterSchema).max(20).default([]),
    /** Overrides the recipe's formats for this rendition. */
    formats: z.array(z.enum(OUTPUT_FORMATS)).min(1).optional(),
  })
  .strict()
  .refine((rendition) => rendition.width !== undefined || rendition.height !== undefined, {
    message: 'Expected a width, a height or both',
  });
export type Rendition = z.output<typeof RenditionSchema>;
export type RenditionInput = z.input<typeof RenditionSchema>;

/**
 * A fixed encoder quality, or 'auto': the lowest quality whose encoding scores at least
 * `target` on the perceptual metric (quality.ts, docs/auto-quality.md).
 */
const Quality = (fixed: number) => z.union([z.number().int().min(1).max(100), z.literal('auto')]).default(fixed);
/** The score an 'auto' quality must reach (SSIM, 0–1); default AUTO_QUALITY.targets of the format. */
const Target = z.number().min(0.5).max(0.999).optional();

export const EncodingSchema = z
  .object({
    jpeg: z
      .object({
        quality: Quality(80),
        target: Target,
        progressive: z.boolean().default(true),
        mozjpeg: z.boolean().default(true),
      })
      .strict()
      .default({ quality: 80, progressive: true, mozjpeg: true }),
    webp: z
      .object({
        quality: Quality(80),
        target: Target,
        effort: z.number().int().min(0).max(6).default(4),
        lossless: z.boolean().default(false),
      })
      .strict()
      .default({ quality: 80, effort: 4, lossless: false }),
    avif: z
      .object({
        quality: Quality(50),
        target: Target,
        /** 0 (fastest) to 9 (smallest). The dominant cost of the whole pipeline: 2 is ~6× faster than libvips' default 4. */
        effort: z.number().int().min(0).max(9).default(2),
        chromaSubsampling: z.enum(['4:2:0', '4:4:4']).default('4:2:0'),
      })
      .strict()
      .default({ quality: 50, effort: 2, chromaSubsampling: '4:2:0' }),
    png: z
      .object({
        compressionLevel: z.number().int().min(0).max(9).default(9),
        /** 'auto': a palette PNG when the image has ≤256 colours (lossless) and the palette file is smaller; true: always quantise (lossy). */
        palette: z.union([z.boolean(), z.literal('auto')]).default('auto'),
        quality: z.number().int().min(1).max(100).default(90),
      })
      .strict()
      .default({ compressionLevel: 9, palette: 'auto', quality: 90 }),
  })
  .strict();
export type Encoding = z.output<typeof EncodingSchema>;

export const METADATA_KEEP = ['copyright', 'icc'] as const;
export type MetadataKeep = (typeof METADATA_KEEP)[number];

export const RecipeSchema = z
  .object({
    /** Bumped by hand when outputs should be regenerated even though the JSON is the same. */
    version: z.string().min(1).max(40).default('1'),
    renditions: z.array(RenditionSchema).min(1).max(20),
    formats: z.array(z.enum(OUTPUT_FORMATS)).min(1).default(['avif', 'webp', 'jpeg']),
    encoding: EncodingSchema.default(EncodingSchema.parse({})),
    /** All metadata (EXIF incl. GPS, XMP, IPTC) is stripped unless listed here. */
    metadata: z
      .object({ keep: z.array(z.enum(METADATA_KEEP)).default([]) })
      .strict()
      .default({ keep: [] }),
    /** 'first-frame' writes stills; 'animate' keeps every frame in formats that can hold them (WebP) and the first frame elsewhere. */
    animation: z.enum(['first-frame', 'animate']).default('first-frame'),
    placeholder: z.enum(['thumbhash', 'blurhash', 'none']).default('thumbhash'),
    /**
     * A re-render after a recipe change: what happens to the outputs of renditions this recipe no
     * longer has. 'delete' (once the new manifest is written) or 'keep' (markup that names them still works).
     */
    removedRenditions: z.enum(['delete', 'keep']).default('delete'),
  })
  .strict()
  .superRefine((recipe, context) => {
    const seen = new Set<string>();
    recipe.renditions.forEach((rendition, index) => {
      if (seen.has(rendition.name)) {
        context.addIssue({ code: 'custom', path: ['renditions', index, 'name'], message: `Expected a unique name but received "${rendition.name}" twice` });
      }
      seen.add(rendition.name);
    });
    const formats = new Set(recipe.formats);
    if (formats.size !== recipe.formats.length) {
      context.addIssue({ code: 'custom', path: ['formats'], message: 'Expected each format once' });
    }
  });
export type Recipe = z.output<typeof RecipeSchema>;
export type RecipeInput = z.input<typeof RecipeSchema>;

/** The default recipe: 320/1024/2048 px wide, each as AVIF + WebP + a JPEG fallback. */
export const DEFAULT_RECIPE_INPUT: RecipeInput = {
  version: '1',
  renditions: [
    { name: 'sm', width: 320 },
    { name: 'md', width: 1024 },
    { name: 'lg', width: 2048 },
  ],
  formats: ['avif', 'webp', 'jpeg'],
};

/** Validates a recipe and fills its defaults. Throws RecipeError naming the first bad field. */
export function parseRecipe(input: unknown): Recipe {
  return parseOrThrow(RecipeSchema, input, 'recipe', (message, issues) => new RecipeError(message, { details: { issues } }));
}

/** Parses a recipe from JSON text; a syntax error is a RecipeError too. */
export function parseRecipeJson(text: string): Recipe {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new RecipeError(`The recipe is not valid JSON: ${(error as Error).message}`, { cause: error });
  }
  return parseRecipe(value);
}

export const DEFAULT_RECIPE: Recipe = parseRecipe(DEFAULT_RECIPE_INPUT);

/** Formats written for a rendition. */
export function formatsFor(recipe: Recipe, rendition: Rendition): Recipe['formats'] {
  return rendition.formats ?? recipe.formats;
}

function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical);
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((key) => [key, canonical((value as Record<string, unknown>)[key])]),
    );
  }
  return value;
}

/**
 * A short hash of the normalised recipe (defaults filled, keys sorted). Two recipes that
 * produce the same outputs have the same fingerprint; it keys the content cache.
 */
export function recipeFingerprint(recipe: Recipe): string {
  return createHash('sha256').update(JSON.stringify(canonical(recipe))).digest('hex').slice(0, 16);
}

/**
 * A short hash of everything that decides one rendition's outputs: its definition (geometry,
 * crop, background, filters, with defaults filled), the formats it is written in and the
 * encoding settings of those formats only, the metadata kept, the animation mode when one of
 * its formats can animate, and the recipe's version (bumped by hand to regenerate everything).
 * Not its name (that decides keys, not pixels), nor the placeholder or the other renditions:
 * changing WebP quality changes the fingerprint of the renditions written in WebP and no
 * other. Same canonical form as recipeFingerprint (keys sorted), so key order never matters.
 * A watermark is named, not hashed: replacing an asset's bytes under the same name does not
 * change it.
 */
export function renditionFingerprint(recipe: Recipe, rendition: Rendition): string {
  const { name: _name, formats: _formats, ...definition } = rendition;
  const formats = formatsFor(recipe, rendition);
  const identity = {
    version: recipe.version,
    rendition: definition,
    formats,
    encoding: Object.fromEntries(formats.map((format) => [format, recipe.encoding[format]])),
    metadata: recipe.metadata,
    ...(formats.some((format) => ANIMATED_OUTPUT_FORMATS.includes(format)) ? { animation: recipe.animation } : {}),
  };
  return createHash('sha256').update(JSON.stringify(canonical(identity))).digest('hex').slice(0, 16);
}
