// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Terraform expressions as hcl2json returns them, not JavaScript templates.
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  FUNCTION_NAMES,
  type Hcl,
  MODULE_NAMES,
  type Statement,
  loadModule,
  markdownSection,
  moduleDir,
  policyDocuments,
  readText,
  resolveLocal,
  resources,
  statementsOf,
} from './hcl.js';

/**
 * The only statements allowed a "*" resource, by module and sid. Each is an AWS API without
 * resource-level permissions; each must be listed and justified in the module README's
 * "Wildcard resources" section.
 */
const WILDCARD_RESOURCES: Record<string, readonly string[]> = {
  functions: ['WriteTraces'],
  sweeper: ['WriteTraces'],
  workflow: ['DeliverExecutionLogs', 'WriteTraces'],
  backfill: ['DeliverExecutionLogs', 'WriteTraces'],
};

/** The one service-wide action: the bucket policy's Deny of plain-HTTP access must cover every S3 action. */
const DENY_ALL_S3 = { module: 'storage', document: 'bucket', sid: 'DenyInsecureTransport', action: 's3:*' };

async function allStatements(): Promise<{ module: string; document: string; statement: Statement }[]> {
  const found: { module: string; document: string; statement: Statement }[] = [];
  for (const module of MODULE_NAMES) {
    for (const [document, body] of Object.entries(policyDocuments(await loadModule(module)))) {
      for (const statement of statementsOf(body)) found.push({ module, document, statement });
    }
  }
  return found;
}

const isWildcardAction = (action: string) => action === '*' || /^[A-Za-z0-9-]+:\*$/.test(action);

describe('IAM policy documents', () => {
  it('finds the policy documents (so the checks below see something)', async () => {
    const statements = await allStatements();
    expect(new Set(statements.map(({ module }) => module))).toEqual(new Set(['storage', 'functions', 'workflow', 'trigger', 'sweeper', 'backfill']));
    expect(statements.length).toBeGreaterThan(20);
  });

  it('grant no action "*" or "<service>:*", and use no not_actions', async () => {
    for (const { module, document, statement } of await allStatements()) {
      expect(statement.notActions, `${module}/${document}/${statement.sid}`).toBeUndefined();
      expect(statement.actions.length, `${module}/${document}/${statement.sid}`).toBeGreaterThan(0);
      const wildcards = statement.actions.filter(isWildcardAction);
      if (statement.effect === 'Allow') {
        expect(wildcards, `${module}/${document}/${statement.sid}`).toEqual([]);
      } else {
        expect({ module, document, sid: statement.sid, wildcards }).toEqual({
          module: DENY_ALL_S3.module,
          document: DENY_ALL_S3.document,
          sid: DENY_ALL_S3.sid,
          wildcards: [DENY_ALL_S3.action],
        });
      }
    }
  });

  it('the one service-wide action is a Deny of requests without TLS', async () => {
    const statement = statementsOf(policyDocuments(await loadModule('storage'))[DENY_ALL_S3.document] as Hcl)[0];
    expect(statement?.effect).toBe('Deny');
    expect(statement?.conditions).toEqual([{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }]);
  });

  it('use a "*" resource only in allow-listed statements', async () => {
    const found: Record<string, string[]> = {};
    for (const { module, statement } of await allStatements()) {
      if (!statement.resources.includes('*')) continue;
      expect(statement.resources, `${module}/${statement.sid}: "*" next to other resources`).toEqual(['*']);
      found[module] = [...(found[module] ?? []), statement.sid ?? '(no sid)'].sort();
    }
    expect(found).toEqual(Object.fromEntries(Object.entries(WILDCARD_RESOURCES).map(([module, sids]) => [module, [...sids].sort()])));
  });

  it.each(MODULE_NAMES)('%s README lists exactly its allow-listed "*" statements under "Wildcard resources"', (module) => {
    const section = markdownSection(readText(join(moduleDir(module), 'README.md')), 'Wildcard resources');
    const allowed = WILDCARD_RESOURCES[module] ?? [];
    if (allowed.length === 0) {
      expect(section, `${module} has no "*" resource and no section`).toBeUndefined();
      return;
    }
    expect(section, `${module}: ## Wildcard resources`).toBeDefined();
    const listed = [...(section ?? '').matchAll(/^\|\s*`([A-Za-z]+)`/gm)].map((match) => match[1]);
    expect(listed.sort()).toEqual([...allowed].sort());
  });

  it('every role and resource policy is rendered from an aws_iam_policy_document', async () => {
    const policyTypes = ['aws_iam_role_policy', 'aws_s3_bucket_policy', 'aws_sqs_queue_policy'];
    let count = 0;
    for (const module of MODULE_NAMES) {
      const hcl = await loadModule(module);
      for (const type of policyTypes) {
        for (const body of Object.values(resources(hcl, type))) {
          count += 1;
          expect(String(body.policy)).toMatch(/^\$\{(data\.aws_iam_policy_document\.\w+(\[each\.key\])?\.json|local\.function_policies\[each\.key\])\}$/);
        }
      }
      for (const body of Object.values(resources(hcl, 'aws_iam_role'))) {
        expect(String(body.assume_role_policy)).toMatch(/^\$\{data\.aws_iam_policy_document\.assume_role\.json\}$/);
      }
      expect(JSON.stringify(hcl)).not.toMatch(/aws_iam_policy_attachment|aws_iam_role_policy_attachment|managed_policy_arns/);
    }
    // functions, workflow, trigger (role and queue), sweeper (role and queue), backfill, storage (bucket)
    expect(count).toBe(8);
  });
});

