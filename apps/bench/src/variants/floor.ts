import { readFile } from 'node:fs/promises';
import { performance } from 'node:perf_hooks';
import { AUTO_FORMATS, type Recipe, chooseQualities, fixedQuality } from '@imgflow/image-core';
import sharp, { type Sharp } from 'sharp';
import type { SharpDecodeCounter } from '../counters.js';
import type { OutputFile, RunRequest, RunResult, Variant } from './types.js';

/**
 * The floor: the least work that produces the recipe's outputs, as a bare sharp script in one
 * process. No imgflow code does the image work here, no S3, no workflow:
 * - read the header, compute each rendition's size;
 * - decode ONCE, upright and sRGB, straight to the largest rendition (libvips shrinks on load);
 * - derive each smaller rendition from those raw pixels (no second decode);
 * - encode every output with the recipe's encoder settings, all at once (libuv's pool runs them in parallel).
 */

interface Size {
  width: number;
  height: number;
}

/** Box-fit arithmetic for the recipe's renditions ('inside', never enlarged: the default recipe's). */
export function floorSize(source: Size, rendition: Recipe['renditions'][number]): Size {
  if (rendition.fit !== 'inside' || rendition.enlarge) throw new Error(`The floor implements fit 'inside' without enlarge only; ${rendition.name} asks for more`);
  const scales = [rendition.width && rendition.width / source.width, rendition.height && rendition.height / source.height].filter((value): value is number => !!value);
  const scale = Math.min(1, ...scales);
  if (scale >= 1) return { ...source };
  return { width: Math.max(1, Math.round(source.width * scale)), height: Math.max(1, Math.round(source.height * scale)) };
}

function encoderFor(pipeline: Sharp, format: string, recipe: Recipe): Sharp {
  const { avif, webp, jpeg, png } = recipe.encoding;
  switch (format) {
    case 'avif':
      return pipeline.avif({ quality: fixedQuality(recipe.encoding, 'avif'), effort: avif.effort, chromaSubsampling: avif.chromaSubsampling });
    case 'webp':
      return pipeline.webp({ quality: fixedQuality(recipe.encoding, 'webp'), effort: webp.effort, lossless: webp.lossless });
    case 'jpeg':
      return pipeline.jpeg({ quality: fixedQuality(recipe.encoding, 'jpeg'), progressive: jpeg.progressive, mozjpeg: jpeg.mozjpeg });
    case 'png':
      return pipeline.png({ compressionLevel: png.compressionLevel });
    default:
      throw new Error(`The floor cannot encode ${format}`);
  }
}

interface RawImage {
  data: Buffer;
  width: number;
  height: number;
  channels: 1 | 2 | 3 | 4;
}

const rawInput = (image: RawImage) => ({ raw: { width: image.width, height: image.height, channels: image.channels } });

