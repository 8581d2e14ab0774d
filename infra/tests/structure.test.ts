// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Terraform expressions as hcl2json returns them, not JavaScript templates.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  AWS_PROVIDER,
  ENVS_DIR,
  EXAMPLE_NAMES,
  INFRA_DIR,
  MODULE_NAMES,
  blocks,
  bodyWithoutVariables,
  exampleDir,
  exists,
  label,
  loadDir,
  loadModule,
  markdownSection,
  moduleDir,
  parse,
  parseFile,
  REQUIRED_VERSION,
  readText,
  tableNames,
  terraformDirs,
  tfFiles,
  variableReferences,
} from './hcl.js';

const ROOTS = [...MODULE_NAMES.map(moduleDir), join(ENVS_DIR, 'dev'), ...EXAMPLE_NAMES.map(exampleDir)];
const ALL_TF = terraformDirs().flatMap(tfFiles);

describe('HCL syntax', () => {
  it('finds the modules, the dev environment and the examples among the Terraform folders', () => {
    expect(terraformDirs().map(label)).toEqual([...ROOTS].map(label).sort());
  });

  it.each(ALL_TF.map((path) => [label(path), path]))('%s parses', async (_name, path) => {
    const parsed = await parseFile(path);
    expect(Object.keys(parsed).length).toBeGreaterThan(0);
  });

  it('the parser rejects broken HCL (so the check above means something)', async () => {
    await expect(parse('broken.tf', 'resource "aws_s3_bucket" "this" {\n  bucket = \n')).rejects.toThrow();
  });
});

describe.each(MODULE_NAMES)('module %s', (name) => {
  const dir = moduleDir(name);

  it('has main.tf, variables.tf, outputs.tf, versions.tf and README.md', () => {
    for (const file of ['main.tf', 'variables.tf', 'outputs.tf', 'versions.tf', 'README.md']) {
      expect(exists(join(dir, file)), `${name}/${file}`).toBe(true);
    }
  });

  it(`pins Terraform ${REQUIRED_VERSION} and hashicorp/aws ${AWS_PROVIDER.version}`, async () => {
    const versions = await parseFile(join(dir, 'versions.tf'));
    const terraform = versions.terraform?.[0];
    expect(terraform?.required_version).toBe(REQUIRED_VERSION);
    expect(terraform?.required_providers?.[0]?.aws).toEqual(AWS_PROVIDER);
  });

  it('declares no provider block', async () => {
    const hcl = await loadModule(name);
    expect(hcl.provider).toBeUndefined();
  });

  it('gives every variable a description and a type', async () => {
    const variables = blocks(await loadModule(name), 'variable');
    expect(Object.keys(variables).length).toBeGreaterThan(0);
    for (const [variable, body] of Object.entries(variables)) {
      expect(typeof body.description, `${name}: var.${variable} description`).toBe('string');
      expect(String(body.description).length, `${name}: var.${variable} description`).toBeGreaterThan(10);
      expect(body.type, `${name}: var.${variable} type`).toBeDefined();
    }
  });

  it('gives every output a description', async () => {
    const outputs = blocks(await loadModule(name), 'output');
    expect(Object.keys(outputs).length).toBeGreaterThan(0);
    for (const [output, body] of Object.entries(outputs)) {
      expect(typeof body.description, `${name}: output.${output}`).toBe('string');
    }
  });

  it('declares every var.x it references and uses every variable it declares', async () => {
    const hcl = await loadModule(name);
    const declared = new Set(Object.keys(blocks(hcl, 'variable')));
    const referenced = variableReferences(bodyWithoutVariables(hcl));
    expect([...referenced].filter((variable) => !declared.has(variable)), 'referenced but not declared').toEqual([]);
    expect([...declared].filter((variable) => !referenced.has(variable)), 'declared but never used').toEqual([]);
  });

  it('validates each variable only against itself (Terraform < 1.9 allows nothing else)', async () => {
    for (const [variable, body] of Object.entries(blocks(await loadModule(name), 'variable'))) {
      for (const validation of (body.validation ?? []) as { condition: string; error_message: string }[]) {
        expect([...variableReferences(validation.condition)], `${name}: var.${variable}`).toEqual([variable]);
        expect(validation.error_message.length).toBeGreaterThan(10);
      }
    }
  });

  it('names its main resource "this" and uses snake_case identifiers', async () => {
    const hcl = await loadModule(name);
    const managed = Object.values((hcl.resource ?? {}) as Record<string, Record<string, unknown>>).flatMap((byName) => Object.keys(byName));
    const data = Object.values((hcl.data ?? {}) as Record<string, Record<string, unknown>>).flatMap((byName) => Object.keys(byName));
    const identifiers = [...managed, ...data, ...Object.keys(blocks(hcl, 'variable')), ...Object.keys(blocks(hcl, 'output')), ...Object.keys(hcl.module ?? {})];
    for (const identifier of identifiers) expect(identifier, `${name}: ${identifier}`).toMatch(/^[a-z][a-z0-9_]*$/);
    if (name !== 'image-pipeline') expect(managed).toContain('this');
  });

  it('documents every input and output in README tables', async () => {
    const hcl = await loadModule(name);
    const readme = readText(join(dir, 'README.md'));
    const inputs = markdownSection(readme, 'Inputs');
    const outputs = markdownSection(readme, 'Outputs');
    expect(inputs, `${name}: ## Inputs`).toBeDefined();
    expect(outputs, `${name}: ## Outputs`).toBeDefined();
    expect(tableNames(inputs ?? '').sort()).toEqual(Object.keys(blocks(hcl, 'variable')).sort());
    expect(tableNames(outputs ?? '').sort()).toEqual(Object.keys(blocks(hcl, 'output')).sort());
  });
});

