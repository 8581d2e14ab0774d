// Sums the vitest JSON reports (test-results.json) of every workspace package that has a
// test script. A package whose report is missing counts as one failure: its tests did not run.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

let passed = 0;
let failed = 0;
let skipped = 0;
// Every workspace package: apps/*, packages/* and infra (see pnpm-workspace.yaml).
const dirs = [...['apps', 'packages'].flatMap((group) => (existsSync(group) ? readdirSync(group).sort().map((name) => join(group, name)) : [])), 'infra'];
{
  for (const dir of dirs) {
    const manifestPath = join(dir, 'package.json');
    if (!existsSync(manifestPath)) continue;
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    if (!manifest.scripts?.test) continue;
    const reportPath = join(dir, 'test-results.json');
    if (!existsSync(reportPath)) {
      console.log(`${dir}: no test report (the test run did not complete)`);
      failed += 1;
      continue;
    }
    const report = JSON.parse(readFileSync(reportPath, 'utf8'));
    // A file that failed outside any test (an import error, a failing beforeAll) counts once.
    const suiteFailures = (report.testResults ?? []).filter(
      (suite) => suite.status === 'failed' && !(suite.assertionResults ?? []).some((test) => test.status === 'failed'),
    ).length;
    passed += report.numPassedTests ?? 0;
    failed += (report.numFailedTests ?? 0) + suiteFailures;
    skipped += (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
    console.log(`${dir}: ${report.numPassedTests} passed, ${report.numFailedTests + suiteFailures} failed, ${report.numPendingTests ?? 0} skipped`);
  }
}
console.log(`${passed} passed, ${failed} failed, ${skipped} skipped`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);
