import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type RetryPolicy, type StepName, STEP_NAMES, contract, functionName, retryErrors, step, taskTimeoutSeconds } from '@imgflow/contract';
import aslValidator from 'asl-validator';

const here = dirname(fileURLToPath(import.meta.url));

/**
 * The one workflow definition, shared with Terraform (infra/modules/workflow). A build copies
 * it next to the bundle (for a global install); in the repository the source is read directly.
 */
export const ASL_TEMPLATE_PATH = [join(here, 'imgflow.asl.json.tftpl'), resolve(here, '../../../infra/modules/workflow/imgflow.asl.json.tftpl')].find((path) =>
  existsSync(path),
) as string;

export type RetrySettings = Omit<RetryPolicy, 'jitter_strategy'>;

/**
 * The values Terraform passes to templatefile() (infra/modules/workflow/locals.tf,
 * `template_variables`), built from the same contract by the same rules; a test renders both
 * and compares the bytes.
 */
export type AslVariables = Record<`${StepName}_function_arn` | `${StepName}_retry_errors` | 'catch_errors' | 'retry_jitter_strategy', string> &
  Record<`retry_${keyof RetrySettings}` | `${StepName}_task_timeout_seconds`, number>;

export function aslTemplateVariables(
  functionArns: Record<StepName, string>,
  retry: Partial<RetrySettings> = {},
  functionTimeouts: Partial<Record<StepName, number>> = {},
): AslVariables {
  const policy: RetrySettings = { ...contract.retry, ...retry };
  const perStep = Object.fromEntries(
    STEP_NAMES.flatMap((name) => [
      [`${name}_function_arn`, functionArns[name]],
      // Terraform's jsonencode() of a list of plain names is JSON.stringify's output.
      [`${name}_retry_errors`, JSON.stringify(retryErrors(name))],
      [`${name}_task_timeout_seconds`, taskTimeoutSeconds(functionTimeouts[name] ?? step(name).timeout_seconds)],
    ]),
  );
  return {
    ...perStep,
    catch_errors: JSON.stringify(contract.workflow.catch_errors),
    retry_interval_seconds: policy.interval_seconds,
    retry_max_attempts: policy.max_attempts,
    retry_backoff_rate: policy.backoff_rate,
    retry_max_delay_seconds: policy.max_delay_seconds,
    retry_jitter_strategy: contract.retry.jitter_strategy,
  } as AslVariables;
}

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '000000000000';
/** The deployment name of the local runtime: its functions are imgflow-validate, imgflow-resize, … */
export const LOCAL_DEPLOYMENT = 'imgflow';

export function localFunctionArn(name: StepName, region = LOCAL_REGION, account = LOCAL_ACCOUNT): string {
  return `arn:aws:lambda:${region}:${account}:function:${functionName(LOCAL_DEPLOYMENT, name)}`;
}

/** The template variables of the local runtime: local function ARNs, the contract's retry policy, then any overrides. */
export function localAslVariables(
  overrides: Partial<AslVariables> = {},
  retry: Partial<RetrySettings> = {},
  functionTimeouts: Partial<Record<StepName, number>> = {},
): AslVariables {
  const arns = Object.fromEntries(STEP_NAMES.map((name) => [name, localFunctionArn(name)])) as Record<StepName, string>;
  return { ...aslTemplateVariables(arns, retry, functionTimeouts), ...overrides };
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

/** The rendered template as text: what Terraform's templatefile() returns for the same variables, byte for byte. */
export async function renderDefinitionText(variables: AslVariables = localAslVariables(), path = ASL_TEMPLATE_PATH): Promise<string> {
  return renderTemplate(await loadTemplate(path), variables as unknown as Record<string, string | number>);
}

export async function renderDefinition(variables: AslVariables = localAslVariables(), path = ASL_TEMPLATE_PATH): Promise<AslDefinition> {
  return JSON.parse(await renderDefinitionText(variables, path)) as AslDefinition;
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
