import { readFile } from 'node:fs/promises';
import {
  AUTO_FORMATS,
  AUTO_QUALITY,
  type AutoFormat,
  type Recipe,
  autoTarget,
  decodeForRenditions,
  perceptualScore,
  render,
  renderRendition,
  validateImage,
} from '@imgflow/image-core';
import type { BenchImage } from './corpus.js';
import { percentile, sum } from './stats.js';
import { floorOutputs } from './variants/floor.js';

/**
 * Perceptual auto-quality (issue 15): the default recipe with fixed qualities against the same
 * recipe with `quality: 'auto'` for AVIF, WebP and JPEG, in imgflow's image code (image-core
 * render(): decode once, renditions, the quality search, every encode; what ResizeImage and
 * OptimizeImage run) and in the floor (the same search, image-core chooseQualities, on its own
 * smallest rendition). CPU is this process's, one image at a time. Every 'auto' output is then
 * scored (outside the timing) against its rendition's own pixels, as imgflow renders them.
 */
export interface AutoQualityVariant {
  cpuMs: { fixed: number; auto: number };
  /** Σ auto CPU ÷ Σ fixed CPU over the same images and repetitions. */
  cpuRatio: number;
  bytes: { fixed: number; auto: number };
  /** 1 − auto ÷ fixed, over every output. */
  saving: number;
  perFormat: Record<string, { fixed: number; auto: number; saving: number; quality?: { min: number; median: number; max: number } }>;
  /** Bytes by where the images came from (generated photo-like images, real photos of the shared corpus). */
  bySource: Record<string, { fixed: number; auto: number; saving: number }>;
  /** Every auto output's score against its rendition's pixels (first repetition). */
  scores: { outputs: number; min: number; p5: number; median: number; belowTarget: number; worst?: string };
}

export interface AutoQualityResult {
  metric: string;
  targets: Record<AutoFormat, number>;
  margin: number;
  maxTrials: number;
  proxySide: number;
  images: number;
  repetitions: number;
  imgflow: AutoQualityVariant;
  floor: AutoQualityVariant;
  /** The fixed defaults' scores on the smallest rendition, per format: where the targets sit. */
  fixedScores: Record<string, { min: number; p25: number; median: number; max: number }>;
  /** Trial qualities per format and image, mean. */
  trials: Record<string, number>;
  targetsMet: Array<{ id: string; label: string; goal: string; value: number; pass: boolean }>;
}

interface Produced {
  rendition: string;
  format: string;
  bytes: number;
  data: Buffer;
  quality?: number;
  trials?: number;
}

/** The recipe with 'auto' for every format that has it (default targets). */
export function autoRecipe(recipe: Recipe): Recipe {
  const encoding = { ...recipe.encoding };
  for (const format of AUTO_FORMATS) encoding[format] = { ...encoding[format], quality: 'auto' } as never;
  return { ...recipe, encoding };
}

const cpuOf = async <T>(run: () => Promise<T>): Promise<[T, number]> => {
  const before = process.cpuUsage();
  const value = await run();
  const used = process.cpuUsage(before);
  return [value, (used.user + used.system) / 1000];
};

function push(lists: Record<string, number[]>, key: string, value: number): void {
  const list = lists[key] ?? [];
  list.push(value);
  lists[key] = list;
}

function summary(values: readonly number[]) {
  return { min: Math.min(...values), p25: percentile(values, 25), median: percentile(values, 50), max: Math.max(...values) };
}

