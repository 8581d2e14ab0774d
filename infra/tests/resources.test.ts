// biome-ignore-all lint/suspicious/noTemplateCurlyInString: these strings are Terraform expressions as hcl2json returns them, not JavaScript templates.
import { join } from 'node:path';
import { SWEEPER_FUNCTION } from '@imgflow/contract';
import { jobsTableDefinition } from '@imgflow/pipeline';
import { ARCHITECTURES, FUNCTIONS as RELEASE_FUNCTIONS, artifactName } from '@imgflow/release';
import { describe, expect, it } from 'vitest';
import { FUNCTION_NAMES, type Hcl, blocks, exists, loadModule, locals, moduleDir, policyDocuments, readText, resources, statementsOf } from './hcl.js';

describe('storage', () => {
  it('creates exactly the upload and output buckets', async () => {
    const hcl = await loadModule('storage');
    expect(resources(hcl, 'aws_s3_bucket').this?.for_each).toBe('${local.created_buckets}');
    expect(Object.keys(locals(hcl).buckets).sort()).toEqual(['output', 'upload']);
    // Both, unless the upload bucket exists already.
    expect(locals(hcl).created_buckets).toBe('${{ for bucket, settings in local.buckets : bucket => settings if bucket != "upload" || var.create_upload_bucket }}');
    expect(resources(hcl, 'aws_s3_bucket').this?.force_destroy).toBe('${var.force_destroy}');
    expect(blocks(hcl, 'variable').force_destroy?.default).toBe(false);
  });

  it.each(['aws_s3_bucket_public_access_block', 'aws_s3_bucket_ownership_controls', 'aws_s3_bucket_server_side_encryption_configuration', 'aws_s3_bucket_versioning', 'aws_s3_bucket_policy'])(
    '%s covers both buckets',
    async (type) => {
      const body = resources(await loadModule('storage'), type).this;
      expect(body?.for_each).toBe('${aws_s3_bucket.this}');
      expect(body?.bucket).toBe('${each.value.id}');
    },
  );

  it('blocks all public access on both buckets', async () => {
    const block = resources(await loadModule('storage'), 'aws_s3_bucket_public_access_block').this;
    expect(block).toMatchObject({ block_public_acls: true, block_public_policy: true, ignore_public_acls: true, restrict_public_buckets: true });
  });

  it('denies requests without TLS to both buckets and their objects', async () => {
    const hcl = await loadModule('storage');
    expect(resources(hcl, 'aws_s3_bucket_policy').this?.policy).toBe('${data.aws_iam_policy_document.bucket[each.key].json}');
    const document = policyDocuments(hcl).bucket as Hcl;
    expect(document.for_each).toBe('${aws_s3_bucket.this}');
    const [statement] = statementsOf(document);
    expect(statement?.effect).toBe('Deny');
    expect(statement?.resources).toEqual(['${each.value.arn}', '${each.value.arn}/*']);
    expect(statement?.conditions).toEqual([{ test: 'Bool', variable: 'aws:SecureTransport', values: ['false'] }]);
    expect(document.statement[0].principals).toEqual([{ type: '*', identifiers: ['*'] }]);
  });

  it('encrypts with SSE-S3 unless a KMS key is given, and enforces bucket-owner ownership', async () => {
    const hcl = await loadModule('storage');
    const rule = resources(hcl, 'aws_s3_bucket_server_side_encryption_configuration').this?.rule[0];
    expect(rule.apply_server_side_encryption_by_default[0]).toEqual({ sse_algorithm: '${local.sse_algorithm}', kms_master_key_id: '${var.kms_key_arn}' });
    expect(locals(hcl).sse_algorithm).toBe('${var.kms_key_arn == null ? "AES256" : "aws:kms"}');
    expect(blocks(hcl, 'variable').kms_key_arn?.default).toBeNull();
    expect(resources(hcl, 'aws_s3_bucket_ownership_controls').this?.rule[0].object_ownership).toBe('BucketOwnerEnforced');
  });

  it('versions uploads by default', async () => {
    const variables = blocks(await loadModule('storage'), 'variable');
    expect(variables.upload_versioning?.default).toBe('Enabled');
  });

  it('expires the work prefix and aborts incomplete multipart uploads', async () => {
    const hcl = await loadModule('storage');
    const output = resources(hcl, 'aws_s3_bucket_lifecycle_configuration').output;
    expect(output?.bucket).toBe('${aws_s3_bucket.this["output"].id}');
    const work = ((output?.rule ?? []) as Hcl[]).find((rule) => rule.expiration);
    expect(work?.filter[0]).toEqual({ prefix: '${local.work_prefix}' });
    expect(work?.expiration[0]).toEqual({ days: '${var.work_expiration_days}' });
    expect(blocks(hcl, 'variable').work_expiration_days?.default).toBe(1);
    expect(blocks(hcl, 'variable').work_prefix?.default).toBeNull();
    expect(locals(hcl).work_prefix).toBe('${coalesce(var.work_prefix, local.config_defaults.work_prefix)}');
    for (const bucket of ['upload', 'output']) {
      const rules = resources(hcl, 'aws_s3_bucket_lifecycle_configuration')[bucket]?.rule as Hcl[];
      expect(rules.some((rule) => rule.abort_incomplete_multipart_upload), bucket).toBe(true);
    }
  });

  it('sends the upload bucket events to EventBridge (an existing bucket\'s too, unless its owner manages its notifications)', async () => {
    const hcl = await loadModule('storage');
    const notification = resources(hcl, 'aws_s3_bucket_notification').upload;
    expect(notification).toEqual({
      count: '${var.create_upload_bucket || var.manage_upload_bucket_notification ? 1 : 0}',
      bucket: '${local.upload_bucket_name}',
      eventbridge: true,
    });
    expect(locals(hcl).upload_bucket_name).toBe('${var.create_upload_bucket ? aws_s3_bucket.this["upload"].bucket : data.aws_s3_bucket.upload[0].id}');
  });
});

