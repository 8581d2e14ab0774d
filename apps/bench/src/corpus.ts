import { existsSync } from 'node:fs';
import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { validateImage } from '@imgflow/image-core';
import { type SampleFile, photoLike } from '@imgflow/samples';
import sharp from 'sharp';

export interface BenchImage {
  /** Unique within a run: the file name, prefixed by where it came from. */
  id: string;
  name: string;
  path: string;
  source: 'generated' | 'shared';
  format: string;
  /** Displayed size (after EXIF orientation). */
  width: number;
  height: number;
  megapixels: number;
  bytes: number;
}

/** A generated corpus image: name, size and format, as @imgflow/samples writes them. */
export type GeneratedSpec = SampleFile;

/** The generated part of the full corpus: photo-like pictures from 2 MP to 24 MP, in the three common formats. */
export const FULL_CORPUS: readonly GeneratedSpec[] = [
  { name: 'gen-02mp.jpg', width: 1800, height: 1200, format: 'jpeg' },
  { name: 'gen-04mp.webp', width: 2448, height: 1632, format: 'webp' },
  { name: 'gen-08mp.png', width: 3264, height: 2448, format: 'png' },
  { name: 'gen-12mp-portrait.jpg', width: 3000, height: 4000, format: 'jpeg' },
  { name: 'gen-16mp.jpg', width: 4896, height: 3264, format: 'jpeg' },
  { name: 'gen-24mp.jpg', width: 6000, height: 4000, format: 'jpeg' },
];

/** --quick: two small images (CI-size smoke runs). */
export const QUICK_CORPUS: readonly GeneratedSpec[] = [
  { name: 'gen-quick-1mp.jpg', width: 1280, height: 853, format: 'jpeg' },
  { name: 'gen-quick-0.5mp.png', width: 800, height: 600, format: 'png' },
];

const SHARED_EXTENSIONS = new Set(['.jpg', '.jpeg', '.png', '.webp']);

export interface CorpusOptions {
  specs: readonly GeneratedSpec[];
  /** Generated images are cached here (bench/.corpus). */
  cacheDir: string;
  /** Real photos to add (../shared/corpus), or none. */
  sharedDir?: string;
  log?: (line: string) => void;
}

async function describe(path: string, id: string, name: string, source: BenchImage['source']): Promise<BenchImage> {
  const bytes = await readFile(path);
  const info = await validateImage(bytes);
  return {
    id,
    name,
    path,
    source,
    format: info.format,
    width: info.width,
    height: info.height,
    megapixels: Math.round((info.width * info.height) / 10_000) / 100,
    bytes: bytes.length,
  };
}

/** Generates (or reuses from the cache) the photo-like images. Same spec, same bytes. */
export async function generatedImages(specs: readonly GeneratedSpec[], cacheDir: string, log: (line: string) => void = () => undefined): Promise<BenchImage[]> {
  await mkdir(cacheDir, { recursive: true });
  const images: BenchImage[] = [];
  for (const [index, spec] of specs.entries()) {
    const path = join(cacheDir, spec.name);
    if (!existsSync(path) || (await stat(path)).size === 0) {
      log(`generating ${spec.name} (${spec.width}×${spec.height})`);
      await writeFile(path, await photoLike({ width: spec.width, height: spec.height, format: spec.format, seed: 101 + index }));
    }
    images.push(await describe(path, spec.name, spec.name, 'generated'));
  }
  return images;
}

/**
 * Why a shared photo is left out, or undefined to keep it: only still JPEG/PNG/WebP that
 * imgflow accepts and that decode completely (corrupt, truncated and animated files are skipped).
 */
export async function sharedSkipReason(path: string): Promise<string | undefined> {
  if (!SHARED_EXTENSIONS.has(extname(path).toLowerCase())) return 'not JPEG/PNG/WebP';
  const bytes = await readFile(path);
  try {
    const info = await validateImage(bytes);
    if (info.frames > 1) return 'animated';
    await sharp(bytes, { failOn: 'warning' }).raw().toBuffer();
    return undefined;
  } catch (error) {
    return `unreadable (${(error as Error).message.split('\n')[0]})`;
  }
}

export async function sharedImages(dir: string, log: (line: string) => void = () => undefined): Promise<BenchImage[]> {
  if (!existsSync(dir)) {
    log(`shared corpus ${dir} is absent: generated images only`);
    return [];
  }
  const images: BenchImage[] = [];
  const skipped: string[] = [];
  for (const name of (await readdir(dir)).sort()) {
    const path = join(dir, name);
    if (!(await stat(path)).isFile() || name.toLowerCase().endsWith('.md')) continue;
    const reason = await sharedSkipReason(path);
    if (reason) {
      skipped.push(`${name}: ${reason}`);
      continue;
    }
    images.push(await describe(path, `shared/${name}`, name, 'shared'));
  }
  if (skipped.length > 0) log(`shared corpus: skipped ${skipped.length} file(s): ${skipped.join('; ')}`);
  return images;
}

export async function loadCorpus(options: CorpusOptions): Promise<BenchImage[]> {
  const log = options.log ?? (() => undefined);
  const generated = await generatedImages(options.specs, options.cacheDir, log);
  const shared = options.sharedDir ? await sharedImages(options.sharedDir, log) : [];
  return [...generated, ...shared];
}