export async function measureAutoQuality(options: {
  corpus: readonly BenchImage[];
  recipe: Recipe;
  repetitions: number;
  log: (line: string) => void;
}): Promise<AutoQualityResult> {
  const { recipe, log } = options;
  const auto = autoRecipe(recipe);
  const targets = Object.fromEntries(AUTO_FORMATS.map((format) => [format, autoTarget(auto.encoding, format) as number])) as Record<AutoFormat, number>;
  const variants = {
    imgflow: async (input: Buffer, asked: Recipe): Promise<Produced[]> => {
      const { outputs } = await render(input, asked);
      return outputs.map((output) => ({
        rendition: output.rendition,
        format: output.format,
        bytes: output.bytes,
        data: output.data,
        ...(output.autoQuality ? { quality: output.autoQuality.quality, trials: output.autoQuality.trials } : {}),
      }));
    },
    floor: async (input: Buffer, asked: Recipe): Promise<Produced[]> => (await floorOutputs(input, asked)).map((output) => ({ ...output, data: Buffer.from(output.data ?? new Uint8Array()) })),
  };
  type Name = keyof typeof variants;
  const cpu: Record<Name, { fixed: number; auto: number }> = { imgflow: { fixed: 0, auto: 0 }, floor: { fixed: 0, auto: 0 } };
  const bytes: Record<Name, Record<string, { fixed: number; auto: number }>> = { imgflow: {}, floor: {} };
  const bySource: Record<Name, Record<string, { fixed: number; auto: number }>> = { imgflow: {}, floor: {} };
  const qualities: Record<Name, Record<string, number[]>> = { imgflow: {}, floor: {} };
  const scores: Record<Name, Array<{ score: number; target: number; label: string }>> = { imgflow: [], floor: [] };
  const fixedScores: Record<string, number[]> = {};
  const trials: Record<string, number[]> = {};
  const smallest = [...recipe.renditions].sort((a, b) => (a.width ?? a.height ?? 0) - (b.width ?? b.height ?? 0))[0]?.name;

  for (let repetition = 0; repetition < options.repetitions; repetition += 1) {
    for (const [index, image] of options.corpus.entries()) {
      const input = await readFile(image.path);
      const info = await validateImage(input);
      if (info.frames > 1) continue;
      const produced: Partial<Record<Name, { fixed: Produced[]; auto: Produced[] }>> = {};
      // Alternate which runs first, so drift hits fixed and auto alike.
      const order: Array<'fixed' | 'auto'> = (index + repetition) % 2 === 0 ? ['fixed', 'auto'] : ['auto', 'fixed'];
      for (const name of Object.keys(variants) as Name[]) {
        const runs: Partial<Record<'fixed' | 'auto', Produced[]>> = {};
        for (const mode of order) {
          const [outputs, ms] = await cpuOf(() => variants[name](input, mode === 'auto' ? auto : recipe));
          cpu[name][mode] += ms;
          runs[mode] = outputs;
        }
        produced[name] = runs as { fixed: Produced[]; auto: Produced[] };
      }
      if (repetition > 0) continue;
      // Scored once, outside the timing: every auto output against its rendition as imgflow renders it.
      const decoded = await decodeForRenditions(input, info, recipe.renditions);
      const pixels = new Map(await Promise.all(recipe.renditions.map(async (rendition) => [rendition.name, await renderRendition(decoded, info, rendition)] as const)));
      for (const name of Object.keys(variants) as Name[]) {
        const runs = produced[name];
        if (!runs) continue;
        for (const output of runs.auto) {
          const fixed = runs.fixed.find((candidate) => candidate.rendition === output.rendition && candidate.format === output.format);
          for (const [table, key] of [
            [bytes[name], output.format],
            [bySource[name], image.source],
          ] as const) {
            const counted = table[key] ?? { fixed: 0, auto: 0 };
            counted.fixed += fixed?.bytes ?? 0;
            counted.auto += output.bytes;
            table[key] = counted;
          }
          const target = targets[output.format as AutoFormat];
          const reference = pixels.get(output.rendition);
          if (target === undefined || !reference) continue;
          const rendition = recipe.renditions.find((candidate) => candidate.name === output.rendition);
          const score = await perceptualScore(reference, output.data, rendition?.background);
          scores[name].push({ score, target, label: `${image.name} ${output.rendition}.${output.format}` });
          if (output.rendition !== smallest) continue;
          // Per image (its smallest rendition): the quality chosen, the trials, and the fixed default's score.
          if (output.quality !== undefined) push(qualities[name], output.format, output.quality);
          if (name === 'imgflow' && output.trials !== undefined) push(trials, output.format, output.trials);
          if (name === 'imgflow' && fixed) push(fixedScores, output.format, await perceptualScore(reference, fixed.data, rendition?.background));
        }
      }
      log(`auto-quality: ${image.name} scored (${index + 1}/${options.corpus.length})`);
    }
  }

  const variantOf = (name: Name): AutoQualityVariant => {
    const perFormat = Object.fromEntries(
      Object.entries(bytes[name]).map(([format, counted]) => {
        const chosen = qualities[name][format];
        return [format, { ...counted, saving: 1 - counted.auto / counted.fixed, ...(chosen?.length ? { quality: { min: Math.min(...chosen), median: percentile(chosen, 50), max: Math.max(...chosen) } } : {}) }];
      }),
    );
    const fixedBytes = sum(Object.values(bytes[name]).map((counted) => counted.fixed));
    const autoBytes = sum(Object.values(bytes[name]).map((counted) => counted.auto));
    const all = scores[name].map((entry) => entry.score);
    const below = scores[name].filter((entry) => entry.score < entry.target);
    const worst = [...scores[name]].sort((a, b) => a.score - a.target - (b.score - b.target))[0];
    return {
      cpuMs: { fixed: cpu[name].fixed / Math.max(1, options.repetitions), auto: cpu[name].auto / Math.max(1, options.repetitions) },
      cpuRatio: cpu[name].auto / cpu[name].fixed,
      bytes: { fixed: fixedBytes, auto: autoBytes },
      saving: 1 - autoBytes / fixedBytes,
      perFormat,
      bySource: Object.fromEntries(Object.entries(bySource[name]).map(([source, counted]) => [source, { ...counted, saving: 1 - counted.auto / counted.fixed }])),
      scores: {
        outputs: all.length,
        min: all.length ? Math.min(...all) : Number.NaN,
        p5: all.length ? percentile(all, 5) : Number.NaN,
        median: all.length ? percentile(all, 50) : Number.NaN,
        belowTarget: below.length,
        ...(worst ? { worst: `${worst.label}: ${worst.score} (target ${worst.target})` } : {}),
      },
    };
  };
  const imgflow = variantOf('imgflow');
  const floor = variantOf('floor');
  const images = options.corpus.length;
  return {
    metric: 'SSIM on luma at full resolution (ssim.js, Bezkrovny)',
    targets,
    margin: AUTO_QUALITY.margin,
    maxTrials: AUTO_QUALITY.maxTrials,
    proxySide: AUTO_QUALITY.proxySide,
    images,
    repetitions: options.repetitions,
    imgflow,
    floor,
    fixedScores: Object.fromEntries(Object.entries(fixedScores).map(([format, values]) => [format, summary(values)])),
    trials: Object.fromEntries(Object.entries(trials).map(([format, values]) => [format, sum(values) / values.length])),
    targetsMet: [
      { id: 'auto-bytes', label: 'auto-quality output bytes below the fixed defaults (imgflow)', goal: '≥ 25 %', value: imgflow.saving, pass: imgflow.saving >= 0.25 },
      { id: 'auto-scores', label: 'auto-quality outputs scoring below their target (imgflow)', goal: '0', value: imgflow.scores.belowTarget, pass: imgflow.scores.belowTarget === 0 },
      { id: 'auto-cpu', label: 'auto-quality CPU vs fixed qualities (imgflow image work)', goal: '≤ 1.30×', value: imgflow.cpuRatio, pass: imgflow.cpuRatio <= 1.3 },
    ],
  };
}