describe('ledger', () => {
  const definition = jobsTableDefinition('jobs');

  it('matches jobsTableDefinition: billing, key schema, attributes', async () => {
    const table = resources(await loadModule('ledger'), 'aws_dynamodb_table').this as Hcl;
    expect(table.billing_mode).toBe(definition.BillingMode);
    expect(definition.KeySchema).toHaveLength(1);
    expect(table.hash_key).toBe(definition.KeySchema?.[0]?.AttributeName);
    expect(table.range_key).toBeUndefined();
    const attributes = (table.attribute as { name: string; type: string }[]).map(({ name, type }) => `${name}:${type}`).sort();
    expect(attributes).toEqual((definition.AttributeDefinitions ?? []).map((attribute) => `${attribute.AttributeName}:${attribute.AttributeType}`).sort());
  });

  it('matches jobsTableDefinition: global secondary indexes', async () => {
    const table = resources(await loadModule('ledger'), 'aws_dynamodb_table').this as Hcl;
    const actual = (table.global_secondary_index as Hcl[]).map((index) => ({ name: index.name, hash: index.hash_key, range: index.range_key, projection: index.projection_type }));
    const expected = (definition.GlobalSecondaryIndexes ?? []).map((index) => ({
      name: index.IndexName,
      hash: index.KeySchema?.find((key) => key.KeyType === 'HASH')?.AttributeName,
      range: index.KeySchema?.find((key) => key.KeyType === 'RANGE')?.AttributeName,
      projection: index.Projection?.ProjectionType,
    }));
    expect(expected).toHaveLength(2);
    expect(actual).toEqual(expected);
  });

  it('enables point-in-time recovery, encryption and (by default) deletion protection, and no TTL', async () => {
    const hcl = await loadModule('ledger');
    const table = resources(hcl, 'aws_dynamodb_table').this as Hcl;
    expect(table.point_in_time_recovery).toEqual([{ enabled: true }]);
    expect(table.server_side_encryption).toEqual([{ enabled: true, kms_key_arn: '${var.kms_key_arn}' }]);
    expect(table.deletion_protection_enabled).toBe('${var.deletion_protection_enabled}');
    expect(blocks(hcl, 'variable').deletion_protection_enabled?.default).toBe(true);
    expect(table.ttl).toBeUndefined();
  });
});

describe('notifications', () => {
  it('encrypts the success and error topics, with alias/aws/sns by default', async () => {
    const hcl = await loadModule('notifications');
    const topic = resources(hcl, 'aws_sns_topic').this as Hcl;
    expect(topic.for_each).toBe('${local.topics}');
    expect(locals(hcl).topics).toBe('${toset(["success", "error"])}');
    expect(topic.kms_master_key_id).toBe('${var.kms_master_key_id}');
    expect(blocks(hcl, 'variable').kms_master_key_id?.default).toBe('alias/aws/sns');
  });

  it('validates subscription topics and protocols', async () => {
    const variable = blocks(await loadModule('notifications'), 'variable').subscriptions as Hcl;
    const conditions = (variable.validation as Hcl[]).map((validation) => String(validation.condition)).join('\n');
    expect(conditions).toContain('["success", "error"]');
    expect(conditions).toContain('["email", "sqs", "https", "lambda"]');
    expect(variable.type).toContain('filter_policy = optional(string)');
  });
});

