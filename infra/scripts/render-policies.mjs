#!/usr/bin/env node
// The IAM identity policies of every role image-pipeline creates, exactly as the hashicorp/aws
// provider renders its `data "aws_iam_policy_document"`s, offline, and the names of the resources
// they grant access to. The local runtime enforces these documents on every AWS call it makes
// (apps/local-runtime/src/iam); infra/tests/policies.test.ts renders again and compares.
//
//   node scripts/render-policies.mjs           rewrite the snapshot (pnpm --filter @imgflow/infra policies)
//   node scripts/render-policies.mjs --check   exit 1 if the snapshot differs from what Terraform renders
//
// How, since no plan ever contains these documents: they reference managed resources (log groups,
// buckets, table, topics, functions, state machine), so Terraform reads them only during apply.
// `terraform test` is the one command that can stand in for AWS, so a throw-away root module calls
// image-pipeline with a real aws provider (fake credentials, no start-up calls) in two runs:
//   1. `command = plan`, the data sources that would call AWS (aws_caller_identity) overridden:
//      every managed resource instance with its planned name;
//   2. `command = apply` with every managed instance overridden by the ARN AWS would give it (built
//      from those names): nothing is created, and the provider renders the policy documents for
//      real; `terraform test -json -verbose` prints the resulting outputs.

import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cp, mkdir, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);

export const INFRA_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
export const MODULES_DIR = join(INFRA_DIR, 'modules');
/** Where the snapshot lives: the local runtime reads it (and its build copies it next to the bundle). */
export const SNAPSHOT_PATH = join(INFRA_DIR, '..', 'apps', 'local-runtime', 'src', 'iam', 'rendered-policies.json');
export const POLICIES_COMMAND = 'pnpm --filter @imgflow/infra policies';
/** The deployment the local runtime stands in for. */
export const LOCAL_DEPLOYMENT = { name: 'imgflow', region: 'us-east-1', accountId: '000000000000' };

/**
 * Roles image-pipeline creates that nothing in the local runtime runs as, so the snapshot leaves
 * them out (renderPolicies still renders them): the backfill's Distributed Map cannot run on
 * aws-local-stepfunctions; its policy is checked by infra/modules/backfill/tests/iam.tftest.hcl.
 */
export const NOT_RUN_LOCALLY = { backfill: 'Distributed Map (the backfill) does not run locally' };

/** Data sources the aws provider computes without calling AWS: they stay real. */
const LOCAL_DATA_SOURCES = new Set(['aws_iam_policy_document', 'aws_region', 'aws_partition', 'aws_arn', 'aws_default_tags']);

/** image-pipeline outputs that name the resources the policies grant access to. */
const RESOURCE_OUTPUTS = [
  'upload_bucket',
  'output_bucket',
  'jobs_table',
  'success_topic_arn',
  'error_topic_arn',
  'state_machine_name',
  'state_machine_arn',
  'function_names',
  'function_arns',
  'event_rule_arn',
  'dead_letter_queue_arn',
];

/** Why the real rendering cannot run here, or undefined when it can. */
export async function terraformMissing(pluginDir = process.env.TF_PLUGIN_DIR ?? '/opt/tf-plugins') {
  try {
    await run('terraform', ['version'], { timeout: 30_000 });
  } catch {
    return 'no terraform binary on PATH';
  }
  if (!existsSync(join(pluginDir, 'registry.terraform.io', 'hashicorp', 'aws'))) return `no offline aws provider in ${pluginDir} (set TF_PLUGIN_DIR)`;
  return undefined;
}

/**
 * Renders the roles of image-pipeline for a deployment: { deployment, resources, roles }, where
 * roles maps validate, resize, filter, optimize, notify, workflow, trigger, sweep, backfill to { roleName, roleArn, policy }.
 */
