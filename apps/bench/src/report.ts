import Table from 'cli-table3';
import type { BenchResult } from './bench.js';
import type { Counters } from './counters.js';
import { totalWriteUnits } from './dynamodb.js';
import { mean, percentile } from './stats.js';
import { VARIANTS, type VariantName } from './variants/types.js';

const fixed = (value: number | null | undefined, digits = 2) => (value === null || value === undefined || !Number.isFinite(value) ? '–' : value.toFixed(digits));
const ratio = (value: number | undefined) => (value === undefined || !Number.isFinite(value) ? '–' : `${value.toFixed(2)}×`);
const usd = (value: number | undefined) => (value === undefined || !Number.isFinite(value) ? '–' : `$${value >= 100 ? value.toFixed(0) : value.toFixed(2)}`);
const kb = (bytes: number) => (bytes >= 10_240 ? `${(bytes / 1024).toFixed(0)} KB` : `${(bytes / 1024).toFixed(1)} KB`);

function table(head: string[], rows: string[][]): string {
  const rendered = new Table({ head, style: { head: [], border: [] } });
  rendered.push(...rows);
  return rendered.toString();
}

function present(result: BenchResult): VariantName[] {
  return VARIANTS.filter((name) => result.variants[name]);
}

/** A counter that is the same for every image prints once; otherwise its range. */
function spread(values: number[], format: (value: number) => string = String): string {
  if (values.length === 0) return '–';
  const low = format(Math.min(...values));
  const high = format(Math.max(...values));
  return low === high ? low : `${low}–${high}`;
}

export function timingTable(result: BenchResult): string {
  return table(
    [
      'variant',
      'p50 s/img',
      'p95 s/img',
      'CPU ms/img',
      'handler CPU ms/img (Lambda)',
      'engine CPU ms/img',
      'emulators CPU ms/img',
      'img/s c1',
      'img/s c2',
      'peak RSS MiB',
      'CPU ×floor',
      'handler CPU ×floor',
      'wall ×floor',
      'CPU ×naive',
      'wall ×naive',
    ],
    present(result).map((name) => {
      const summary = result.variants[name];
      if (!summary) return [name];
      const floor = result.ratios.vsFloor[name];
      const naive = result.ratios.vsNaive[name];
      return [
        name,
        fixed(summary.wallMs.p50 / 1000),
        fixed(summary.wallMs.p95 / 1000),
        fixed(summary.cpuMsPerImage, 0),
        fixed(summary.handlerCpuMsPerImage, 0),
        fixed(summary.engineCpuMsPerImage, 0),
        fixed(summary.serviceCpuMsPerImage, 0),
        fixed(summary.imagesPerSecond.c1),
        fixed(summary.imagesPerSecond.c2),
        fixed(summary.peakRssMiB, 0),
        ratio(floor?.cpu.ofTotals),
        ratio(floor?.handlerCpu?.ofTotals),
        ratio(floor?.wall.ofTotals),
        ratio(naive?.cpu.ofTotals),
        ratio(naive?.wall.ofTotals),
      ];
    }),
  );
}

/**
 * Per Task state, what Lambda bills (duration and CPU per invocation), then the engine and the
 * emulators apart: where each variant's CPU per image goes.
 */
export function stateTable(result: BenchResult): string {
  const rows: string[][] = [];
  for (const name of present(result)) {
    const summary = result.variants[name];
    if (!summary || Object.keys(summary.states).length === 0) continue;
    for (const [state, figures] of Object.entries(summary.states)) {
      rows.push([name, state, fixed(figures.perImage, 1), fixed(figures.ms, 0), fixed(figures.cpuMs, 0), fixed(figures.cpuMsPerImage, 0)]);
    }
    if (summary.overlapCpuMsPerImage) rows.push([name, '  of which Parallel overlap', '', '', '', fixed(summary.overlapCpuMsPerImage, 0)]);
    if (summary.engineCpuMsPerImage !== null) rows.push([name, 'workflow engine (Step Functions)', '', '', '', fixed(summary.engineCpuMsPerImage, 0)]);
    if (summary.serviceCpuMsPerImage !== null) rows.push([name, 'emulators (S3, DynamoDB, SNS)', '', '', '', fixed(summary.serviceCpuMsPerImage, 0)]);
  }
  return table(['variant', 'Task state', 'invocations/img', 'ms/invocation', 'CPU ms/invocation', 'CPU ms/img'], rows);
}