describe('functions', () => {
  it('runs every function on nodejs22.x with index.handler from a hashed zip', async () => {
    const hcl = await loadModule('functions');
    const lambda = resources(hcl, 'aws_lambda_function').this as Hcl;
    expect(lambda.for_each).toBe('${var.functions}');
    expect(lambda.runtime).toBe('nodejs22.x');
    expect(lambda.handler).toBe('index.handler');
    expect(lambda.architectures).toEqual(['${var.architecture}']);
    expect(lambda.filename).toBe('${local.zip_paths[each.key]}');
    expect(lambda.source_code_hash).toBe('${filebase64sha256(local.zip_paths[each.key])}');
    expect(blocks(hcl, 'variable').architecture?.default).toBe('arm64');
  });

  it('names the zips <function>-<arm64|x64>.zip for the five functions', async () => {
    const hcl = await loadModule('functions');
    const values = locals(hcl);
    const suffixes: Record<string, string> = Object.fromEntries(
      [...String(values.zip_architecture).matchAll(/(\w+)\s*=\s*"([^"]+)"/g)].map((match) => [match[1] as string, match[2] as string]),
    );
    expect(suffixes).toEqual({ arm64: 'arm64', x86_64: 'x64' });
    expect(values.zip_architecture).toMatch(/\}\[var\.architecture\]\}$/);
    const template = /=>\s*"(.*)"\s*\}\}$/.exec(String(values.zip_paths))?.[1];
    expect(template).toBe('${var.artifacts_dir}/${function}-${local.zip_architecture}.zip');
    expect(values.zip_paths).toContain('for function in keys(var.functions)');
    const keysCondition = String(((blocks(hcl, 'variable').functions?.validation ?? []) as Hcl[])[0]?.condition);
    expect(keysCondition).toContain('["validate", "resize", "filter", "optimize", "notify"]');
    const names = FUNCTION_NAMES.flatMap((name) =>
      Object.values(suffixes).map((suffix) => template?.replace('${var.artifacts_dir}/', '').replace('${function}', name).replace('${local.zip_architecture}', suffix)),
    );
    expect(names).toEqual(FUNCTION_NAMES.flatMap((name) => [`${name}-arm64.zip`, `${name}-x64.zip`]));
    // …which are exactly the files `make package` (apps/release) writes for the steps; it packages the sweeper too (module sweeper's zip).
    expect([...RELEASE_FUNCTIONS]).toEqual([...FUNCTION_NAMES, SWEEPER_FUNCTION]);
    expect(names).toEqual(FUNCTION_NAMES.flatMap((name) => [artifactName(name, 'arm64'), artifactName(name, 'x86_64')]));
    expect(artifactName(SWEEPER_FUNCTION, 'arm64')).toBe('sweep-arm64.zip');
    expect(Object.keys(ARCHITECTURES)).toEqual(Object.keys(suffixes));
  });

  it('sets every IMGFLOW_* variable configFromEnv reads, and merges per-function extras over them', async () => {
    const hcl = await loadModule('functions');
    const environment = String(locals(hcl).environment);
    const config = readText(join(moduleDir('functions'), '../../../packages/pipeline/src/config.ts'));
    const read = [...new Set([...config.matchAll(/\b(IMGFLOW_[A-Z_]+):\s*z\./g)].map((match) => match[1]))].sort();
    expect(read.length).toBeGreaterThan(8);
    const set = [...new Set([...environment.matchAll(/\b(IMGFLOW_[A-Z_]+)\s*=/g)].map((match) => match[1]))].sort();
    expect(set).toEqual(read);
    const lambda = resources(hcl, 'aws_lambda_function').this as Hcl;
    expect(lambda.environment[0].variables).toBe('${merge(local.environment, each.value.environment)}');
  });

  it('gives every function its own log group, with validated retention, and logs to it', async () => {
    const hcl = await loadModule('functions');
    const group = resources(hcl, 'aws_cloudwatch_log_group').this as Hcl;
    expect(group.name).toBe('/aws/lambda/${var.name}-${each.key}');
    expect(group.retention_in_days).toBe('${var.log_retention_days}');
    expect(blocks(hcl, 'variable').log_retention_days?.default).toBe(30);
    const lambda = resources(hcl, 'aws_lambda_function').this as Hcl;
    expect(lambda.function_name).toBe('${var.name}-${each.key}');
    expect(lambda.logging_config[0].log_group).toBe('${aws_cloudwatch_log_group.this[each.key].name}');
    expect(lambda.tracing_config[0].mode).toBe('${var.tracing_mode}');
  });

});