describe('choice variables', () => {
  const choices: [string, string][] = [
    ['functions', 'architecture'],
    ['functions', 'tracing_mode'],
    ['functions', 'log_retention_days'],
    ['workflow', 'type'],
    ['workflow', 'log_level'],
    ['workflow', 'log_retention_days'],
    ['image-pipeline', 'architecture'],
    ['image-pipeline', 'workflow_type'],
    ['image-pipeline', 'name'],
    ['image-pipeline', 'log_retention_days'],
    ['notifications', 'subscriptions'],
    ['storage', 'upload_versioning'],
    ['storage', 'output_versioning'],
    ['storage', 'work_expiration_days'],
    ['alarms', 'period_seconds'],
  ];

  it.each(choices)('%s: var.%s has a validation block', async (name, variable) => {
    const body = blocks(await loadModule(name), 'variable')[variable];
    expect(body, `${name}: var.${variable}`).toBeDefined();
    expect((body?.validation ?? []).length).toBeGreaterThan(0);
  });

  it('every variable whose name suggests a choice is validated', async () => {
    const suggestive = /(architecture|_type$|^type$|level|mode$|retention|versioning)/;
    for (const name of MODULE_NAMES) {
      for (const [variable, body] of Object.entries(blocks(await loadModule(name), 'variable'))) {
        if (suggestive.test(variable)) expect((body.validation ?? []).length, `${name}: var.${variable}`).toBeGreaterThan(0);
      }
    }
  });

  it('the choices match what the code and AWS accept', async () => {
    const condition = async (name: string, variable: string) => String(blocks(await loadModule(name), 'variable')[variable]?.validation?.[0]?.condition);
    expect(await condition('functions', 'architecture')).toContain('["arm64", "x86_64"]');
    expect(await condition('functions', 'tracing_mode')).toContain('["PassThrough", "Active"]');
    expect(await condition('workflow', 'type')).toContain('["STANDARD", "EXPRESS"]');
    expect(await condition('workflow', 'log_level')).toContain('["ALL", "ERROR", "FATAL", "OFF"]');
  });
});

