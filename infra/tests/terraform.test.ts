import { execFile } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join, sep } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { terraformMissing } from '../scripts/render-policies.mjs';
import { ARTIFACT_NAMES, ENVS_DIR, EXAMPLE_NAMES, MODULES_DIR, MODULE_NAMES } from './hcl.js';

const run = promisify(execFile);

/**
 * The real Terraform, where this machine has it: `terraform fmt`, `init` + `validate` against
 * the aws provider from a local plugin folder (no network), and `terraform test` (plans with
 * a mocked provider). Without a terraform binary or the provider, these skip with a message;
 * the HCL structure tests in the other files still run.
 */
const PLUGIN_DIR = process.env.TF_PLUGIN_DIR ?? '/opt/tf-plugins';


const missing = await terraformMissing(PLUGIN_DIR);
if (missing) console.warn(`Terraform checks skipped: ${missing}. Install Terraform >= 1.7 and the aws provider to run them.`);

/** Every folder Terraform can init: the modules, the environment, image-pipeline's examples (copied with the modules, so their source = "../../" still resolves). */
const ROOTS: Array<[string, string]> = [
  ...MODULE_NAMES.map((name): [string, string] => ['modules', name]),
  ['envs', 'dev'],
  ...EXAMPLE_NAMES.map((name): [string, string] => ['modules', `image-pipeline/examples/${name}`]),
];

/** The roots with a tests/ folder of .tftest.hcl files: `terraform test` runs them all. */
const TESTED = ROOTS.filter(([group, name]) => {
  const tests = join(group === 'modules' ? MODULES_DIR : ENVS_DIR, name, 'tests');
  return existsSync(tests) && readdirSync(tests).some((file) => file.endsWith('.tftest.hcl'));
});

async function terraform(cwd: string, args: string[], env: NodeJS.ProcessEnv = {}) {
  return run('terraform', args, { cwd, timeout: 240_000, maxBuffer: 32 * 1024 * 1024, env: { ...process.env, TF_IN_AUTOMATION: '1', ...env } });
}

describe.skipIf(missing !== undefined)('terraform (real binary, offline provider)', () => {
  let work: string;
  let artifacts: string;

  beforeAll(async () => {
    // A copy: init writes .terraform folders, which do not belong in the source tree.
    work = await mkdtemp(join(tmpdir(), 'imgflow-terraform-'));
    // Modules and examples get no lock file (a local one could pin a provider the plugin folder lacks);
    // envs/dev keeps its committed one, which init must accept.
    const noWorkingFiles = (path: string) => !path.split(sep).includes('.terraform');
    await cp(MODULES_DIR, join(work, 'modules'), { recursive: true, filter: (path) => noWorkingFiles(path) && basename(path) !== '.terraform.lock.hcl' });
    await cp(ENVS_DIR, join(work, 'envs'), { recursive: true, filter: noWorkingFiles });
    artifacts = join(work, 'artifacts');
    await mkdir(artifacts);
    for (const name of ARTIFACT_NAMES) {
      for (const arch of ['arm64', 'x64']) await writeFile(join(artifacts, `${name}-${arch}.zip`), `placeholder ${name} ${arch}`);
    }
    // Two at a time: each init links the provider and reads the module tree.
    const queue = [...ROOTS];
    const worker = async () => {
      for (let root = queue.shift(); root; root = queue.shift()) {
        await terraform(join(work, root[0], root[1]), ['init', '-backend=false', '-input=false', `-plugin-dir=${PLUGIN_DIR}`]);
      }
    };
    await Promise.all([worker(), worker()]);
  }, 600_000);

  afterAll(async () => {
    if (work) await rm(work, { recursive: true, force: true });
  });

  it('is formatted (terraform fmt -check)', async () => {
    const { stdout } = await terraform(work, ['fmt', '-check', '-recursive', '-list=true']);
    expect(stdout.trim()).toBe('');
  });

  it.each(ROOTS)('%s/%s validates against the aws provider', async (group, name) => {
    const { stdout } = await terraform(join(work, group, name), ['validate', '-no-color']);
    expect(stdout).toContain('Success! The configuration is valid.');
  });

  it('runs terraform test wherever there are tests (every example, the environment, the modules with IAM or options)', () => {
    const tested = TESTED.map(([group, name]) => `${group}/${name}`);
    expect(tested).toEqual(expect.arrayContaining(['envs/dev', ...['functions', 'workflow', 'trigger', 'sweeper', 'backfill', 'storage', 'image-pipeline'].map((name) => `modules/${name}`)]));
    expect(tested).toEqual(expect.arrayContaining(EXAMPLE_NAMES.map((name) => `modules/image-pipeline/examples/${name}`)));
  });

  it('inits envs/dev against its committed lock file without changing it', async () => {
    const dir = join(work, 'envs', 'dev');
    await terraform(dir, ['init', '-backend=false', '-input=false', '-lockfile=readonly', `-plugin-dir=${PLUGIN_DIR}`]);
    const lock = await readFile(join(dir, '.terraform.lock.hcl'), 'utf8');
    expect(lock).toBe(await readFile(join(ENVS_DIR, 'dev', '.terraform.lock.hcl'), 'utf8'));
  });

  it.each(TESTED)('%s/%s plans with a mocked provider (terraform test)', async (group, name) => {
    const { stdout } = await terraform(join(work, group, name), ['test', '-no-color'], { TF_VAR_artifacts_dir: artifacts });
    expect(stdout).toMatch(/Success! \d+ passed, 0 failed\./);
  }, 300_000);
});
