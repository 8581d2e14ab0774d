import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * The identity policies of image-pipeline's roles as Terraform renders them for the deployment
 * the local runtime stands in for (name imgflow, us-east-1, account 000000000000), written by
 * `pnpm --filter @imgflow/infra policies`; infra/tests/policies.test.ts proves the file equal to
 * Terraform's output. A build copies it next to the bundle; in the repository the source is read.
 */
export const RENDERED_POLICIES_PATH = [join(here, 'rendered-policies.json'), join(here, '..', 'src', 'iam', 'rendered-policies.json')].find((path) => existsSync(path)) as string;

/** The five functions (by step), the state machine (workflow), EventBridge's rule (trigger) and the scheduled sweeper (sweep). */
export const ROLE_KEYS = ['validate', 'resize', 'filter', 'optimize', 'notify', 'workflow', 'trigger', 'sweep'] as const;
export type RoleKey = (typeof ROLE_KEYS)[number];

export interface PolicyStatement {
  Sid?: string;
  Effect: 'Allow' | 'Deny';
  Action?: string | string[];
  NotAction?: string | string[];
  Resource?: string | string[];
  NotResource?: string | string[];
  Condition?: Record<string, Record<string, string | string[]>>;
}

export interface PolicyDocument {
  Version: string;
  Statement: PolicyStatement[];
}

export interface RenderedRole {
  roleName: string;
  roleArn: string;
  policy: PolicyDocument;
}

export interface RenderedPolicies {
  deployment: { name: string; region: string; accountId: string };
  /** Names and ARNs of what image-pipeline creates (its outputs), for the same deployment. */
  resources: {
    upload_bucket: string;
    output_bucket: string;
    jobs_table: string;
    success_topic_arn: string;
    error_topic_arn: string;
    state_machine_name: string;
    state_machine_arn: string;
    function_names: Record<string, string>;
    function_arns: Record<string, string>;
    event_rule_arn: string;
    dead_letter_queue_arn: string;
  };
  roles: Record<RoleKey, RenderedRole>;
}

let cached: RenderedPolicies | undefined;

/** The committed rendering (read once). */
export function renderedPolicies(): RenderedPolicies {
  if (!cached) {
    if (!RENDERED_POLICIES_PATH) throw new Error('rendered-policies.json is missing: run pnpm --filter @imgflow/infra policies');
    const { comment: _comment, ...rendered } = JSON.parse(readFileSync(RENDERED_POLICIES_PATH, 'utf8')) as RenderedPolicies & { comment?: string };
    cached = rendered;
  }
  return cached;
}

/** Statement ids to take out of a role's rendered policy: the permission a test removes. */
export type PolicyRemovals = Partial<Record<RoleKey, readonly string[]>>;

/**
 * The rendered roles without the given statements. An unknown role or Sid is an error, so a
 * test that removes a permission cannot silently remove nothing.
 */
export function withoutStatements(roles: Record<RoleKey, RenderedRole>, removals: PolicyRemovals = {}): Record<RoleKey, RenderedRole> {
  const result = structuredClone(roles);
  for (const [role, sids] of Object.entries(removals) as Array<[RoleKey, readonly string[]]>) {
    const rendered = result[role];
    if (!rendered) throw new Error(`No role "${role}" to remove statements from; the roles are ${ROLE_KEYS.join(', ')}`);
    for (const sid of sids) {
      const before = rendered.policy.Statement.length;
      rendered.policy.Statement = rendered.policy.Statement.filter((statement) => statement.Sid !== sid);
      if (rendered.policy.Statement.length === before) {
        throw new Error(`The ${role} role has no statement "${sid}"; it has ${rendered.policy.Statement.map((statement) => statement.Sid).join(', ')}`);
      }
    }
  }
  return result;
}