export function perImageTable(result: BenchResult): string {
  const names = present(result);
  return table(
    ['image', 'MP', ...names.map((name) => `${name} s`)],
    result.corpus.map((image) => [
      image.name,
      image.megapixels.toFixed(1),
      ...names.map((name) => {
        const walls = result.runs.filter((run) => run.variant === name && run.image === image.id && run.error === undefined).map((run) => run.wallMs / 1000);
        return walls.length ? percentile(walls, 50).toFixed(2) : 'failed';
      }),
    ]),
  );
}

/** "16 (6) / 3": write units (of them index writes) / read units, a range when images differ; "–" without a ledger. */
function dynamoCell(all: Counters[]): string {
  const units = all.flatMap((counters) => (counters.dynamodb ? [counters.dynamodb] : []));
  if (units.length === 0) return '–';
  const index = (each: (typeof units)[number]) => Object.values(each.indexWrites).reduce((sum, value) => sum + value, 0);
  return `${spread(units.map((each) => totalWriteUnits(each)))} (${spread(units.map(index))}) / ${spread(units.map((each) => each.readUnits))}`;
}

export function counterTable(result: BenchResult): string {
  return table(
    ['variant', 'decodes orig/total', 'S3 GET (orig)', 'S3 PUT', 'COPY/LIST/DEL', 'GET MB', 'PUT MB', 'DynamoDB WRU (index) / RRU', 'Lambda inv.', 'transitions', 'max payload'],
    present(result)
      .filter((name) => name !== 'imagemagick')
      .map((name) => {
        const all = Object.values(result.counters[name] ?? {}).filter((each): each is Counters => each !== null);
        const pick = (get: (counters: Counters) => number) => all.map(get);
        return [
          name,
          `${spread(pick((c) => c.originalDecodes))} / ${spread(pick((c) => c.totalDecodes))}`,
          `${spread(pick((c) => c.s3.gets))} (${spread(pick((c) => c.s3.originalGets))})`,
          spread(pick((c) => c.s3.puts)),
          `${spread(pick((c) => c.s3.copies))}/${spread(pick((c) => c.s3.lists))}/${spread(pick((c) => c.s3.deletes))}`,
          fixed(mean(pick((c) => c.s3.getBytes)) / 1e6),
          fixed(mean(pick((c) => c.s3.putBytes)) / 1e6),
          dynamoCell(all),
          spread(pick((c) => c.lambdaInvocations)),
          spread(pick((c) => c.transitions)),
          spread(pick((c) => c.maxPayloadBytes), (value) => (value === 0 ? '–' : `${(value / 1024).toFixed(1)} KiB`)),
        ];
      }),
  );
}

export function outputTable(result: BenchResult): string {
  const formats = result.recipe.formats;
  const rows: string[][] = [];
  for (const name of present(result)) {
    for (const rendition of result.recipe.renditions) {
      const row = [name, rendition.name];
      for (const format of formats) {
        const outputs = Object.values(result.outputs[name] ?? {}).flatMap((list) => list.filter((output) => output.rendition === rendition.name && output.format === format));
        const scores = outputs.flatMap((output) => (output.ssim === null ? [] : [output.ssim]));
        row.push(outputs.length ? kb(mean(outputs.map((output) => output.bytes))) : '–');
        row.push(scores.length ? `${mean(scores).toFixed(3)} (${Math.min(...scores).toFixed(3)})` : '–');
      }
      rows.push(row);
    }
  }
  return table(['variant', 'rendition', ...formats.flatMap((format) => [`${format} size`, `${format} SSIM mean (min)`])], rows);
}

