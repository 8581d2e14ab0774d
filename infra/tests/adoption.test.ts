import { contract } from '@imgflow/contract';
// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Terraform expressions as hcl2json returns them, not JavaScript templates.
// What a platform team needs to adopt the modules: IAM it can shape or supply, names that do
// not collide across regions, an existing upload bucket, ARN outputs, examples, a lock file.
import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import {
  AWS_PROVIDER,
  ENVS_DIR,
  EXAMPLE_NAMES,
  FUNCTION_NAMES,
  type Hcl,
  INFRA_DIR,
  MODULE_NAMES,
  REQUIRED_VERSION,
  ROLE_KEYS,
  ROLE_MODULES,
  blocks,
  exampleDir,
  exists,
  extraStatementBlocks,
  loadDir,
  loadModule,
  locals,
  moduleDir,
  parse,
  parseFile,
  policyDocuments,
  readText,
  resources,
} from './hcl.js';

const run = promisify(execFile);

/** The IAM inputs every module that creates roles takes, and image-pipeline passes through. */
const IAM_INPUTS = ['role_path', 'role_permissions_boundary', 'extra_policy_statements'];

/** The shape of one extra statement, the same in every module. */
const STATEMENT_FIELDS = [
  /sid\s*=\s*optional\(string\)/,
  /effect\s*=\s*optional\(string, "Allow"\)/,
  /actions\s*=\s*list\(string\)/,
  /resources\s*=\s*list\(string\)/,
  /conditions\s*=\s*optional\(list\(object\(\{\s*test\s*=\s*string\s*variable\s*=\s*string\s*values\s*=\s*list\(string\)\s*\}\)\), \[\]\)/,
];

/** The regular expressions an extra action must match: an Allow names actions (a trailing * at most), a Deny may use "*". */
const ALLOW_ACTION = '^[a-z0-9-]+:[A-Za-z0-9]+[A-Za-z0-9*]*$';
const DENY_ACTION = '^(\\\\*|[a-z0-9-]+:[A-Za-z0-9*]+)$';

function conditions(variable: Hcl | undefined): string {
  return ((variable?.validation ?? []) as Hcl[]).map((validation) => String(validation.condition)).join('\n');
}