describe('workflow', () => {
  const dir = moduleDir('workflow');
  const templatePath = join(dir, 'imgflow.asl.json.tftpl');

  it('renders the template from the contract: templatefile() gets the template_variables local, built from contract.json', async () => {
    const hcl = await loadModule('workflow');
    const machine = resources(hcl, 'aws_sfn_state_machine').this as Hcl;
    expect(machine.definition).toBe('${local.definition}');
    const all = locals(hcl);
    expect(all.contract).toBe('${jsondecode(file("${path.module}/contract.json"))}');
    expect(all.definition).toBe('${templatefile("${path.module}/imgflow.asl.json.tftpl", local.template_variables)}');
    expect(exists(join(dir, 'imgflow.asl.json.tftpl'))).toBe(true);
    const variables = String(all.template_variables);
    expect(variables).toContain('"${step}_function_arn" => try(var.function_arns[step], "")');
    expect(variables).toContain('"${step}_retry_errors" => jsonencode(local.retry_errors[step])');
    expect(variables).not.toMatch(/aws_lambda_function|module\./);
  });

  it('has a placeholder for every step\'s function ARN and Retry list, and no hand-written ErrorEquals', async () => {
    const template = readText(templatePath);
    const placeholders = new Set([...template.matchAll(/(?<!\$)\$\{([A-Za-z_]\w*)\}/g)].map((match) => match[1]));
    for (const name of FUNCTION_NAMES) {
      expect(placeholders.has(`${name}_function_arn`), name).toBe(true);
      expect(placeholders.has(`${name}_retry_errors`), name).toBe(true);
    }
    expect(template).not.toMatch(/"ErrorEquals":\s*\[/);
  });

  it('takes the retry policy and workflow type from the contract when the inputs are unset', async () => {
    const hcl = await loadModule('workflow');
    const type = String(blocks(hcl, 'variable').retry?.type);
    expect(type).toMatch(/interval_seconds\s*=\s*optional\(number\)/);
    expect(blocks(hcl, 'variable').type?.default).toBeNull();
    const all = locals(hcl);
    expect(all.type).toBe('${coalesce(var.type, local.contract.workflow.default_type)}');
    expect((all.retry as Hcl).max_attempts).toBe('${coalesce(var.retry.max_attempts, local.contract.retry.max_attempts)}');
  });

  it('logs to its own log group and traces when enabled', async () => {
    const hcl = await loadModule('workflow');
    const machine = resources(hcl, 'aws_sfn_state_machine').this as Hcl;
    expect(machine.type).toBe('${local.type}');
    expect(machine.logging_configuration).toEqual([
      { log_destination: '${aws_cloudwatch_log_group.this.arn}:*', include_execution_data: '${var.include_execution_data}', level: '${var.log_level}' },
    ]);
    expect(blocks(hcl, 'variable').include_execution_data?.default).toBe(false);
    expect(machine.tracing_configuration).toEqual([{ enabled: '${var.tracing_enabled}' }]);
  });
});

describe('trigger', () => {
  it('matches Object Created events of the upload bucket', async () => {
    const hcl = await loadModule('trigger');
    const rule = resources(hcl, 'aws_cloudwatch_event_rule').this as Hcl;
    expect(rule.event_pattern).toBe('${jsonencode(local.event_pattern)}');
    const pattern = locals(hcl).event_pattern as Hcl;
    expect(pattern.source).toEqual(['aws.s3']);
    expect(pattern['detail-type']).toEqual(['Object Created']);
    expect(pattern.detail).toContain('{ bucket = { name = [var.upload_bucket_name] } }');
    const filters = String(locals(hcl).key_filters);
    expect(filters).toContain('{ prefix = var.key_prefix }');
    expect(filters).toContain('{ suffix = suffix }');
    expect(filters).toContain('wildcard');
  });

  it('starts the state machine with the event itself as input', async () => {
    const target = resources(await loadModule('trigger'), 'aws_cloudwatch_event_target').this as Hcl;
    expect(target.arn).toBe('${var.state_machine_arn}');
    expect(target.role_arn).toBe('${local.role_arn}');
    for (const key of ['input', 'input_path', 'input_transformer']) expect(target[key], key).toBeUndefined();
    expect(target.retry_policy).toEqual([
      { maximum_event_age_in_seconds: '${var.maximum_event_age_in_seconds}', maximum_retry_attempts: '${var.maximum_retry_attempts}' },
    ]);
    expect(target.dead_letter_config).toEqual([{ arn: '${aws_sqs_queue.dead_letter.arn}' }]);
  });

  it('encrypts the dead-letter queue', async () => {
    const queue = resources(await loadModule('trigger'), 'aws_sqs_queue').dead_letter as Hcl;
    expect(queue.sqs_managed_sse_enabled === true || typeof queue.kms_master_key_id === 'string').toBe(true);
  });
});

describe('alarms', () => {
  it('watches failed and timed-out executions, the dead-letter queue, and each function', async () => {
    const hcl = await loadModule('alarms');
    const values = locals(hcl);
    const workflow = values.workflow_alarms as Record<string, Hcl>;
    expect(Object.fromEntries(Object.entries(workflow).map(([name, alarm]) => [name, [alarm.namespace, alarm.metric_name]]))).toEqual({
      'executions-failed': ['AWS/States', 'ExecutionsFailed'],
      'executions-timed-out': ['AWS/States', 'ExecutionsTimedOut'],
      'dead-letters': ['AWS/SQS', 'ApproximateNumberOfMessagesVisible'],
    });
    expect(workflow['dead-letters']).toMatchObject({ comparison: 'GreaterThanThreshold', threshold: 0, namespace: 'AWS/SQS' });
    expect(String(values.function_errors)).toContain('metric_name = "Errors"');
    expect(String(values.function_throttles)).toContain('metric_name = "Throttles"');
    expect(values.alarms).toBe('${merge(local.workflow_alarms, local.function_errors, local.function_throttles, local.sweeper_alarms)}');
    // The sweeper, when there is one: its errors, the jobs a run could not end or notify, its dead-letter queue.
    for (const name of ['sweep-errors', 'sweep-failures', 'sweeper-dead-letters']) expect(String(values.sweeper_alarms)).toContain(`${name} = {`);
    expect(String(values.sweeper_alarms)).toContain('metric_name = var.sweeper.error_metric.name');
    const alarm = resources(hcl, 'aws_cloudwatch_metric_alarm').this as Hcl;
    expect(alarm.for_each).toBe('${local.alarms}');
  });

  it('notifies the alarm topic only when one is given', async () => {
    const hcl = await loadModule('alarms');
    const alarm = resources(hcl, 'aws_cloudwatch_metric_alarm').this as Hcl;
    expect(alarm.alarm_actions).toBe('${local.actions}');
    expect(alarm.ok_actions).toBe('${local.actions}');
    expect(locals(hcl).actions).toBe('${var.alarm_topic_arn == null ? [] : [var.alarm_topic_arn]}');
    expect(blocks(hcl, 'variable').alarm_topic_arn?.default).toBeNull();
  });
});

describe('image-pipeline', () => {
  it('exposes the documented outputs', async () => {
    expect(Object.keys(blocks(await loadModule('image-pipeline'), 'output')).sort()).toEqual(
      [
        ...['dead_letter_queue_url', 'error_topic_arn', 'function_names', 'jobs_table', 'output_bucket', 'state_machine_arn', 'success_topic_arn', 'upload_bucket'],
        // names and ARNs of everything it creates
        ...['alarm_arns', 'dead_letter_queue_arn', 'event_rule_arn', 'event_rule_name', 'function_arns', 'jobs_table_arn', 'jobs_table_index_arns'],
        ...['log_group_arns', 'log_group_names', 'output_bucket_arn', 'role_arns', 'role_policy_json', 'state_machine_name', 'upload_bucket_arn'],
        // the sweeper's (null when sweeper_enabled = false)
        ...['sweeper_dead_letter_queue_arn', 'sweeper_function_arn', 'sweeper_function_name', 'sweeper_log_group_name', 'sweeper_rule_arn'],
        // the backfill's (null when backfill_enabled = false)
        ...['backfill_log_group_name', 'backfill_report_location', 'backfill_state_machine_arn', 'backfill_state_machine_name'],
      ].sort(),
    );
  });

  it('leaves recipe_json null by default, so the functions use their built-in DEFAULT_RECIPE (no copy of it in Terraform)', async () => {
    expect(blocks(await loadModule('image-pipeline'), 'variable').recipe_json?.default).toBeNull();
  });

  it('takes the step defaults (memory, timeout) from the workflow contract, not a copy', async () => {
    const merged = locals(await loadModule('image-pipeline'));
    expect(String(merged.contract)).toContain('../workflow/contract.json');
    expect(String(merged.default_functions)).toContain('local.contract.steps');
  });

  it('passes the workflow static ARN strings from the functions module, never the Lambda resources', async () => {
    const workflow = (await loadModule('image-pipeline')).module.workflow[0] as Hcl;
    expect(workflow.function_arns).toBe('${module.functions.function_arns}');
  });
});