describe('function roles: exactly what each handler does', () => {
  const UPLOADS = '${var.upload_bucket_arn}/${var.upload_key_prefix}*';
  const RENDITIONS = '${var.output_bucket_arn}/${local.output_prefix}*';
  const WORK = '${var.output_bucket_arn}/${local.work_prefix}*';
  const ASSETS = '${var.output_bucket_arn}/${local.assets_prefix}*';
  const TABLE = '${var.jobs_table_arn}';
  const TOPICS = ['${var.success_topic_arn}', '${var.error_topic_arn}'];
  const UPLOAD_BUCKET = '${var.upload_bucket_arn}';
  const OUTPUT_BUCKET = '${var.output_bucket_arn}';
  const OWN_LOG_GROUP = '${aws_cloudwatch_log_group.this[each.key].arn}:*';

  const LOGS = { 'logs:CreateLogStream': [OWN_LOG_GROUP], 'logs:PutLogEvents': [OWN_LOG_GROUP] };

  /** action → resources, derived from fn-* handlers, pipeline/src/storage.ts and ledger.ts. */
  const EXPECTED: Record<(typeof FUNCTION_NAMES)[number], Record<string, string[]>> = {
    validate: {
      ...LOGS,
      's3:GetObject': [RENDITIONS, UPLOADS],
      's3:GetObjectVersion': [UPLOADS],
      's3:PutObject': [RENDITIONS],
      's3:ListBucket': [OUTPUT_BUCKET, UPLOAD_BUCKET],
      'dynamodb:UpdateItem': [TABLE],
      'dynamodb:GetItem': [TABLE],
    },
    resize: {
      ...LOGS,
      's3:GetObject': [UPLOADS],
      's3:GetObjectVersion': [UPLOADS],
      's3:ListBucket': [UPLOAD_BUCKET],
      's3:PutObject': [WORK],
    },
    filter: {
      ...LOGS,
      's3:GetObject': [ASSETS, UPLOADS],
      's3:GetObjectVersion': [UPLOADS],
      's3:ListBucket': [OUTPUT_BUCKET, UPLOAD_BUCKET],
      's3:PutObject': [WORK],
    },
    optimize: {
      ...LOGS,
      's3:GetObject': [UPLOADS, WORK],
      's3:GetObjectVersion': [UPLOADS],
      's3:ListBucket': [UPLOAD_BUCKET],
      's3:PutObject': [RENDITIONS],
      's3:DeleteObject': [RENDITIONS],
    },
    notify: {
      ...LOGS,
      'dynamodb:UpdateItem': [TABLE],
      'dynamodb:GetItem': [TABLE],
      's3:DeleteObject': [WORK],
      'sns:Publish': TOPICS,
    },
  };

  /** A function's own statements and those of the shared documents it sources besides the common one (read_uploads). */
  function roleStatements(documents: Record<string, unknown>, name: string) {
    const own = documents[name] as Hcl;
    const shared = ((own.source_policy_documents ?? []) as string[]).flatMap((reference) => {
      const match = /^\$\{data\.aws_iam_policy_document\.(\w+)\.json\}$/.exec(reference);
      return match ? [documents[match[1] as string] as Hcl] : [];
    });
    return [...statementsOf(own), ...shared.flatMap((document) => statementsOf(document))];
  }

  /** action → sorted resources of a function's role policy: its own statements plus the common ones that always apply. */
  async function grants(name: string): Promise<Record<string, string[]>> {
    const hcl = await loadModule('functions');
    const documents = policyDocuments(hcl);
    const own = documents[name] as Hcl;
    // Every step that reads the upload shares one document for it (read_uploads); notify does not read it.
    const readsUpload = name !== 'notify';
    expect(own.source_policy_documents).toEqual([
      `\${data.aws_iam_policy_document.common["${name}"].json}`,
      ...(readsUpload ? ['${data.aws_iam_policy_document.read_uploads.json}'] : []),
    ]);
    const statements = [...roleStatements(documents, name), ...statementsOf(documents.common as Hcl).filter((statement) => statement.forEach === undefined)];
    const byAction: Record<string, string[]> = {};
    for (const statement of statements) {
      expect(statement.effect).toBe('Allow');
      for (const action of statement.actions) {
        byAction[action] = [...(byAction[action] ?? []), ...statement.resources.map((resource) => resolveLocal(hcl, resource))].sort();
      }
    }
    return byAction;
  }

  it.each(FUNCTION_NAMES)('%s', async (name) => {
    const expected = Object.fromEntries(Object.entries(EXPECTED[name]).map(([action, list]) => [action, [...list].sort()]));
    expect(await grants(name)).toEqual(expected);
  });

  it('each role gets its own document', async () => {
    const hcl = await loadModule('functions');
    const policy = resources(hcl, 'aws_iam_role_policy').this;
    expect(policy?.for_each).toBe('${local.created_roles}');
    expect(policy?.policy).toBe('${local.function_policies[each.key]}');
    const mapping = (hcl.locals as Hcl[]).find((block) => block.function_policies)?.function_policies;
    expect(mapping).toEqual(Object.fromEntries(FUNCTION_NAMES.map((name) => [name, `\${data.aws_iam_policy_document.${name}.json}`])));
  });

  /**
   * S3 answers a GET of a missing key with 404 only to a caller allowed s3:ListBucket (with the
   * key as s3:prefix), and 403 to any other. Each function may list exactly the key patterns it
   * reads where a missing key must read as missing: a deleted upload (SOURCE_MISSING), a stale
   * cache entry's renditions (processed again), a watermark nobody uploaded (MISSING_ASSET). Not
   * the work prefix (a missing bundle is the pipeline's fault, not the upload's), not notify.
   */
  const LISTED: Record<(typeof FUNCTION_NAMES)[number], Array<[string, string]>> = {
    validate: [
      [UPLOAD_BUCKET, '${var.upload_key_prefix}*'],
      [OUTPUT_BUCKET, '${local.output_prefix}*'],
    ],
    resize: [[UPLOAD_BUCKET, '${var.upload_key_prefix}*']],
    filter: [
      [UPLOAD_BUCKET, '${var.upload_key_prefix}*'],
      [OUTPUT_BUCKET, '${local.assets_prefix}*'],
    ],
    optimize: [[UPLOAD_BUCKET, '${var.upload_key_prefix}*']],
    notify: [],
  };

  it.each(FUNCTION_NAMES)('%s lists only the key patterns it reads (s3:ListBucket with an s3:prefix condition)', async (name) => {
    const hcl = await loadModule('functions');
    const statements = roleStatements(policyDocuments(hcl), name);
    const listing = statements.filter((statement) => statement.actions.includes('s3:ListBucket'));
    const listed = listing.map((statement) => {
      expect(statement.actions, statement.sid).toEqual(['s3:ListBucket']);
      expect(statement.resources, statement.sid).toHaveLength(1);
      expect(statement.conditions.map((condition) => [condition.test, condition.variable]), statement.sid).toEqual([['StringLike', 's3:prefix']]);
      const patterns = (statement.conditions[0]?.values ?? []) as string[];
      expect(patterns, statement.sid).toHaveLength(1);
      return [statement.resources[0], resolveLocal(hcl, patterns[0] as string)] as [string, string];
    });
    expect(listed.sort()).toEqual([...LISTED[name]].sort());
    // Never more than the function may read: each listed pattern is one of its GetObject resources.
    const readable = statements.filter((statement) => statement.actions.includes('s3:GetObject')).flatMap((statement) => statement.resources.map((resource) => resolveLocal(hcl, resource)));
    for (const [bucket, pattern] of listed) expect(readable, `${name}: ${bucket} ${pattern}`).toContain(`${bucket}/${pattern}`);
  });

  it('X-Ray is granted only when tracing is Active, KMS only on the given key', async () => {
    const hcl = await loadModule('functions');
    const conditional = statementsOf(policyDocuments(hcl).common as Hcl).filter((statement) => statement.forEach !== undefined);
    expect(conditional.map((statement) => [statement.sid, statement.actions, statement.resources, statement.forEach])).toEqual([
      ['WriteTraces', ['xray:PutTraceSegments', 'xray:PutTelemetryRecords'], ['*'], '${local.tracing_is_active ? ["xray"] : []}'],
      ['UseDataKey', ['kms:Decrypt', 'kms:GenerateDataKey'], ['${statement.value}'], '${var.kms_key_arn == null ? [] : [var.kms_key_arn]}'],
    ]);
    expect((hcl.locals as Hcl[]).find((block) => block.tracing_is_active)?.tracing_is_active).toBe('${var.tracing_mode == "Active"}');
  });
});