describe('IAM inputs of the modules that create roles', () => {
  it.each(ROLE_MODULES)('%s declares role_path, role_permissions_boundary and extra_policy_statements, validated', async (module) => {
    const variables = blocks(await loadModule(module), 'variable');
    expect(variables.role_path?.default).toBe('/');
    expect(conditions(variables.role_path)).toContain('^/([A-Za-z0-9+=,.@_-]+/)*$');
    expect(variables.role_permissions_boundary?.default).toBeNull();
    expect(conditions(variables.role_permissions_boundary)).toContain(':iam::([0-9]{12}|aws):policy/');
    const extra = variables.extra_policy_statements;
    for (const field of STATEMENT_FIELDS) expect(String(extra?.type), `${module}: ${field}`).toMatch(field);
    expect(conditions(extra)).toContain('contains(["Allow", "Deny"], statement.effect)');
    expect(conditions(extra)).toContain(ALLOW_ACTION);
    expect(conditions(extra)).toContain(DENY_ACTION);
  });

  it('the action patterns refuse a wildcard Allow and accept named actions', () => {
    const allow = new RegExp(ALLOW_ACTION);
    const deny = new RegExp(DENY_ACTION.replace(/\\\\/g, '\\'));
    expect(['*', 's3:*', 'kms:*', 'S3:GetObject', 'GetObject'].filter((action) => allow.test(action))).toEqual([]);
    expect(['s3:GetObject', 'kms:Decrypt', 's3:Get*', 'secretsmanager:GetSecretValue'].every((action) => allow.test(action))).toBe(true);
    expect(['*', 's3:*', 's3:DeleteObject'].every((action) => deny.test(action))).toBe(true);
  });

  it.each(ROLE_MODULES)('%s puts the role path and permissions boundary on its roles, and the region in their names', async (module) => {
    const hcl = await loadModule(module);
    const role = resources(hcl, 'aws_iam_role').this as Hcl;
    expect(role.path).toBe('${var.role_path}');
    expect(role.permissions_boundary).toBe('${var.role_permissions_boundary}');
    expect(role.lifecycle?.[0]?.create_before_destroy).toBe(true);
    expect(String(role.lifecycle?.[0]?.precondition?.[0]?.condition)).toMatch(/<= 64\}$/);
    const names = String(locals(hcl).role_name ?? locals(hcl).role_names);
    expect(names).toContain('${data.aws_region.current.name}');
    expect(resources(hcl, 'aws_region', 'data').current).toBeDefined();
  });

  it.each([
    ['functions', 'common', '${lookup(var.extra_policy_statements, each.key, [])}'],
    ['workflow', 'this', '${var.extra_policy_statements}'],
    ['trigger', 'this', '${var.extra_policy_statements}'],
    ['sweeper', 'this', '${var.extra_policy_statements}'],
    ['backfill', 'this', '${var.extra_policy_statements}'],
  ])('%s renders the extra statements into its role policy (%s), conditions included', async (module, document, forEach) => {
    const [block, ...others] = extraStatementBlocks(policyDocuments(await loadModule(module))[document] as Hcl);
    expect(others).toEqual([]);
    expect(block?.for_each).toBe(forEach);
    const content = block?.content?.[0] as Hcl;
    expect(content).toMatchObject({
      sid: '${statement.value.sid}',
      effect: '${statement.value.effect}',
      actions: '${statement.value.actions}',
      resources: '${statement.value.resources}',
    });
    expect(content.dynamic.condition[0].for_each).toBe('${statement.value.conditions}');
  });

  it('functions: a step listed in existing_role_arns gets no role or policy, and runs with the given role', async () => {
    const hcl = await loadModule('functions');
    const values = locals(hcl);
    expect(resources(hcl, 'aws_iam_role').this?.for_each).toBe('${local.created_roles}');
    expect(values.created_roles).toBe('${{ for function, settings in var.functions : function => settings if !contains(keys(var.existing_role_arns), function) }}');
    expect(values.role_arns).toBe('${merge({ for function, role in aws_iam_role.this : function => role.arn }, var.existing_role_arns)}');
    expect(resources(hcl, 'aws_lambda_function').this?.role).toBe('${local.role_arns[each.key]}');
    const keys = String(blocks(hcl, 'variable').existing_role_arns?.validation?.[0]?.condition);
    expect(keys).toContain(JSON.stringify([...FUNCTION_NAMES]).replace(/,/g, ', '));
  });

  it.each(['workflow', 'trigger', 'backfill'])('%s: create_role = false uses existing_role_arn, and the plan refuses it without one', async (module) => {
    const hcl = await loadModule(module);
    expect(resources(hcl, 'aws_iam_role').this?.count).toBe('${var.create_role ? 1 : 0}');
    expect(resources(hcl, 'aws_iam_role_policy').this?.count).toBe('${var.create_role ? 1 : 0}');
    expect(locals(hcl).role_arn).toBe('${var.create_role ? aws_iam_role.this[0].arn : var.existing_role_arn}');
    const precondition = (policyDocuments(hcl).this as Hcl).lifecycle[0].precondition[0];
    expect(precondition.condition).toBe('${var.create_role || var.existing_role_arn != null}');
    // moved blocks keep existing deployments' state addresses (backfill was born with count)
    if (module !== 'backfill') expect(JSON.stringify(hcl.moved)).toContain('aws_iam_role.this[0]');
  });

  it.each(ROLE_MODULES)('%s outputs its role ARNs, names and least-privilege policy', async (module) => {
    const outputs = blocks(await loadModule(module), 'output');
    const suffix = module === 'functions' ? 's' : '';
    for (const name of [`role_arn${suffix}`, `role_name${suffix}`, 'role_policy_json']) expect(outputs[name], `${module}: ${name}`).toBeDefined();
  });
});

