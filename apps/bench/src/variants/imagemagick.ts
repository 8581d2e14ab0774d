import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import type { Recipe } from '@imgflow/image-core';
import { floorSize } from './floor.js';
import type { OutputFile, RunRequest, RunResult, Variant } from './types.js';

/** A working ImageMagick and what it can write. */
export interface ImageMagick {
  command: string;
  version: string;
  /** The recipe's formats it can write; the others are skipped (with a printed line). */
  formats: string[];
  /** How CPU and RSS of each convert are measured. */
  timing: 'gnu-time' | 'bash-times';
}

// The real binaries first: `convert` on PATH may be a stand-in (which forwards to the real one when there is one).
const CANDIDATES = ['/usr/bin/convert', '/usr/bin/convert-im6.q16', '/usr/bin/magick', 'convert', 'magick'];
const IM_FORMATS: Record<string, string> = { avif: 'AVIF', webp: 'WEBP', jpeg: 'JPEG', png: 'PNG' };
const EXTENSIONS: Record<string, string> = { avif: 'avif', webp: 'webp', jpeg: 'jpg', png: 'png' };

function run(command: string, args: string[], timeoutMs: number): { ok: boolean; stdout: string } {
  const result = spawnSync(command, args, { encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  return { ok: result.status === 0, stdout: `${result.stdout ?? ''}${result.stderr ?? ''}` };
}

/** The first candidate whose -version says ImageMagick (`convert` on PATH may be a stand-in that is not). */
function findConvert(): { command: string; version: string } | undefined {
  for (const command of CANDIDATES) {
    const probe = run(command, ['-version'], 10_000);
    const version = probe.stdout.split('\n')[0] ?? '';
    if (probe.ok && /ImageMagick/.test(version)) return { command, version: version.replace(/^Version:\s*/, '').trim() };
  }
  return undefined;
}

/** Whether `command` really writes `format`: a tiny encode, since -list format can claim a coder that has no encoder. */
function canWrite(command: string, format: string, dir: string): boolean {
  const out = join(dir, `probe.${EXTENSIONS[format] ?? format}`);
  const result = run(command, ['-size', '16x16', 'xc:gray', `${IM_FORMATS[format] ?? format}:${out}`], 30_000);
  return result.ok && existsSync(out);
}

/**
 * Finds ImageMagick; as root, installs it with apt when missing (bounded in time). Returns
 * undefined, with the reason, when it cannot be had: the variant is then skipped, never fatal.
 */
export async function locateImageMagick(recipe: Recipe, options: { install: boolean; log: (line: string) => void }): Promise<{ magick?: ImageMagick; reason?: string }> {
  let found = findConvert();
  if (!found && options.install && process.getuid?.() === 0 && existsSync('/usr/bin/apt-get')) {
    options.log('ImageMagick is not installed: apt-get install -y imagemagick (bounded to 7 minutes)');
    run('apt-get', ['update'], 120_000);
    run('apt-get', ['install', '-y', '--no-install-recommends', 'imagemagick'], 300_000);
    found = findConvert();
  }
  if (!found) return { reason: 'ImageMagick is not installed and could not be installed (convert on PATH is not ImageMagick)' };
  const dir = await mkdtemp(join(tmpdir(), 'imgflow-bench-im-'));
  try {
    const formats = recipe.formats.filter((format) => canWrite(found.command, format, dir));
    if (formats.length === 0) return { reason: `${found.version} cannot write any of ${recipe.formats.join(', ')}` };
    const timing = existsSync('/usr/bin/time') && run('/usr/bin/time', ['-f', '%e', 'true'], 5_000).ok ? 'gnu-time' : 'bash-times';
    return { magick: { ...found, formats, timing } };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * One convert command per image: decode once (a JPEG size hint lets libjpeg shrink on load),
 * upright, sRGB, metadata stripped; resize to the largest rendition, write each format from a
 * clone, then resize that down to the next rendition, and so on. The settings mirror the
 * recipe's where ImageMagick 6 exposes them: AVIF -quality (6.9.11 has no define for the AV1
 * speed or chroma, so libheif's defaults apply), WebP quality + method, JPEG quality,
 * progressive, 4:2:0 (libjpeg-turbo, not mozjpeg).
 */
export function convertArguments(request: RunRequest, recipe: Recipe, formats: string[], outDir: string): { args: string[]; outputs: Omit<OutputFile, 'bytes'>[] } {
  const { image } = request;
  const sizes = recipe.renditions
    .map((rendition) => ({ rendition, size: floorSize(image, rendition) }))
    .sort((a, b) => b.size.width * b.size.height - a.size.width * a.size.height);
  const largest = sizes[0]?.size ?? { width: image.width, height: image.height };
  const args = [
    ...(image.format === 'jpeg' ? ['-define', `jpeg:size=${largest.width}x${largest.height}`] : []),
    `${image.path}[0]`,
    '-auto-orient',
    '-colorspace',
    'sRGB',
    '-strip',
    '-depth',
    '8',
    '-background',
    '#ffffff',
    '-filter',
    'Lanczos',
  ];
  const { avif, webp, jpeg } = recipe.encoding;
  const outputs: Omit<OutputFile, 'bytes'>[] = [];
  for (const { rendition, size } of sizes) {
    args.push('-resize', `${size.width}x${size.height}!`);
    for (const format of (rendition.formats ?? recipe.formats).filter((each) => formats.includes(each))) {
      const path = join(outDir, `${rendition.name}.${EXTENSIONS[format] ?? format}`);
      const settings =
        format === 'avif'
          ? ['-quality', String(avif.quality)]
          : format === 'webp'
            ? ['-quality', String(webp.quality), '-define', `webp:method=${webp.effort}`]
            : format === 'jpeg'
              ? ['-alpha', 'remove', '-alpha', 'off', '-quality', String(jpeg.quality), ...(jpeg.progressive ? ['-interlace', 'JPEG'] : []), '-sampling-factor', '2x2']
              : ['-quality', '95'];
      args.push('(', '+clone', ...settings, '-write', `${IM_FORMATS[format] ?? format}:${path}`, '+delete', ')');
      outputs.push({ rendition: rendition.name, format, width: size.width, height: size.height });
    }
  }
  args.push('null:');
  return { args, outputs };
}

function exec(command: string, args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, stderr }));
  });
}

