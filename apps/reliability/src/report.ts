import type { BackfillResult } from './backfill.js';
import type { ScenarioResult } from './faults.js';
import { type HostileResult, retriesOnPermanentErrors } from './hostile.js';
import type { LifecycleResult } from './lifecycle.js';
import { type DataDirAudit, LARGE_IMAGE_EXPECTED, LAMBDA_MEMORY_MB, type LargeImageResult, type LoadResult } from './load.js';
import type { IamCheck } from './iam.js';
import type { AuditResult, LogScanResult } from './security.js';

export { type IamCheck, iamCheck, sumIamChecks } from './iam.js';

/** Everything one `make reliability` run measured. Written as JSON to bench/results/reliability.json. */
export interface ReliabilityReport {
  generatedAt: string;
  mode: 'full' | 'quick';
  load: LoadResult;
  restart: DataDirAudit & { killedAfter: number; firstRunFinished: number };
  /** `imgflow backfill` killed halfway, resumed and re-run unchanged (absent in reports written before it existed). */
  backfill?: BackfillResult;
  faults: ScenarioResult[];
  /** Executions stopped where no Catch runs (swept), replays, out-of-memory, throttling, a refused start. */
  lifecycle: LifecycleResult[];
  hostile: HostileResult[];
  keyLayout: { keys: number; problems: string[] };
  largeImages: LargeImageResult[];
  logs: LogScanResult;
  audit: AuditResult;
  /** IAM on the happy paths: the load run and the hostile inputs (no fault injected). */
  iam: IamCheck;
}

export interface Figures {
  imagesProcessed: number;
  faultsInjected: number;
  faultsSurvived: number;
  hostileTried: number;
  hostileRejected: number;
  recordsLost: number;
  duplicates: number;
  leftoverWork: number;
  /** Jobs the lifecycle scenarios left PENDING/PROCESSING (must be 0). */
  leftProcessing: number;
  /** Notifications beyond one per job in the lifecycle scenarios (must be 0). */
  duplicateNotifications: number;
  /** Backfill: objects processed twice across the killed and the resumed run, or with extra records or notifications (must be 0). */
  backfillProcessedTwice: number;
  /** Backfill: items the unchanged re-run processed (must be 0). */
  backfillRerunProcessed: number;
  /** Retries of hostile inputs that ended REJECTED: a permanent error is never retried (must be 0). */
  retriesOnPermanentErrors: number;
  peakMemoryMb: number;
  largeImagePeakMb: number;
  iamChecked: number;
  iamDenied: number;
  /** Failed checks besides the must-be-zero counts (a fault or hostile input not handled as required, a leak). */
  failedChecks: string[];
}