describe('image-pipeline passes the IAM inputs to every module that creates roles', () => {
  it('declares them, keyed by role where a module has several', async () => {
    const variables = blocks(await loadModule('image-pipeline'), 'variable');
    for (const name of [...IAM_INPUTS, 'existing_role_arns']) expect(variables[name], name).toBeDefined();
    const keys = JSON.stringify(ROLE_KEYS).replace(/,/g, ', ');
    expect(String(variables.extra_policy_statements?.validation?.[0]?.condition)).toContain(keys);
    expect(String(variables.existing_role_arns?.validation?.[0]?.condition)).toContain(keys);
  });

  it.each(ROLE_MODULES)('passes role_path and role_permissions_boundary to %s', async (module) => {
    const call = (await loadModule('image-pipeline')).module[module][0] as Hcl;
    expect(call.role_path).toBe('${var.role_path}');
    expect(call.role_permissions_boundary).toBe('${var.role_permissions_boundary}');
  });

  it('gives each module its roles\' extra statements and existing roles', async () => {
    const calls = (await loadModule('image-pipeline')).module as Record<string, Hcl[]>;
    const functions = calls.functions?.[0] as Hcl;
    expect(functions.extra_policy_statements).toBe('${{ for step, statements in var.extra_policy_statements : step => statements if contains(local.function_steps, step) }}');
    expect(functions.existing_role_arns).toBe('${{ for step, arn in var.existing_role_arns : step => arn if contains(local.function_steps, step) }}');
    for (const module of ['workflow', 'trigger', 'backfill']) {
      const call = calls[module]?.[0] as Hcl;
      expect(call.extra_policy_statements).toBe(`\${lookup(var.extra_policy_statements, "${module}", [])}`);
      // A bool known at plan time, even when the role ARN is not (a role created in the same apply).
      expect(call.create_role).toBe(`\${!contains(keys(var.existing_role_arns), "${module}")}`);
      expect(call.existing_role_arn).toBe(`\${lookup(var.existing_role_arns, "${module}", null)}`);
    }
  });
});

describe('prefixes of the output bucket', () => {
  it('image-pipeline takes them as inputs ending in "/" and passes them on', async () => {
    const hcl = await loadModule('image-pipeline');
    const variables = blocks(hcl, 'variable');
    for (const [name, value] of [
      ['output_prefix', 'renditions/'],
      ['work_prefix', 'work/'],
      ['assets_prefix', 'assets/'],
    ] as const) {
      // null: the functions and storage modules take the contract's default (contract.json config).
      expect(variables[name]?.default).toBeNull();
      expect(contract.config[name]).toBe(value);
      expect(conditions(variables[name])).toContain('^([a-z0-9][a-z0-9_-]*/)+$');
      expect(hcl.module.functions[0][name]).toBe(`\${var.${name}}`);
    }
    expect(hcl.module.storage[0].work_prefix).toBe('${var.work_prefix}');
  });

  it('the functions read only the upload keys the trigger matches (key_prefix)', async () => {
    const pipeline = await loadModule('image-pipeline');
    expect(pipeline.module.functions[0].upload_key_prefix).toBe('${var.key_prefix}');
    expect(pipeline.module.trigger[0].key_prefix).toBe('${var.key_prefix}');
    const functions = await loadModule('functions');
    expect(locals(functions).upload_objects).toBe('${var.upload_bucket_arn}/${var.upload_key_prefix}*');
    // IAM would read * and ? in the prefix as wildcards
    expect(conditions(blocks(functions, 'variable').upload_key_prefix)).toContain('[*?]');
    expect(conditions(blocks(pipeline, 'variable').key_prefix)).toContain('[*?]');
  });

  it('functions refuses overlapping prefixes at plan time, naming them', async () => {
    const hcl = await loadModule('functions');
    const notify = policyDocuments(hcl).notify as Hcl;
    const precondition = notify.lifecycle[0].precondition[0];
    expect(precondition.condition).toBe('${length(local.overlapping_prefixes) == 0}');
    expect(precondition.error_message).toContain('must not overlap');
    expect(String(locals(hcl).overlapping_prefixes)).toContain('startswith(other_prefix, prefix)');
  });
});

describe('an existing upload bucket', () => {
  it('storage looks it up, checks its region, and creates only the output bucket', async () => {
    const hcl = await loadModule('storage');
    const lookup = resources(hcl, 'aws_s3_bucket', 'data').upload as Hcl;
    expect(lookup.count).toBe('${var.create_upload_bucket ? 0 : 1}');
    expect(lookup.lifecycle[0].postcondition[0].condition).toBe('${self.region == data.aws_region.current.name}');
    expect(lookup.lifecycle[0].precondition[0].condition).toBe('${var.upload_bucket_name != null}');
    expect(resources(hcl, 'aws_s3_bucket_lifecycle_configuration').upload?.count).toBe('${var.create_upload_bucket ? 1 : 0}');
    expect(blocks(hcl, 'variable').create_upload_bucket?.default).toBe(true);
    expect(blocks(hcl, 'variable').manage_upload_bucket_notification?.default).toBe(true);
  });

  it('image-pipeline exposes create_upload_bucket, upload_bucket_name and manage_upload_bucket_notification', async () => {
    const hcl = await loadModule('image-pipeline');
    const storage = hcl.module.storage[0] as Hcl;
    expect(storage.create_upload_bucket).toBe('${var.create_upload_bucket}');
    expect(storage.manage_upload_bucket_notification).toBe('${var.manage_upload_bucket_notification}');
    expect(storage.upload_bucket_name).toBe('${local.upload_bucket_name}');
    expect(locals(hcl).upload_bucket_name).toBe(
      '${var.create_upload_bucket ? coalesce(var.upload_bucket_name, "${var.name}-uploads-${local.account_id}-${local.region}") : var.upload_bucket_name}',
    );
  });
});