describe('workflow and trigger roles', () => {
  it('the state machine may invoke exactly its five functions (and their qualified ARNs)', async () => {
    const hcl = await loadModule('workflow');
    const statements = statementsOf(policyDocuments(hcl).this as Hcl);
    const invoke = statements.filter((statement) => statement.actions.includes('lambda:InvokeFunction'));
    expect(invoke).toHaveLength(1);
    expect(invoke[0]?.actions).toEqual(['lambda:InvokeFunction']);
    expect(invoke[0]?.resources).toEqual(['${concat(local.invoked_function_arns, [for arn in local.invoked_function_arns : "${arn}:*"])}']);
    expect((hcl.locals as Hcl[]).find((block) => block.invoked_function_arns)?.invoked_function_arns).toBe('${values(var.function_arns)}');
    // function_arns is a map checked against the contract's steps (a precondition), so it invokes exactly the steps.
    expect((hcl.variable.function_arns[0] as Hcl).type).toBe('${map(string)}');
    expect(JSON.stringify(hcl.resource.aws_sfn_state_machine.this)).toContain('sort(keys(var.function_arns)) == sort(keys(local.contract.steps))');
    const actions = statements.flatMap((statement) => statement.actions).sort();
    expect(actions.filter((action) => !action.startsWith('logs:') && !action.startsWith('xray:'))).toEqual(['lambda:InvokeFunction']);
  });

  it('X-Ray is granted to the state machine only when tracing is enabled', async () => {
    const xray = statementsOf(policyDocuments(await loadModule('workflow')).this as Hcl).filter((statement) => statement.actions.some((action) => action.startsWith('xray:')));
    expect(xray.map((statement) => statement.forEach)).toEqual(['${var.tracing_enabled ? ["xray"] : []}']);
  });

  it('EventBridge may start exactly the target state machine', async () => {
    const documents = policyDocuments(await loadModule('trigger'));
    expect(statementsOf(documents.this as Hcl).map((statement) => [statement.actions, statement.resources])).toEqual([
      [['states:StartExecution'], ['${var.state_machine_arn}']],
    ]);
  });

  it('only the rule may send to the dead-letter queue', async () => {
    const documents = policyDocuments(await loadModule('trigger'));
    const [statement] = statementsOf(documents.dead_letter as Hcl);
    expect(statement?.actions).toEqual(['sqs:SendMessage']);
    expect(statement?.resources).toEqual(['${aws_sqs_queue.dead_letter.arn}']);
    expect(statement?.conditions).toEqual([{ test: 'ArnEquals', variable: 'aws:SourceArn', values: ['${aws_cloudwatch_event_rule.this.arn}'] }]);
    expect((documents.dead_letter as Hcl).statement[0].principals).toEqual([{ type: 'Service', identifiers: ['events.amazonaws.com'] }]);
  });

  it.each([
    ['functions', 'lambda.amazonaws.com'],
    ['workflow', 'states.amazonaws.com'],
    ['trigger', 'events.amazonaws.com'],
    ['sweeper', 'lambda.amazonaws.com'],
    ['backfill', 'states.amazonaws.com'],
  ])('%s roles trust only %s', async (module, service) => {
    const assume = policyDocuments(await loadModule(module)).assume_role as Hcl;
    const statements = statementsOf(assume);
    expect(statements.map((statement) => statement.actions)).toEqual([['sts:AssumeRole']]);
    expect(assume.statement[0].principals).toEqual([{ type: 'Service', identifiers: [service] }]);
  });
});
