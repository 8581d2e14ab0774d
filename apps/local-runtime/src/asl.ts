import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import aslValidator from 'asl-validator';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * The one workflow definition, shared with Terraform (infra/modules/workflow). A build copies
 * it next to the bundle (for a global install); in the repository the source is read directly.
 */
export const ASL_TEMPLATE_PATH = [join(here, 'imgflow.asl.json.tftpl'), resolve(here, '../../../infra/modules/workflow/imgflow.asl.json.tftpl')].find((path) =>
  existsSync(path),
) as string;

/** The values Terraform passes to templatefile(); the local runtime passes the same names. */
export interface AslVariables {
  validate_function_arn: string;
  resize_function_arn: string;
  filter_function_arn: string;
  optimize_function_arn: string;
  notify_function_arn: string;
  retry_interval_seconds: number;
  retry_max_attempts: number;
  retry_backoff_rate: number;
  retry_max_delay_seconds: number;
}

/** Defaults, mirrored by the workflow module's variables.tf. */
export const DEFAULT_RETRY = {
  retry_interval_seconds: 1,
  retry_max_attempts: 3,
  retry_backoff_rate: 2,
  retry_max_delay_seconds: 30,
} as const;

export function localFunctionArn(name: string, region = 'us-east-1', account = '000000000000'): string {
  return `arn:aws:lambda:${region}:${account}:function:imgflow-${name}`;
}

export function localAslVariables(overrides: Partial<AslVariables> = {}): AslVariables {
  return {
    validate_function_arn: localFunctionArn('validate'),
    resize_function_arn: localFunctionArn('resize'),
    filter_function_arn: localFunctionArn('filter'),
    optimize_function_arn: localFunctionArn('optimize'),
    notify_function_arn: localFunctionArn('notify'),
    ...DEFAULT_RETRY,
    ...overrides,
  };
}

/** Placeholders in a template: `${name}` (a `$${literal}` escape is not one). */
export function templatePlaceholders(template: string): string[] {
  return [...new Set([...template.matchAll(/(?<!\$)\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g)].map((match) => match[1] as string))].sort();
}

/**
 * Renders a template with Terraform templatefile() rules: `${name}` is replaced by the value,
 * `$${` is a literal `${`. A placeholder without a value, or a value no placeholder uses, is an error.
 */
export function renderTemplate(template: string, variables: Record<string, string | number>): string {
  const used = new Set<string>();
  const rendered = template.replace(/\$\$\{|\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_match, name: string | undefined) => {
    if (name === undefined) return '${';
    if (!(name in variables)) throw new Error(`The template uses \${${name}} but no value was given for it`);
    used.add(name);
    return String(variables[name]);
  });
  const unused = Object.keys(variables).filter((name) => !used.has(name));
  if (unused.length > 0) throw new Error(`Values given for variables the template does not use: ${unused.join(', ')}`);
  return rendered;
}

export type AslDefinition = { StartAt: string; States: Record<string, AslState> } & Record<string, unknown>;
export type AslState = { Type: string; Resource?: string; Branches?: AslDefinition[]; Next?: string } & Record<string, unknown>;

export async function loadTemplate(path = ASL_TEMPLATE_PATH): Promise<string> {
  return readFile(path, 'utf8');
}

export async function renderDefinition(variables: AslVariables = localAslVariables(), path = ASL_TEMPLATE_PATH): Promise<AslDefinition> {
  const text = renderTemplate(await loadTemplate(path), variables as unknown as Record<string, string | number>);
  return JSON.parse(text) as AslDefinition;
}

export interface AslValidation {
  valid: boolean;
  errors: string[];
}

/** asl-validator mutates its input: it gets a copy. */
export function validateDefinition(definition: AslDefinition): AslValidation {
  const result = aslValidator(structuredClone(definition));
  return { valid: result.isValid, errors: result.errors.map((error) => `${error['Error code']}: ${error.Message}`) };
}

/** Every Task state, including those inside Parallel branches, with its Resource. */
export function taskStates(definition: AslDefinition): Array<{ name: string; resource: string }> {
  return Object.entries(definition.States).flatMap(([name, state]) => {
    if (state.Type === 'Task') return [{ name, resource: String(state.Resource) }];
    if (state.Type === 'Parallel') return (state.Branches ?? []).flatMap((branch) => taskStates(branch));
    return [];
  });
}
