import '@imgflow/local-runtime';
import { existsSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { availableParallelism, cpus, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { DEFAULT_RECIPE } from '@imgflow/image-core';
import sharp from 'sharp';
import { type BenchResult, runBench } from './bench.js';
import { measureHeic } from './heic.js';
import { measureAutoQuality, renderAutoQuality } from './auto-quality.js';
import { FULL_CORPUS, QUICK_CORPUS, loadCorpus } from './corpus.js';
import { renderReport } from './report.js';
import { type ImageMagick, locateImageMagick } from './variants/imagemagick.js';
import type { VariantName } from './variants/types.js';

const USAGE = `Usage: imgflow-bench [--quick] [--reps N] [--out FILE] [--no-imagemagick] [--no-shared] [--shared DIR]

  --quick           2 small generated images, 1 repetition, no ImageMagick, no concurrency-2 pass (CI smoke run)
  --reps N          repetitions of the corpus (default 3; 1 with --quick)
  --out FILE        where the JSON goes (default bench/results/latest.json at the repository root)
  --no-imagemagick  skip the ImageMagick variant
  --no-shared       generated images only (ignore ../shared/corpus)
  --shared DIR      real photos to add (default $IMGFLOW_CORPUS_DIR or ../shared/corpus)`;

/** Where a full run also writes its cost figures, committed (bench/results/ is not). */
export const REFERENCE_RESULT = 'bench/reference.json';

/** The part of a full run others read without running the bench: when, where, and the modeled cost per million images. */
function referenceOf(result: BenchResult) {
  return {
    schema: result.schema,
    mode: result.mode,
    finishedAt: result.finishedAt,
    machine: result.machine,
    corpus: result.corpus.length,
    repetitions: result.repetitions,
    cost: { prices: result.cost.prices, memoryMb: result.cost.memoryMb, assumptions: result.cost.assumptions, perMillion: result.cost.perMillion },
  };
}

/** apps/bench/dist → the repository root. */
function repositoryRoot(): string {
  const fromDist = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
  return existsSync(join(fromDist, 'pnpm-workspace.yaml')) ? fromDist : process.cwd();
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      reps: { type: 'string' },
      out: { type: 'string' },
      'no-imagemagick': { type: 'boolean', default: false },
      'no-shared': { type: 'boolean', default: false },
      shared: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const quick = values.quick === true;
  const repetitions = values.reps !== undefined ? Number(values.reps) : quick ? 1 : 3;
  if (!Number.isInteger(repetitions) || repetitions < 1 || repetitions > 20) {
    console.error(`Expected an integer from 1 to 20 for --reps but received ${values.reps}`);
    return 2;
  }
  const root = repositoryRoot();
  const out = resolve(root, values.out ?? 'bench/results/latest.json');
  const log = (line: string) => console.log(line);
  const recipe = DEFAULT_RECIPE;

  const sharedDir = quick || values['no-shared'] ? undefined : resolve(root, values.shared ?? process.env.IMGFLOW_CORPUS_DIR ?? '../shared/corpus');
  const corpus = await loadCorpus({ specs: quick ? QUICK_CORPUS : FULL_CORPUS, cacheDir: join(root, 'bench/.corpus'), ...(sharedDir ? { sharedDir } : {}), log });
  log(`corpus: ${corpus.length} images (${corpus.map((image) => `${image.name} ${image.megapixels.toFixed(1)} MP`).join(', ')})`);

  const variants: VariantName[] = ['floor', 'imgflow', 'naive'];
  const skipped: Array<{ variant: string; reason: string }> = [];
  let imagemagick: ImageMagick | undefined;
  if (quick || values['no-imagemagick']) {
    skipped.push({ variant: 'imagemagick', reason: quick ? 'not run in --quick mode' : '--no-imagemagick' });
  } else {
    const located = await locateImageMagick(recipe, { install: true, log });
    if (located.magick) {
      imagemagick = located.magick;
      variants.push('imagemagick');
      log(`imagemagick: ${imagemagick.version} (${imagemagick.command}); CPU/RSS via ${imagemagick.timing}`);
      const missing = recipe.formats.filter((format) => !imagemagick?.formats.includes(format));
      if (missing.length) {
        log(`imagemagick: cannot write ${missing.join(', ')}: those outputs are skipped for ImageMagick`);
        skipped.push({ variant: 'imagemagick', reason: `cannot write ${missing.join(', ')}` });
      }
    } else {
      const reason = located.reason ?? 'unavailable';
      log(`imagemagick: SKIPPED: ${reason}`);
      skipped.push({ variant: 'imagemagick', reason });
    }
  }

  const result = await runBench({
    mode: quick ? 'quick' : 'full',
    corpus,
    repetitions,
    recipe,
    variants,
    ...(imagemagick ? { imagemagick } : {}),
    isolate: true,
    concurrency2: !quick,
    root,
    skipped,
    log,
  });
  // HEIC: 12 MP (an iPhone's size) in a full run, 2 MP in --quick.
  const [heicWidth, heicHeight] = quick ? [1632, 1224] : [4032, 3024];
  result.heic = await measureHeic({ recipe, repetitions, width: heicWidth, height: heicHeight, install: !quick, log });
  // Auto-quality against the fixed defaults: imgflow's image code and the floor, every output scored (at most 2 repetitions: it renders each image 4 times).
  const autoQuality = await measureAutoQuality({ corpus, recipe, repetitions: Math.min(repetitions, 2), log });
  result.machine = {
    nproc: availableParallelism(),
    memoryGiB: Math.round((totalmem() / 2 ** 30) * 10) / 10,
    cpuModel: cpus()[0]?.model ?? null,
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    sharp: sharp.versions.sharp ?? null,
    libvips: sharp.versions.vips,
    sharpConcurrency: sharp.concurrency(),
    imagemagick: imagemagick?.version ?? null,
  };
  await mkdir(dirname(out), { recursive: true });
  await writeFile(out, `${JSON.stringify({ ...result, autoQuality }, null, 2)}\n`);
  if (result.mode === 'full' && values.out === undefined) {
    // The committed reference: what `imgflow backfill --dry-run` prices with on a clone that never ran the bench.
    const reference = resolve(root, REFERENCE_RESULT);
    await writeFile(reference, `${JSON.stringify(referenceOf(result), null, 2)}\n`);
    console.log(`reference figures (committed): ${reference}`);
  }
  console.log('');
  console.log(renderReport(result));
  console.log('');
  console.log(renderAutoQuality(autoQuality));
  console.log(`\n${result.mode} run took ${result.durationSeconds.toFixed(0)} s; results: ${out}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(`imgflow-bench: ${(error as Error).stack ?? String(error)}`);
    process.exit(1);
  },
);