describe('ARN outputs', () => {
  /** Outputs each module must have: ARNs (and the names that go with them) of what it creates. */
  const EXPECTED: Record<string, string[]> = {
    storage: ['upload_bucket_arn', 'output_bucket_arn'],
    ledger: ['table_arn', 'index_arns'],
    notifications: ['success_topic_arn', 'error_topic_arn', 'subscription_arns'],
    functions: ['function_arns', 'role_arns', 'log_group_arns'],
    workflow: ['state_machine_arn', 'role_arn', 'log_group_arn'],
    trigger: ['rule_arn', 'role_arn', 'dead_letter_queue_arn'],
    sweeper: ['function_arn', 'rule_arn', 'role_arn', 'log_group_arn', 'dead_letter_queue_arn'],
    backfill: ['state_machine_arn', 'role_arn', 'log_group_arn'],
    alarms: ['alarm_arns'],
    'image-pipeline': [
      'upload_bucket_arn',
      'output_bucket_arn',
      'jobs_table_arn',
      'success_topic_arn',
      'error_topic_arn',
      'state_machine_arn',
      'function_arns',
      'role_arns',
      'log_group_arns',
      'event_rule_arn',
      'dead_letter_queue_arn',
      'alarm_arns',
      'backfill_state_machine_arn',
    ],
  };

  it.each(MODULE_NAMES)('%s outputs the ARNs of what it creates, each described', async (module) => {
    const outputs = blocks(await loadModule(module), 'output');
    for (const name of EXPECTED[module] ?? []) expect(outputs[name], `${module}: output ${name}`).toBeDefined();
    for (const [name, body] of Object.entries(outputs)) expect(String(body.description ?? '').length, `${module}: ${name}`).toBeGreaterThan(10);
  });

  it('image-pipeline keys role_arns, role_policy_json and the log groups by role', async () => {
    const outputs = blocks(await loadModule('image-pipeline'), 'output');
    expect(outputs.role_arns?.value).toBe(
      '${merge(module.functions.role_arns, { workflow = module.workflow.role_arn, trigger = module.trigger.role_arn }, { for sweeper in module.sweeper : "sweep" => sweeper.role_arn }, { for backfill in module.backfill : "backfill" => backfill.role_arn })}',
    );
    expect(outputs.role_policy_json?.value).toBe(
      '${merge(module.functions.role_policy_json, { workflow = module.workflow.role_policy_json, trigger = module.trigger.role_policy_json }, { for sweeper in module.sweeper : "sweep" => sweeper.role_policy_json }, { for backfill in module.backfill : "backfill" => backfill.role_policy_json })}',
    );
    expect(outputs.log_group_arns?.value).toBe('${merge(module.functions.log_group_arns, { workflow = module.workflow.log_group_arn })}');
  });
});