export async function renderPolicies(options = {}) {
  const modulesDir = options.modulesDir ?? MODULES_DIR;
  const pluginDir = options.pluginDir ?? process.env.TF_PLUGIN_DIR ?? '/opt/tf-plugins';
  const { name, region, accountId } = { ...LOCAL_DEPLOYMENT, ...options.deployment };
  const variables = options.variables ?? {};

  const work = await mkdtemp(join(tmpdir(), 'imgflow-policies-'));
  try {
    // A copy: init writes .terraform folders, which do not belong in the source tree.
    await cp(modulesDir, join(work, 'modules'), { recursive: true, filter: (path) => !path.split(sep).includes('.terraform') });
    const root = join(work, 'root');
    const artifacts = join(work, 'artifacts');
    await mkdir(join(root, 'tests'), { recursive: true });
    await mkdir(artifacts);
    // filebase64sha256() needs the zips; their content does not reach any policy.
    const contract = JSON.parse(await readFile(join(work, 'modules', 'workflow', 'contract.json'), 'utf8'));
    for (const step of [...Object.keys(contract.steps), contract.sweeper.function]) {
      for (const arch of ['arm64', 'x64']) await writeFile(join(artifacts, `${step}-${arch}.zip`), `placeholder ${step} ${arch}`);
    }
    await writeFile(join(root, 'main.tf'), rootModule(region, Object.keys(variables)));
    await writeFile(join(root, 'inputs.tfvars.json'), `${JSON.stringify({ name, artifacts_dir: artifacts, ...variables }, null, 2)}\n`);

    const terraform = (args) =>
      run('terraform', args, {
        cwd: root,
        timeout: 300_000,
        maxBuffer: 256 * 1024 * 1024,
        env: { ...process.env, TF_IN_AUTOMATION: '1', CHECKPOINT_DISABLE: '1' },
      });
    await terraform(['init', '-backend=false', '-input=false', `-plugin-dir=${pluginDir}`]);
    const dataOverrides = await remoteDataSourceOverrides(root, accountId);

    await writeFile(join(root, 'tests', 'plan.tftest.hcl'), `${dataOverrides}\nrun "plan" {\n  command = plan\n}\n`);
    const planned = (await testMessages(terraform, 'tests/plan.tftest.hcl')).find((message) => message.type === 'test_plan');
    if (!planned) throw new Error('terraform test (plan) produced no plan');
    const instances = planned.test_plan.resource_changes.filter((change) => change.mode === 'managed');

    const resourceOverrides = instances.map((instance) => {
      const after = instance.change.after ?? {};
      const arn = arnFor(instance.type, after, accountId, region);
      const id = idFor(instance.type, after, arn);
      const values = [...(arn ? [`arn = ${JSON.stringify(arn)}`] : []), ...(id ? [`id = ${JSON.stringify(id)}`] : [])];
      return `override_resource {\n  target = ${instance.address}\n  values = { ${values.join(', ')} }\n}\n`;
    });
    await writeFile(join(root, 'tests', 'apply.tftest.hcl'), `${dataOverrides}\n${resourceOverrides.join('\n')}\nrun "apply" {\n  command = apply\n}\n`);
    const state = (await testMessages(terraform, 'tests/apply.tftest.hcl')).find((message) => message.type === 'test_state');
    if (!state) throw new Error('terraform test (apply) produced no state');

    const outputs = Object.fromEntries(Object.entries(state.test_state.outputs).map(([key, output]) => [key, output.value]));
    const roles = Object.fromEntries(
      Object.keys(outputs.role_policy_json)
        .sort()
        .map((role) => {
          const roleArn = outputs.role_arns[role];
          return [role, { roleName: roleArn.split('/').pop(), roleArn, policy: JSON.parse(outputs.role_policy_json[role]) }];
        }),
    );
    return {
      deployment: { name, region, accountId },
      resources: Object.fromEntries(RESOURCE_OUTPUTS.map((key) => [key, outputs[key]])),
      roles,
    };
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The snapshot file's text for a rendering: the roles the local runtime runs as (not those in NOT_RUN_LOCALLY). */
export function snapshotText(rendered) {
  const roles = Object.fromEntries(Object.entries(rendered.roles).filter(([role]) => !(role in NOT_RUN_LOCALLY)));
  return `${JSON.stringify({ comment: `Rendered by Terraform from infra/modules (image-pipeline); regenerate with: ${POLICIES_COMMAND}`, ...rendered, roles }, null, 2)}\n`;
}

function rootModule(region, extra) {
  const variables = extra.map((key) => `\nvariable "${key}" {\n  type = any\n}\n`).join('');
  const inputs = extra.map((key) => `  ${key} = var.${key}\n`).join('');
  const outputs = ['role_policy_json', 'role_arns', ...RESOURCE_OUTPUTS]
    .map((key) => `output "${key}" {\n  value = module.image_pipeline.${key}\n}\n`)
    .join('\n');
  return `terraform {
  required_providers {
    aws = { source = "hashicorp/aws" }
  }
}

variable "name" {
  type = string
}

variable "artifacts_dir" {
  type = string
}
${variables}
# A real provider: fake credentials and no call to AWS at start-up.
provider "aws" {
  region                      = "${region}"
  access_key                  = "offline"
  secret_key                  = "offline"
  skip_credentials_validation = true
  skip_requesting_account_id  = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
}

module "image_pipeline" {
  source        = "../modules/image-pipeline"
  name          = var.name
  artifacts_dir = var.artifacts_dir
${inputs}}

${outputs}`;
}

/** An override_data block for every data source of the module tree that would call AWS. */
async function remoteDataSourceOverrides(root, accountId) {
  const manifest = JSON.parse(await readFile(join(root, '.terraform', 'modules', 'modules.json'), 'utf8'));
  const blocks = [];
  for (const module of manifest.Modules) {
    const prefix = module.Key === '' ? '' : `${module.Key.split('.').map((part) => `module.${part}`).join('.')}.`;
    const dir = join(root, module.Dir);
    for (const file of (await readdir(dir)).filter((name) => name.endsWith('.tf')).sort()) {
      const text = await readFile(join(dir, file), 'utf8');
      for (const [, type, label] of text.matchAll(/^data\s+"([a-z0-9_]+)"\s+"([A-Za-z0-9_-]+)"/gm)) {
        if (LOCAL_DATA_SOURCES.has(type)) continue;
        const values =
          type === 'aws_caller_identity'
            ? { account_id: accountId, arn: `arn:aws:iam::${accountId}:user/offline`, user_id: 'AIDAOFFLINE' }
            : {};
        const hcl = `{ ${Object.entries(values)
          .map(([key, value]) => `${key} = ${JSON.stringify(value)}`)
          .join(', ')} }`;
        blocks.push(`override_data {\n  target = ${prefix}data.${type}.${label}\n  values = ${hcl}\n}\n`);
      }
    }
  }
  return blocks.join('\n');
}

/** The ARN AWS gives a resource, from its planned attributes, for the types whose ARN reaches a policy. */
export function arnFor(type, after, accountId, region) {
  const text = (key) => (typeof after[key] === 'string' ? after[key] : undefined);
  const named = (key, arn) => (text(key) ? arn(text(key)) : undefined);
  switch (type) {
    case 'aws_s3_bucket':
      return named('bucket', (bucket) => `arn:aws:s3:::${bucket}`);
    case 'aws_dynamodb_table':
      return named('name', (name) => `arn:aws:dynamodb:${region}:${accountId}:table/${name}`);
    case 'aws_sns_topic':
      return named('name', (name) => `arn:aws:sns:${region}:${accountId}:${name}`);
    case 'aws_sqs_queue':
      return named('name', (name) => `arn:aws:sqs:${region}:${accountId}:${name}`);
    case 'aws_cloudwatch_log_group': // the provider's arn has no trailing ":*"
      return named('name', (name) => `arn:aws:logs:${region}:${accountId}:log-group:${name}`);
    case 'aws_lambda_function':
      return named('function_name', (name) => `arn:aws:lambda:${region}:${accountId}:function:${name}`);
    case 'aws_iam_role':
      return named('name', (name) => `arn:aws:iam::${accountId}:role${text('path') ?? '/'}${name}`);
    case 'aws_sfn_state_machine':
      return named('name', (name) => `arn:aws:states:${region}:${accountId}:stateMachine:${name}`);
    case 'aws_cloudwatch_event_rule':
      return named('name', (name) => `arn:aws:events:${region}:${accountId}:rule/${name}`);
    case 'aws_cloudwatch_metric_alarm':
      return named('alarm_name', (name) => `arn:aws:cloudwatch:${region}:${accountId}:alarm:${name}`);
    case 'aws_kms_key':
      return `arn:aws:kms:${region}:${accountId}:key/00000000-0000-0000-0000-000000000000`;
    default:
      return undefined;
  }
}

/** The id AWS gives a resource (outputs such as output_bucket read it), for the types whose id is a name or the ARN. */
export function idFor(type, after, arn) {
  const text = (key) => (typeof after[key] === 'string' ? after[key] : undefined);
  switch (type) {
    case 'aws_s3_bucket':
      return text('bucket');
    case 'aws_dynamodb_table':
    case 'aws_iam_role':
    case 'aws_cloudwatch_log_group':
    case 'aws_cloudwatch_event_rule':
      return text('name');
    case 'aws_lambda_function':
      return text('function_name');
    case 'aws_sns_topic':
    case 'aws_sfn_state_machine':
      return arn;
    default:
      return undefined;
  }
}

/** terraform test's machine-readable messages; its diagnostics when a run fails. */
async function testMessages(terraform, file) {
  const parse = (stdout) =>
    stdout
      .split('\n')
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line));
  try {
    const { stdout } = await terraform(['test', '-json', '-verbose', `-filter=${file}`, '-var-file=inputs.tfvars.json']);
    return parse(stdout);
  } catch (error) {
    const diagnostics = parse(error.stdout ?? '')
      .filter((message) => message.type === 'diagnostic')
      .map(({ diagnostic }) => `${diagnostic.severity}: ${diagnostic.summary} ${diagnostic.address ?? ''}\n${diagnostic.detail ?? ''}`)
      .join('\n');
    throw new Error(`terraform test ${file} failed:\n${diagnostics || error.message}`);
  }
}

async function main() {
  const check = process.argv.includes('--check');
  const missing = await terraformMissing();
  if (missing) {
    console.error(`Cannot render the policies: ${missing}. Install Terraform >= 1.7 and the hashicorp/aws provider.`);
    process.exit(2);
  }
  const text = snapshotText(await renderPolicies());
  const current = existsSync(SNAPSHOT_PATH) ? await readFile(SNAPSHOT_PATH, 'utf8') : '';
  if (check) {
    if (text !== current) {
      console.error(`${SNAPSHOT_PATH} differs from what Terraform renders: run ${POLICIES_COMMAND}`);
      process.exit(1);
    }
    console.log('The policy snapshot is what Terraform renders.');
    return;
  }
  await writeFile(SNAPSHOT_PATH, text);
  console.log(`${text === current ? 'Unchanged' : 'Wrote'} ${SNAPSHOT_PATH}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main();