const pct = (value: number) => `${(value * 100).toFixed(1)} %`;
const kb = (value: number) => `${Math.round(value / 1024)} KB`;

/** The auto-quality tables, as `make bench` prints them. */
export function renderAutoQuality(result: AutoQualityResult): string {
  const lines: string[] = [];
  const targets = AUTO_FORMATS.map((format) => `${format} ${result.targets[format]}`).join(', ');
  lines.push(`Auto-quality (${result.images} images, ${result.repetitions} repetition(s)): metric ${result.metric}; targets ${targets} (+${result.margin} on the ${result.proxySide} px proxy); ≤ ${result.maxTrials} trials per format`);
  lines.push('');
  lines.push('| variant | CPU ms/img fixed | CPU ms/img auto | CPU ×fixed | bytes fixed | bytes auto | saved | outputs scored | min score | p5 | median | below target |');
  lines.push('|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|');
  for (const name of ['imgflow', 'floor'] as const) {
    const v = result[name];
    const per = (ms: number) => (ms / Math.max(1, result.images)).toFixed(0);
    lines.push(
      `| ${name} | ${per(v.cpuMs.fixed)} | ${per(v.cpuMs.auto)} | ${v.cpuRatio.toFixed(2)}× | ${kb(v.bytes.fixed)} | ${kb(v.bytes.auto)} | ${pct(v.saving)} | ${v.scores.outputs} | ${v.scores.min.toFixed(4)} | ${v.scores.p5.toFixed(4)} | ${v.scores.median.toFixed(4)} | ${v.scores.belowTarget} |`,
    );
  }
  lines.push('');
  lines.push('| format (imgflow) | target | fixed score on the smallest rendition min / p25 / median / max | bytes saved | chosen quality min / median / max | trials per image |');
  lines.push('|---|--:|--:|--:|--:|--:|');
  for (const format of AUTO_FORMATS) {
    const fixed = result.fixedScores[format];
    const per = result.imgflow.perFormat[format];
    const quality = per?.quality;
    lines.push(
      `| ${format} | ${result.targets[format]} | ${fixed ? `${fixed.min.toFixed(3)} / ${fixed.p25.toFixed(3)} / ${fixed.median.toFixed(3)} / ${fixed.max.toFixed(3)}` : '–'} | ${per ? pct(per.saving) : '–'} | ${quality ? `${quality.min} / ${quality.median} / ${quality.max}` : '–'} | ${result.trials[format]?.toFixed(2) ?? '–'} |`,
    );
  }
  const sources = Object.entries(result.imgflow.bySource).map(([source, counted]) => `${source} images ${kb(counted.fixed)} → ${kb(counted.auto)} (${pct(counted.saving)} saved)`);
  if (sources.length) lines.push(`\nbytes by source (imgflow): ${sources.join('; ')}`);
  if (result.imgflow.scores.worst) lines.push(`\nlowest score against its target (imgflow): ${result.imgflow.scores.worst}`);
  lines.push('');
  lines.push('| target | goal | measured |  |');
  lines.push('|---|--:|--:|--:|');
  for (const target of result.targetsMet) {
    const value = target.id === 'auto-bytes' ? pct(target.value) : target.id === 'auto-cpu' ? `${target.value.toFixed(2)}×` : String(target.value);
    lines.push(`| ${target.label} | ${target.goal} | ${value} | ${target.pass ? 'PASS' : 'MISS'} |`);
  }
  return lines.join('\n');
}