/** Every output of the recipe from one original, with the least work. Exported for the tests and the worker. */
export async function floorOutputs(input: Buffer, asked: Recipe): Promise<OutputFile[]> {
  let recipe = asked;
  const header = await sharp(input).metadata();
  const displayed = header.autoOrient ?? { width: header.width, height: header.height };
  const sizes = recipe.renditions.map((rendition) => ({ rendition, size: floorSize(displayed, rendition) }));
  const largest = sizes.reduce((a, b) => (b.size.width * b.size.height > a.size.width * a.size.height ? b : a)).size;

  const decoded = await sharp(input, { sequentialRead: true })
    .autoOrient()
    .resize({ width: largest.width, height: largest.height, fit: 'fill', kernel: 'lanczos3' })
    .toColourspace('srgb')
    .raw({ depth: 'uchar' })
    .toBuffer({ resolveWithObject: true });
  const base: RawImage = { data: decoded.data, width: decoded.info.width, height: decoded.info.height, channels: decoded.info.channels };

  // Renditions of the same size are derived and encoded once.
  const derived = new Map<string, Promise<RawImage>>();
  const derive = (size: Size): Promise<RawImage> => {
    const key = `${size.width}x${size.height}`;
    let image = derived.get(key);
    if (!image) {
      image =
        size.width === base.width && size.height === base.height
          ? Promise.resolve(base)
          : sharp(base.data, rawInput(base))
              .resize({ width: size.width, height: size.height, fit: 'fill', kernel: 'lanczos3' })
              .raw()
              .toBuffer({ resolveWithObject: true })
              .then(({ data, info }) => ({ data, width: info.width, height: info.height, channels: info.channels }));
      derived.set(key, image);
    }
    return image;
  };
  // 'auto' qualities: the same search as imgflow's (image-core chooseQualities), on its smallest and largest renditions' pixels.
  const smallest = sizes.reduce((a, b) => (b.size.width * b.size.height < a.size.width * a.size.height ? b : a));
  if (AUTO_FORMATS.some((format) => recipe.encoding[format].quality === 'auto')) {
    const [small, large] = await Promise.all([derive(smallest.size), derive(largest)]);
    const resolved = await chooseQualities({ smallest: { kind: 'raw', ...small }, largest: { kind: 'raw', ...large } }, recipe.encoding, {
      background: smallest.rendition.background,
    });
    recipe = { ...recipe, encoding: resolved.encoding };
  }
  const encoded = new Map<string, Promise<Buffer>>();
  const jobs = sizes.flatMap(({ rendition, size }) =>
    (rendition.formats ?? recipe.formats).map(async (format): Promise<OutputFile> => {
      const key = `${size.width}x${size.height}|${format}`;
      let pending = encoded.get(key);
      if (!pending) {
        pending = derive(size).then((image) => {
          let pipeline = sharp(image.data, rawInput(image));
          if (format === 'jpeg' && (image.channels === 2 || image.channels === 4)) pipeline = pipeline.flatten({ background: rendition.background });
          return encoderFor(pipeline, format, recipe).toBuffer();
        });
        encoded.set(key, pending);
      }
      const data = await pending;
      return { rendition: rendition.name, format, width: size.width, height: size.height, bytes: data.length, data };
    }),
  );
  return Promise.all(jobs);
}

export class FloorVariant implements Variant {
  readonly name = 'floor' as const;
  readonly cpuMethod = 'process.cpuUsage() delta of the worker process around the run';
  readonly rssMethod = 'max RSS of the worker process (getrusage)';

  constructor(
    private readonly recipe: Recipe,
    private readonly decodes: SharpDecodeCounter,
  ) {}

  async run(request: RunRequest): Promise<RunResult> {
    const input = await readFile(request.image.path);
    this.decodes.reset(input);
    const cpu = process.cpuUsage();
    const started = performance.now();
    const outputs = await floorOutputs(input, this.recipe);
    const wallMs = performance.now() - started;
    const used = process.cpuUsage(cpu);
    return {
      wallMs,
      cpuMs: (used.user + used.system) / 1000,
      // One function does everything: all of its CPU is billed.
      handlerCpuMs: (used.user + used.system) / 1000,
      counters: {
        originalDecodes: this.decodes.originalDecodes,
        totalDecodes: this.decodes.totalDecodes,
        // Modeled as one Lambda: it reads the original once and writes each output.
        s3: {
          gets: 1,
          originalGets: 1,
          puts: outputs.length,
          outputPuts: outputs.length,
          copies: 0,
          deletes: 0,
          lists: 0,
          getBytes: input.length,
          putBytes: outputs.reduce((sum, output) => sum + output.bytes, 0),
        },
        invocations: { Floor: 1 },
        lambdaInvocations: 1,
        transitions: 0,
        maxPayloadBytes: 0,
        requests: {},
      },
      outputs: request.keepOutputs ? outputs : outputs.map(({ data: _data, ...output }) => output),
      lambda: [{ role: 'floor', state: 'Floor', ms: wallMs, cpuMs: (used.user + used.system) / 1000 }],
      peakRssBytes: process.resourceUsage().maxRSS * 1024,
    };
  }

  async close(): Promise<void> {}
}