export class ImageMagickVariant implements Variant {
  readonly name = 'imagemagick' as const;
  readonly cpuMethod: string;
  readonly rssMethod: string;

  constructor(
    private readonly magick: ImageMagick,
    private readonly recipe: Recipe,
  ) {
    this.cpuMethod =
      magick.timing === 'gnu-time' ? "the convert child's user + system time (/usr/bin/time -f '%U %S')" : "the convert child's user + system time (bash times)";
    this.rssMethod = magick.timing === 'gnu-time' ? "the convert child's max RSS (/usr/bin/time -f '%M')" : 'not measured (no /usr/bin/time)';
  }

  async run(request: RunRequest): Promise<RunResult> {
    const outDir = await mkdtemp(join(tmpdir(), 'imgflow-bench-im-'));
    try {
      const { args, outputs } = convertArguments(request, this.recipe, this.magick.formats, outDir);
      const timeFile = join(outDir, 'time.txt');
      const started = performance.now();
      const result =
        this.magick.timing === 'gnu-time'
          ? await exec('/usr/bin/time', ['-f', '%U %S %M', '-o', timeFile, this.magick.command, ...args])
          : await exec('bash', ['-c', `"$@" >/dev/null && times > ${JSON.stringify(timeFile)}`, 'bash', this.magick.command, ...args]);
      const wallMs = performance.now() - started;
      if (result.code !== 0) throw new Error(`convert failed for ${request.image.name}: ${result.stderr.trim().split('\n').slice(-2).join(' ')}`);
      const timing = await readFile(timeFile, 'utf8');
      let cpuMs: number;
      let peakRssBytes = 0;
      if (this.magick.timing === 'gnu-time') {
        const [user = 0, system = 0, rssKb = 0] = (timing.trim().split('\n').pop() ?? '').split(/\s+/).map(Number);
        cpuMs = (user + system) * 1000;
        peakRssBytes = rssKb * 1024;
      } else {
        // bash `times`: second line is the children's "XmY.YYYs XmZ.ZZZs".
        const seconds = (timing.trim().split('\n')[1] ?? '').split(/\s+/).map((part) => {
          const match = /(\d+)m([\d.]+)s/.exec(part);
          return match ? Number(match[1]) * 60 + Number(match[2]) : 0;
        });
        cpuMs = ((seconds[0] ?? 0) + (seconds[1] ?? 0)) * 1000;
      }
      const files: OutputFile[] = [];
      for (const output of outputs) {
        const data = await readFile(join(outDir, `${output.rendition}.${EXTENSIONS[output.format] ?? output.format}`));
        files.push({ ...output, bytes: data.length, ...(request.keepOutputs ? { data } : {}) });
      }
      return { wallMs, cpuMs, counters: null, outputs: files, lambda: [], peakRssBytes };
    } finally {
      await rm(outDir, { recursive: true, force: true });
    }
  }

  async close(): Promise<void> {}
}
