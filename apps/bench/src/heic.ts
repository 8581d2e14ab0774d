import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type Recipe, loadHeicDecoder, render, resolveLimits, validateImage } from '@imgflow/image-core';
import { photoLike } from '@imgflow/samples';
import { percentile } from './stats.js';

const median = (values: readonly number[]) => percentile(values, 50);

/**
 * What accepting HEIC costs (issue 12): the same 12 MP photo as an iPhone-sized HEIC and as a
 * JPEG, each through imgflow's render (validate, decode, every rendition and format). The HEIC's
 * pixels come from libheif compiled to WebAssembly, single-threaded; the JPEG's from libjpeg-turbo
 * with shrink-on-load. heif-enc (apt: libheif-examples) makes the HEIC; without it the section is skipped.
 */
export interface HeicFigures {
  width: number;
  height: number;
  heicBytes: number;
  jpegBytes: number;
  /** The decoder's first use in a process: loading the module and instantiating the WebAssembly. */
  firstLoadMs: number;
  /** Median wall time of heic-decode alone (header to RGBA). */
  decodeMs: number;
  /** Median CPU time of the whole render from the HEIC and from the JPEG. */
  renderCpuMs: { heic: number; jpeg: number };
  renderWallMs: { heic: number; jpeg: number };
  repetitions: number;
}

export type HeicResult = { figures: HeicFigures } | { skipped: string };

function findHeifEnc(install: boolean, log: (line: string) => void): string | undefined {
  const which = () => spawnSync('sh', ['-c', 'command -v heif-enc'], { encoding: 'utf8' }).stdout.trim() || undefined;
  let found = which();
  if (!found && install && process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    log('heif-enc is not installed: apt-get install -y libheif-examples (bounded to 5 minutes)');
    spawnSync('apt-get', ['install', '-y', '--no-install-recommends', 'libheif-examples'], { timeout: 300_000, stdio: 'ignore' });
    found = which();
  }
  return found;
}

function cpuMs(): number {
  const usage = process.cpuUsage();
  return (usage.user + usage.system) / 1000;
}

async function timed<T>(work: () => Promise<T>): Promise<{ wall: number; cpu: number; value: T }> {
  const wall = performance.now();
  const cpu = cpuMs();
  const value = await work();
  return { wall: performance.now() - wall, cpu: cpuMs() - cpu, value };
}

export async function measureHeic(options: { recipe: Recipe; repetitions: number; width: number; height: number; install: boolean; log: (line: string) => void }): Promise<HeicResult> {
  const heifEnc = findHeifEnc(options.install, options.log);
  if (!heifEnc) return { skipped: 'heif-enc is not installed (apt install libheif-examples) and could not be installed' };
  const dir = await mkdtemp(join(tmpdir(), 'imgflow-bench-heic-'));
  try {
    const { width, height } = options;
    const png = join(dir, 'photo.png');
    await writeFile(png, await photoLike({ width, height, seed: 7, format: 'png' }));
    // Quality 50 with x265 is about the bytes per pixel an iPhone writes.
    execFileSync(heifEnc, ['-q', '50', png, '-o', join(dir, 'photo.heic')], { stdio: 'ignore', timeout: 300_000 });
    const heic = await readFile(join(dir, 'photo.heic'));
    const jpeg = await photoLike({ width, height, seed: 7, format: 'jpeg' });
    const limits = resolveLimits({ acceptedFormats: ['jpeg', 'heic'] });
    const first = await timed(() => loadHeicDecoder());
    const decode = first.value;
    const decodes: number[] = [];
    const cpu = { heic: [] as number[], jpeg: [] as number[] };
    const wall = { heic: [] as number[], jpeg: [] as number[] };
    for (let repetition = 0; repetition < options.repetitions; repetition += 1) {
      decodes.push((await timed(() => decode({ buffer: heic }))).wall);
      for (const [name, bytes] of [['heic', heic], ['jpeg', jpeg]] as const) {
        const run = await timed(async () => render(bytes, options.recipe, { limits, info: await validateImage(bytes, limits) }));
        cpu[name].push(run.cpu);
        wall[name].push(run.wall);
      }
      options.log(`heic: repetition ${repetition + 1}/${options.repetitions} done`);
    }
    return {
      figures: {
        width,
        height,
        heicBytes: heic.length,
        jpegBytes: jpeg.length,
        firstLoadMs: first.wall,
        decodeMs: median(decodes),
        renderCpuMs: { heic: median(cpu.heic), jpeg: median(cpu.jpeg) },
        renderWallMs: { heic: median(wall.heic), jpeg: median(wall.jpeg) },
        repetitions: options.repetitions,
      },
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