describe('dev environment', () => {
  const dir = join(ENVS_DIR, 'dev');

  it('configures the aws provider from a region variable and calls image-pipeline', async () => {
    const hcl = await loadDir(dir);
    expect(hcl.provider?.aws?.[0]?.region).toBe('${var.region}');
    const pipeline = hcl.module?.image_pipeline?.[0];
    expect(pipeline?.source).toBe('../../modules/image-pipeline');
  });

  it('has a local backend by default and an S3 example', async () => {
    const backend = readText(join(dir, 'backend.tf'));
    expect((await loadDir(dir)).terraform?.some((block: { backend?: { local?: unknown } }) => block.backend?.local)).toBe(true);
    expect(backend).toMatch(/#\s+backend "s3"/);
  });

  it('outputs what `imgflow submit` needs, and the ARNs of what it deploys', async () => {
    const outputs = blocks(await loadDir(dir), 'output');
    const submit = ['error_topic_arn', 'jobs_table', 'output_bucket', 'region', 'state_machine_arn', 'success_topic_arn', 'upload_bucket'];
    const arns = ['alarm_arns', 'backfill_state_machine_arn', 'dead_letter_queue_arn', 'event_rule_arn', 'function_arns', 'jobs_table_arn', 'log_group_arns', 'output_bucket_arn', 'role_arns', 'upload_bucket_arn'];
    expect(Object.keys(outputs).sort()).toEqual([...submit, ...arns].sort());
    for (const body of Object.values(outputs)) expect(typeof body.description).toBe('string');
  });

  it('passes only inputs image-pipeline declares, and all it requires', async () => {
    const pipeline = (await loadDir(dir)).module?.image_pipeline?.[0] as Record<string, unknown>;
    const declared = blocks(await loadModule('image-pipeline'), 'variable');
    const passed = Object.keys(pipeline).filter((key) => key !== 'source');
    expect(passed.filter((key) => !(key in declared))).toEqual([]);
    const required = Object.entries(declared).filter(([, body]) => !('default' in body)).map(([variable]) => variable);
    expect(required.filter((variable) => !passed.includes(variable))).toEqual([]);
  });

  it('declares every var.x it references, uses every variable, and documents them', async () => {
    const hcl = await loadDir(dir);
    const declared = Object.keys(blocks(hcl, 'variable')).sort();
    expect([...variableReferences(bodyWithoutVariables(hcl))].sort()).toEqual(declared);
    const readme = readText(join(dir, 'README.md'));
    expect(tableNames(markdownSection(readme, 'Inputs') ?? '').sort()).toEqual(declared);
    expect(tableNames(markdownSection(readme, 'Outputs') ?? '').sort()).toEqual(Object.keys(blocks(hcl, 'output')).sort());
    const versions = (await parseFile(join(dir, 'versions.tf'))).terraform?.[0];
    expect(versions?.required_version).toBe(REQUIRED_VERSION);
    expect(versions?.required_providers?.[0]?.aws).toEqual(AWS_PROVIDER);
  });

  it('has a tfvars example that parses and sets only declared variables', async () => {
    const example = await parse('terraform.tfvars', readText(join(dir, 'terraform.tfvars.example')));
    const declared = blocks(await loadDir(dir), 'variable');
    expect(Object.keys(example).length).toBeGreaterThan(0);
    expect(Object.keys(example).filter((key) => !(key in declared))).toEqual([]);
  });
});

describe('module composition', () => {
  it('image-pipeline passes every child module only inputs it declares, and all it requires', async () => {
    const pipeline = await loadModule('image-pipeline');
    const calls = Object.entries(pipeline.module ?? {}) as [string, Record<string, unknown>[]][];
    expect(calls.map(([name]) => name).sort()).toEqual(['alarms', 'backfill', 'functions', 'ledger', 'notifications', 'storage', 'sweeper', 'trigger', 'workflow']);
    for (const [name, [call]] of calls) {
      const source = String(call?.source);
      expect(source).toBe(`../${name}`);
      const declared = blocks(await loadDir(join(moduleDir('image-pipeline'), source)), 'variable');
      // count is a meta-argument (the sweeper's toggle), not an input.
      const passed = Object.keys(call ?? {}).filter((key) => key !== 'source' && key !== 'count');
      expect(passed.filter((key) => !(key in declared)), `${name}: unknown inputs`).toEqual([]);
      const required = Object.entries(declared).filter(([, body]) => !('default' in body)).map(([variable]) => variable);
      expect(required.filter((variable) => !passed.includes(variable)), `${name}: missing inputs`).toEqual([]);
    }
  });

  it('infra/README.md maps the modules and shows how to reuse them', () => {
    const readme = readText(join(INFRA_DIR, 'README.md'));
    for (const name of MODULE_NAMES) expect(readme).toContain(`modules/${name}`);
    const reuse = markdownSection(readme, 'Reusing the modules');
    expect(reuse).toBeDefined();
    expect(reuse).toMatch(/source\s*=\s*"git::[^"]+\/\/infra\/modules\/image-pipeline\?ref=v/);
    expect(reuse).toMatch(/source\s*=\s*"git::[^"]+\/\/infra\/modules\/ledger\?ref=v/);
  });
});