/** The table's figures, and every check that failed. */
export function figures(report: ReliabilityReport): Figures {
  const failedChecks: string[] = [];
  for (const fault of report.faults) for (const problem of fault.problems) failedChecks.push(`fault "${fault.name}": ${problem}`);
  for (const scenario of report.lifecycle) for (const problem of scenario.problems) failedChecks.push(`lifecycle "${scenario.name}": ${problem}`);
  for (const hostile of report.hostile) for (const problem of hostile.problems) failedChecks.push(`hostile "${hostile.name}": ${problem}`);
  for (const problem of report.keyLayout.problems) failedChecks.push(`key layout: ${problem}`);
  for (const problem of report.backfill?.problems ?? []) failedChecks.push(`backfill: ${problem}`);
  for (const finding of report.logs.findings) failedChecks.push(`logs: ${finding}`);
  for (const large of report.largeImages) {
    const expected = LARGE_IMAGE_EXPECTED[large.case];
    if (large.status !== expected.status || large.code !== expected.code) {
      failedChecks.push(`${large.name}: ended ${large.status} ${large.code ?? ''}, expected ${expected.status} ${expected.code ?? ''}`);
    }
    if (large.maxRssMb >= LAMBDA_MEMORY_MB) failedChecks.push(`${large.name}: peak RSS ${large.maxRssMb} MB, over a ${LAMBDA_MEMORY_MB} MB Lambda`);
  }
  if (report.audit.status === 'failed') failedChecks.push(`audit: ${report.audit.high} high, ${report.audit.critical} critical advisories`);
  if (report.iam.denied > 0) {
    failedChecks.push(`IAM denied ${report.iam.denied} call(s) on the happy paths`);
    for (const denial of report.iam.denials) failedChecks.push(`IAM: ${denial}`);
  }
  const hostileRejected = report.hostile.filter((hostile) => hostile.problems.length === 0).length;
  return {
    imagesProcessed: report.load.images + report.restart.images + (report.backfill?.images ?? 0) + report.faults.length + report.hostile.length + report.largeImages.length + report.logs.jobs,
    faultsInjected: report.faults.length,
    faultsSurvived: report.faults.filter((fault) => fault.problems.length === 0).length,
    hostileTried: report.hostile.length + report.keyLayout.keys,
    hostileRejected: hostileRejected + report.keyLayout.keys - report.keyLayout.problems.length,
    recordsLost: report.load.lost.length + report.restart.lost.length,
    duplicates: report.load.duplicates.length + report.restart.duplicates.length,
    leftoverWork: report.load.leftoverWork + report.restart.leftoverWork,
    leftProcessing: report.lifecycle.reduce((sum, scenario) => sum + scenario.leftProcessing, 0),
    duplicateNotifications: report.lifecycle.reduce((sum, scenario) => sum + scenario.duplicateNotifications, 0),
    backfillProcessedTwice: report.backfill?.processedTwice ?? 0,
    backfillRerunProcessed: report.backfill?.unchangedRerunProcessed ?? 0,
    retriesOnPermanentErrors: retriesOnPermanentErrors(report.hostile),
    peakMemoryMb: report.load.peakRssMb,
    largeImagePeakMb: Math.max(0, ...report.largeImages.filter((large) => large.status === 'SUCCEEDED').map((large) => large.maxRssMb)),
    iamChecked: report.iam.checked,
    iamDenied: report.iam.denied,
    failedChecks,
  };
}

/** Whether the run proves what it must: every must-be-zero figure zero and no check failed. */
export function passed(values: Figures): boolean {
  return (
    values.recordsLost === 0 &&
    values.duplicates === 0 &&
    values.leftoverWork === 0 &&
    values.leftProcessing === 0 &&
    values.duplicateNotifications === 0 &&
    values.backfillProcessedTwice === 0 &&
    values.backfillRerunProcessed === 0 &&
    values.retriesOnPermanentErrors === 0 &&
    values.failedChecks.length === 0
  );
}

function auditText(audit: AuditResult): string {
  if (audit.status === 'not run') return `not run: ${audit.reason ?? 'unknown reason'}`;
  return `${audit.status}: ${audit.high} high, ${audit.critical} critical`;
}

function backfillRows(backfill: BackfillResult | undefined, values: Figures): Array<[string, string, string]> {
  if (!backfill) return [];
  const outcomes = Object.entries(backfill.byStatus).map(([status, count]) => `${status} ${count}`).join(', ');
  return [
    [
      'backfill',
      `${backfill.images} objects, ${backfill.seconds} s`,
      `${outcomes}; concurrency ${backfill.concurrency}, ${backfill.imagesPerSecond} images/s; killed after ${backfill.killedAfter}, the re-run processed ${backfill.resumedProcessed} and skipped the rest`,
    ],
    ['backfill: processed twice (must be 0)', String(values.backfillProcessedTwice), 'finished by the killed run and processed again, or an extra record or notification'],
    ['backfill: unchanged re-run processed (must be 0)', String(values.backfillRerunProcessed), 'the ledger skips every object already handled'],
    ...(backfill.recipeChange
      ? ([
          [
            `backfill: recipe + rendition ${backfill.recipeChange.added}`,
            `${backfill.recipeChange.rerendered} re-rendered, ${backfill.recipeChange.seconds} s`,
            `${backfill.recipeChange.newOutputs} new outputs (the added rendition's only); other outputs rewritten: ${backfill.recipeChange.keptRewritten} (must be 0)`,
          ],
        ] as Array<[string, string, string]>)
      : []),
  ];
}

