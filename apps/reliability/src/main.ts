/**
 * `make reliability` (`imgflow-reliability [--quick] [--out <file>]`): load, injected faults,
 * kill-and-rerun, backfill (killed halfway, resumed, re-run unchanged), hostile inputs, large images, logs and the dependency audit, one after another
 * (never two CPU-heavy runs at once), then one table. Exits 1 when a must-be-zero figure is not
 * zero or a check failed.
 */
import '@imgflow/local-runtime';
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runBackfillScenario } from './backfill.js';
import { faultScenarios, killAndRerun, raceScenario, runFaultScenarios } from './faults.js';
import { Harness } from './harness.js';
import { runLifecycleScenarios } from './lifecycle.js';
import { hostileCases, keyLayoutProblems, renderHostileTable, runHostile } from './hostile.js';
import { largeImageChecks, runLoad } from './load.js';
import { type ReliabilityReport, figures, iamCheck, passed, renderReport, sumIamChecks } from './report.js';
import { auditShippedDependencies, scanLogsAndNotifications } from './security.js';

const SIZES = {
  full: { images: 300, concurrency: 3, restartImages: 16, killAfter: 5, backfillImages: 1000 },
  quick: { images: 30, concurrency: 3, restartImages: 8, killAfter: 3, backfillImages: 60 },
} as const;

function log(line: string): void {
  process.stderr.write(`reliability: ${line}\n`);
}

async function main(argv: string[]): Promise<number> {
  const mode = argv.includes('--quick') ? 'quick' : 'full';
  const outIndex = argv.indexOf('--out');
  const repository = fileURLToPath(new URL('../../..', import.meta.url));
  const outFile = resolve(outIndex >= 0 && argv[outIndex + 1] ? (argv[outIndex + 1] as string) : resolve(repository, 'bench/results/reliability.json'));
  const size = SIZES[mode];

  log(`${mode} run: load of ${size.images} images, concurrency ${size.concurrency}`);
  const load = await runLoad({ images: size.images, concurrency: size.concurrency });
  log(`fault scenarios`);
  const faults = [...(await runFaultScenarios(faultScenarios())), await raceScenario()];
  log('lifecycle: Express time limit, payload limit, replay, out-of-memory, throttling, refused start');
  const lifecycle = await runLifecycleScenarios();
  log(`kill-and-rerun of ${size.restartImages} images`);
  const restart = await killAndRerun(size.restartImages, size.killAfter);
  log(`backfill of ${size.backfillImages} objects already in the bucket: killed halfway, resumed, re-run unchanged`);
  const backfill = await runBackfillScenario(size.backfillImages, size.concurrency);
  log('hostile inputs');
  const harness = await Harness.start();
  let hostile: ReliabilityReport['hostile'];
  let hostileIam: ReliabilityReport['iam'];
  try {
    hostile = await runHostile(harness, await hostileCases());
    hostileIam = iamCheck(harness.stack.iam);
  } finally {
    await harness.stop();
  }
  const layout = keyLayoutProblems();
  log('large images (50 MP JPEG and PNG, 60 MP over the limit), each in a child process');
  const largeImages = await largeImageChecks();
  log('logs and notifications at DEBUG');
  const logs = await scanLogsAndNotifications();
  log('dependency audit of what ships to Lambda');
  const audit = await auditShippedDependencies(repository);

  const report: ReliabilityReport = {
    generatedAt: new Date().toISOString(),
    mode,
    load,
    restart,
    backfill,
    faults,
    lifecycle,
    hostile,
    keyLayout: { keys: layout.keys.length, problems: layout.problems },
    largeImages,
    logs,
    audit,
    iam: sumIamChecks([load.iam, hostileIam]),
  };
  await mkdir(dirname(outFile), { recursive: true });
  await writeFile(outFile, `${JSON.stringify({ ...report, figures: figures(report) }, null, 2)}\n`);
  process.stdout.write(`${renderHostileTable(report.hostile)}\n\n${renderReport(report)}\n`);
  log(`JSON written to ${outFile}`);
  return passed(figures(report)) ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`imgflow-reliability: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
