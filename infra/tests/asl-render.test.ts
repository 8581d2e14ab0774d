import { execFile } from 'node:child_process';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { STEP_NAMES, type StepName } from '@imgflow/contract';
import { aslTemplateVariables, localFunctionArn, renderDefinitionText } from '@imgflow/local-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { terraformMissing } from '../scripts/render-policies.mjs';
import { MODULES_DIR } from './hcl.js';

const run = promisify(execFile);

/**
 * The one ASL template, rendered twice: by Terraform's templatefile() in the workflow module
 * (`local.definition`, evaluated with `terraform console`) and by the local runtime from the same
 * contract. The two must be the same bytes, or the local runtime runs a workflow AWS never sees.
 */
const PLUGIN_DIR = process.env.TF_PLUGIN_DIR ?? '/opt/tf-plugins';


const missing = await terraformMissing(PLUGIN_DIR);
if (missing) console.warn(`Byte-identical ASL check skipped: ${missing}.`);

const arns = Object.fromEntries(STEP_NAMES.map((name) => [name, localFunctionArn(name)])) as Record<StepName, string>;

function hclMap(values: Record<string, string | number>): string {
  return `{${Object.entries(values)
    .map(([key, value]) => `${key}=${typeof value === 'number' ? value : JSON.stringify(value)}`)
    .join(',')}}`;
}

describe.skipIf(missing !== undefined)('the rendered ASL: Terraform templatefile() and the local runtime', () => {
  let work: string;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'imgflow-asl-'));
    await cp(join(MODULES_DIR, 'workflow'), work, { recursive: true, filter: (path) => !path.includes('.terraform') });
    await run('terraform', ['init', '-backend=false', '-input=false', `-plugin-dir=${PLUGIN_DIR}`], { cwd: work, timeout: 240_000 });
  }, 300_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it.each<[string, Record<string, number>]>([
    ['the contract defaults', {}],
    ['a custom retry policy', { interval_seconds: 2, max_attempts: 5, backoff_rate: 1.5, max_delay_seconds: 60 }],
  ])('is byte-identical with %s', async (_label, retry) => {
    const child = execFile('terraform', ['console', '-var', 'name=imgflow', '-var', `function_arns=${hclMap(arns)}`, '-var', `retry=${hclMap(retry)}`], {
      cwd: work,
      timeout: 120_000,
      env: { ...process.env, TF_IN_AUTOMATION: '1' },
    });
    let stdout = '';
    child.stdout?.on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.stdin?.end('base64encode(local.definition)\n');
    await new Promise<void>((resolve, reject) => child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`terraform console exited ${code}`)))));
    const encoded = /"([A-Za-z0-9+/=]+)"/.exec(stdout)?.[1];
    expect(encoded, stdout).toBeDefined();
    const fromTerraform = Buffer.from(encoded as string, 'base64').toString('utf8');
    const local = await renderDefinitionText(
      aslTemplateVariables(arns, {
        ...(retry.interval_seconds !== undefined ? { interval_seconds: retry.interval_seconds } : {}),
        ...(retry.max_attempts !== undefined ? { max_attempts: retry.max_attempts } : {}),
        ...(retry.backoff_rate !== undefined ? { backoff_rate: retry.backoff_rate } : {}),
        ...(retry.max_delay_seconds !== undefined ? { max_delay_seconds: retry.max_delay_seconds } : {}),
      }),
    );
    expect(fromTerraform).toBe(local);
    expect(JSON.parse(local).States.ValidateImage.Resource).toBe(arns.validate);
  }, 120_000);
});