export function costTable(result: BenchResult): string {
  return table(
    ['variant', 'Standard x86', 'Standard arm64', 'Express x86', 'Express arm64', 'arm64: Lambda GB-s', 'Lambda req.', 'S3', 'DynamoDB', 'Std transitions', 'Express'],
    present(result)
      .filter((name) => result.cost.perMillion[name])
      .map((name) => {
        const cost = result.cost.perMillion[name];
        if (!cost) return [name];
        return [
          name,
          usd(cost.standard.x86_64.total),
          usd(cost.standard.arm64.total),
          usd(cost.express.x86_64.total),
          usd(cost.express.arm64.total),
          usd(cost.standard.arm64.lambdaCompute),
          usd(cost.standard.arm64.lambdaRequests),
          usd(cost.standard.arm64.s3),
          usd(cost.standard.arm64.dynamodb),
          usd(cost.standard.arm64.stepFunctions),
          usd(cost.express.arm64.stepFunctions),
        ];
      }),
  );
}

export function targetTable(result: BenchResult): string {
  return table(
    ['target', 'goal', 'measured', ''],
    result.targets.map((target) => [target.description, target.goal, target.actual, target.pass === null ? 'n/a' : target.pass ? 'PASS' : 'MISS']),
  );
}

/** What accepting HEIC costs: the same photo as HEIC and as JPEG through imgflow's render. */
export function heicTable(result: BenchResult): string {
  const heic = result.heic;
  if (!heic) return 'not measured';
  if ('skipped' in heic) return `SKIPPED: ${heic.skipped}`;
  const { figures: f } = heic;
  const mp = ((f.width * f.height) / 1e6).toFixed(1);
  return table(
    ['input', 'bytes', 'decode (ms, median)', 'render wall (ms)', 'render CPU (ms)', 'CPU vs JPEG'],
    [
      [`HEIC ${f.width}×${f.height} (${mp} MP)`, kb(f.heicBytes), `${fixed(f.decodeMs, 0)} (+${fixed(f.firstLoadMs, 0)} first load)`, fixed(f.renderWallMs.heic, 0), fixed(f.renderCpuMs.heic, 0), ratio(f.renderCpuMs.heic / f.renderCpuMs.jpeg)],
      [`JPEG ${f.width}×${f.height}`, kb(f.jpegBytes), 'shrink-on-load', fixed(f.renderWallMs.jpeg, 0), fixed(f.renderCpuMs.jpeg, 0), '1.00×'],
    ],
  );
}

/** Everything printed at the end of a run. */
export function renderReport(result: BenchResult): string {
  const memory = Object.entries(result.cost.memoryMb)
    .map(([role, mb]) => `${role} ${mb}`)
    .join(', ');
  return [
    `Time and CPU per image (${result.corpus.length} images × ${result.repetitions} repetition(s); ratios pair by pair: same image, same repetition)`,
    timingTable(result),
    'Where the CPU goes, per Task state (Lambda bills the handlers; the engine and emulators are AWS services, apart)',
    stateTable(result),
    'Median wall time per image (s)',
    perImageTable(result),
    'Exact counters per image (a range when they differ between images; bytes are means)',
    counterTable(result),
    'Output size (mean per image) and SSIM against a direct Lanczos resize of the full-resolution original',
    outputTable(result),
    `Modeled AWS cost per million images, USD (${result.cost.prices.region}; Lambda MB: ${memory}; from ${result.cost.memorySource})`,
    costTable(result),
    'HEIC input: the same photo as HEIC (libheif, WebAssembly) and as JPEG, through render with the default recipe',
    heicTable(result),
    'Targets',
    targetTable(result),
  ].join('\n');
}