describe.each(EXAMPLE_NAMES)('example %s', (name) => {
  const dir = exampleDir(name);

  it('has versions.tf, main.tf, outputs.tf, README.md and tests/plan.tftest.hcl', () => {
    for (const file of ['versions.tf', 'main.tf', 'outputs.tf', 'README.md', 'tests/plan.tftest.hcl']) expect(exists(join(dir, file)), `${name}/${file}`).toBe(true);
  });

  it(`pins Terraform ${REQUIRED_VERSION} and hashicorp/aws ${AWS_PROVIDER.version}`, async () => {
    const terraform = (await parseFile(join(dir, 'versions.tf'))).terraform?.[0];
    expect(terraform?.required_version).toBe(REQUIRED_VERSION);
    expect(terraform?.required_providers?.[0]?.aws).toEqual(AWS_PROVIDER);
  });

  it('configures the provider in main.tf and calls image-pipeline with source = "../../"', async () => {
    const main = await parseFile(join(dir, 'main.tf'));
    expect(main.provider?.aws?.[0]?.region).toBe('${var.region}');
    expect(main.module?.image_pipeline?.[0]?.source).toBe('../../');
  });

  it('passes image-pipeline only inputs it declares, all it requires, and describes its outputs', async () => {
    const hcl = await loadDir(dir);
    const call = hcl.module.image_pipeline[0] as Record<string, unknown>;
    const declared = blocks(await loadModule('image-pipeline'), 'variable');
    const passed = Object.keys(call).filter((key) => key !== 'source');
    expect(passed.filter((key) => !(key in declared))).toEqual([]);
    const required = Object.entries(declared).filter(([, body]) => !('default' in body)).map(([variable]) => variable);
    expect(required.filter((variable) => !passed.includes(variable))).toEqual([]);
    const outputs = blocks(hcl, 'output');
    expect(Object.keys(outputs).length).toBeGreaterThan(0);
    for (const body of Object.values(outputs)) expect(typeof body.description).toBe('string');
  });

  it('plans with a mocked aws provider', async () => {
    const test = await parse('plan.tftest.hcl', readText(join(dir, 'tests', 'plan.tftest.hcl')));
    expect(Object.keys(test.mock_provider ?? {})).toEqual(['aws']);
    expect(test.run && Object.values(test.run).every((runs) => (runs as Hcl[])[0]?.command === '${plan}')).toBe(true);
  });

  it('is listed in the image-pipeline README', () => {
    expect(readText(join(moduleDir('image-pipeline'), 'README.md'))).toContain(`(examples/${name})`);
  });
});

describe('examples cover the options', () => {
  it('complete sets every image-pipeline input except the existing upload bucket (its own example)', async () => {
    const call = (await loadDir(exampleDir('complete'))).module.image_pipeline[0] as Record<string, unknown>;
    const declared = Object.keys(blocks(await loadModule('image-pipeline'), 'variable'));
    const ownExample = ['create_upload_bucket', 'upload_bucket_name', 'manage_upload_bucket_notification'];
    expect(declared.filter((input) => !(input in call) && !ownExample.includes(input))).toEqual([]);
  });

  it('minimal sets only the required inputs', async () => {
    const call = (await loadDir(exampleDir('minimal'))).module.image_pipeline[0] as Record<string, unknown>;
    expect(Object.keys(call).sort()).toEqual(['artifacts_dir', 'name', 'source']);
  });

  it('existing-upload-bucket takes an existing bucket', async () => {
    const call = (await loadDir(exampleDir('existing-upload-bucket'))).module.image_pipeline[0] as Hcl;
    expect(call.create_upload_bucket).toBe(false);
    expect(call.upload_bucket_name).toBe('${var.upload_bucket_name}');
    expect(call.manage_upload_bucket_notification).toBe('${var.manage_upload_bucket_notification}');
  });

  it('are the only folders under examples/', () => {
    const folders = readdirSync(join(moduleDir('image-pipeline'), 'examples')).sort();
    expect(folders).toEqual([...EXAMPLE_NAMES].sort());
  });
});

describe('envs/dev provider lock file', () => {
  const dir = join(ENVS_DIR, 'dev');
  const path = join(dir, '.terraform.lock.hcl');

  it('pins the aws provider the offline tests use, inside the versions.tf range, with checksums', async () => {
    const lock = await parse('.terraform.lock.hcl', readText(path));
    const aws = lock.provider?.['registry.terraform.io/hashicorp/aws']?.[0] as Hcl;
    expect(aws.version).toBe('5.100.0');
    expect(aws.constraints).toBe('>= 5.100.0, < 7.0.0');
    const hashes = aws.hashes as string[];
    // h1: of the linux_amd64 package (what init with -plugin-dir checks), zh: of every platform's zip.
    expect(hashes).toContain('h1:edXOJWE4ORX8Fm+dpVpICzMZJat4AX0VRCAy/xkcOc0=');
    expect(hashes.filter((hash) => hash.startsWith('zh:')).length).toBeGreaterThanOrEqual(14);
    expect(hashes.every((hash) => /^(h1:[A-Za-z0-9+/]{43}=|zh:[0-9a-f]{64})$/.test(hash))).toBe(true);
  });

  it('is not ignored by git (the lock file is committed)', async (context) => {
    // git check-ignore exits 0 for an ignored path, 1 for one that is not.
    const ignored = await run('git', ['check-ignore', '-q', path], { cwd: INFRA_DIR }).then(
      () => true,
      (error: { code?: number | string }) => {
        if (error.code === 1) return false;
        if (error.code === 'ENOENT') return undefined;
        throw error;
      },
    );
    if (ignored === undefined) context.skip('no git on PATH');
    expect(ignored).toBe(false);
  });
});