/** The one table `make reliability` prints. */
export function renderReport(report: ReliabilityReport): string {
  const values = figures(report);
  const large = report.largeImages.map((each) => `${each.name}: ${each.status}${each.code ? ` ${each.code}` : ''}, ${each.maxRssMb} MB`).join('; ');
  const rows: Array<[string, string, string]> = [
    ['images processed', String(values.imagesProcessed), `load ${report.load.images} (${report.load.invalid} invalid, concurrency ${report.load.concurrency}, ${report.load.seconds} s), kill-and-rerun ${report.restart.images}, faults/hostile/large/logs the rest`],
    ['load outcomes', Object.entries(report.load.byStatus).map(([status, count]) => `${status} ${count}`).join(', '), `${report.load.outputs} outputs`],
    ['faults injected / survived', `${values.faultsInjected} / ${values.faultsSurvived}`, 'S3 get/put errors and slowness, DynamoDB throttling, SNS, crash, timeout, claim race'],
    ...report.lifecycle.map((scenario): [string, string, string] => [
      `  ${scenario.name}`,
      scenario.problems.length === 0 ? 'ok' : 'FAILED',
      `${scenario.status ?? ''}${scenario.code ? ` ${scenario.code}` : ''}; fired ${scenario.fired}, retries ${scenario.retries}`,
    ]),
    ['jobs left PENDING/PROCESSING (must be 0)', String(values.leftProcessing), 'after the lifecycle scenarios: Express time limit, payload limit, replay, out-of-memory, throttling, refused start'],
    ['duplicate notifications (must be 0)', String(values.duplicateNotifications), 'lifecycle scenarios: one notification per job'],
    ['retries on permanent errors (must be 0)', String(values.retriesOnPermanentErrors), 'hostile inputs that ended REJECTED: a decode failure or a refused format is never retried'],
    ['hostile inputs tried / handled', `${values.hostileTried} / ${values.hostileRejected}`, 'each with its exact reason code; keys checked through the emulator or outputStem'],
    ['records lost (must be 0)', String(values.recordsLost), ''],
    ['duplicates (must be 0)', String(values.duplicates), 'records, notifications, outputs'],
    ['leftover work objects (must be 0)', String(values.leftoverWork), ''],
    [
      'AWS calls checked against IAM',
      `${values.iamChecked}, denied: ${values.iamDenied}`,
      "load run and hostile inputs: each function's S3/DynamoDB/SNS calls against its role, invocations and starts against the state machine and EventBridge roles (Terraform's rendered policies)",
    ],
    ['peak memory, load run (MB)', String(values.peakMemoryMb), `RSS of the runner process (emulators and the workflow engine; each function runs in its own Lambda sandbox process); getrusage max ${report.load.maxRssMb} MB`],
    ['50 MP peak RSS (MB, limit 1024)', String(values.largeImagePeakMb), large],
    ...backfillRows(report.backfill, values),
    ['kill-and-rerun', report.restart.lost.length + report.restart.duplicates.length === 0 ? 'ok' : 'FAILED', `killed after ${report.restart.killedAfter} of ${report.restart.images} finished`],
    ['secrets in logs/notifications', String(report.logs.findings.length), `${report.logs.logLines} DEBUG log lines, ${report.logs.notifications} notifications scanned`],
    ['dependency audit', auditText(report.audit), ''],
  ];
  const widths = [0, 1, 2].map((column) => Math.max(...rows.map((row) => row[column]?.length ?? 0), 6));
  const line = (cells: [string, string, string]) => `| ${cells.map((cell, index) => cell.padEnd(widths[index] ?? 0)).join(' | ')} |`;
  const rule = `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`;
  const out = [line(['figure', 'value', 'detail']), rule, ...rows.map(line)];
  if (values.failedChecks.length > 0) out.push('', 'failed checks:', ...values.failedChecks.map((check) => `  - ${check}`));
  for (const problem of [...report.load.lost, ...report.restart.lost, ...report.load.duplicates, ...report.restart.duplicates].slice(0, 20)) out.push(`  - ${problem}`);
  out.push('', passed(values) ? 'reliability: PASSED' : 'reliability: FAILED');
  return out.join('\n');
}
