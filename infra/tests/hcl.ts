import { FUNCTION_KEYS, STEP_NAMES, SWEEPER_FUNCTION } from '@imgflow/contract';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { convertFiles, parse } from '@cdktf/hcl2json';

export { parse };

/** hcl2json's output: blocks are arrays of bodies, expressions are "${…}" strings. */
// biome-ignore lint/suspicious/noExplicitAny: the shape of parsed HCL is open-ended by nature.
export type Hcl = Record<string, any>;

export const INFRA_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');
export const MODULES_DIR = join(INFRA_DIR, 'modules');
export const ENVS_DIR = join(INFRA_DIR, 'envs');

export const MODULE_NAMES = ['storage', 'ledger', 'notifications', 'functions', 'workflow', 'trigger', 'sweeper', 'backfill', 'alarms', 'image-pipeline'] as const;
export type ModuleName = (typeof MODULE_NAMES)[number];

/** The Lambda functions of the functions module: the workflow contract's steps. */
export const FUNCTION_NAMES = STEP_NAMES;

/** Every zip a deployment needs (<name>-<arch>.zip): the steps', then the sweeper's. */
export const ARTIFACT_NAMES = FUNCTION_KEYS;

/** The modules that create IAM roles; image-pipeline keys their roles by step, "workflow", "trigger", "sweep" and "backfill". */
export const ROLE_MODULES = ['functions', 'workflow', 'trigger', 'sweeper', 'backfill'] as const;
export const ROLE_KEYS = [...FUNCTION_NAMES, 'workflow', 'trigger', SWEEPER_FUNCTION, 'backfill'];

/** image-pipeline's examples (terraform-aws-modules layout: each calls it with source = "../../"). */
export const EXAMPLE_NAMES = ['complete', 'existing-upload-bucket', 'minimal'] as const;
export const EXAMPLES_DIR = join(MODULES_DIR, 'image-pipeline', 'examples');

export function exampleDir(name: string): string {
  return join(EXAMPLES_DIR, name);
}

/** What every versions.tf pins: mock_provider in the tests needs Terraform 1.7; 5.100 is the aws provider the offline tests validate with, and 6.x is allowed. */
export const REQUIRED_VERSION = '>= 1.7';
export const AWS_PROVIDER = { source: 'hashicorp/aws', version: '>= 5.100, < 7.0' };

export function moduleDir(name: string): string {
  return join(MODULES_DIR, name);
}

/** Every folder under infra/ holding .tf files (node_modules excluded). */
export function terraformDirs(root: string = INFRA_DIR): string[] {
  const found: string[] = [];
  const walk = (dir: string) => {
    const entries = readdirSync(dir);
    if (entries.some((entry) => entry.endsWith('.tf'))) found.push(dir);
    for (const entry of entries) {
      const path = join(dir, entry);
      if (entry !== 'node_modules' && !entry.startsWith('.') && statSync(path).isDirectory()) walk(path);
    }
  };
  walk(root);
  return found.sort();
}

export function tfFiles(dir: string): string[] {
  return readdirSync(dir)
    .filter((file) => file.endsWith('.tf'))
    .sort()
    .map((file) => join(dir, file));
}

export function label(path: string): string {
  return relative(INFRA_DIR, path);
}

const cache = new Map<string, Promise<Hcl>>();

/** One folder's .tf files merged as Terraform sees them (convertFiles does not descend). */
export function loadDir(dir: string): Promise<Hcl> {
  let loaded = cache.get(dir);
  if (!loaded) {
    loaded = convertFiles(dir) as Promise<Hcl>;
    cache.set(dir, loaded);
  }
  return loaded;
}

export function loadModule(name: string): Promise<Hcl> {
  return loadDir(moduleDir(name));
}

export function parseFile(path: string): Promise<Hcl> {
  return parse(label(path), readFileSync(path, 'utf8')) as Promise<Hcl>;
}

export function readText(path: string): string {
  return readFileSync(path, 'utf8');
}

export function exists(path: string): boolean {
  return existsSync(path);
}

/** `name → first body` of a block type such as variable or output. */
export function blocks(hcl: Hcl, type: string): Record<string, Hcl> {
  const section = (hcl[type] ?? {}) as Record<string, Hcl[]>;
  return Object.fromEntries(Object.entries(section).map(([name, bodies]) => [name, bodies[0] as Hcl]));
}

/** `name → body` of one resource (or data source) type. */
export function resources(hcl: Hcl, type: string, section: 'resource' | 'data' = 'resource'): Record<string, Hcl> {
  const byType = (hcl[section]?.[type] ?? {}) as Record<string, Hcl[]>;
  return Object.fromEntries(Object.entries(byType).map(([name, bodies]) => [name, bodies[0] as Hcl]));
}

export function locals(hcl: Hcl): Hcl {
  return Object.assign({}, ...((hcl.locals ?? []) as Hcl[]));
}

export interface Statement {
  sid?: string;
  effect: 'Allow' | 'Deny';
  actions: string[];
  notActions: unknown;
  resources: string[];
  conditions: Hcl[];
  /** Present only under a dynamic "statement" block. */
  forEach?: string;
}

function toStatement(body: Hcl, forEach?: string): Statement {
  const resourcesOf = body.resources;
  return {
    sid: body.sid,
    effect: body.effect ?? 'Allow',
    actions: (body.actions ?? []) as string[],
    notActions: body.not_actions,
    resources: Array.isArray(resourcesOf) ? (resourcesOf as string[]) : resourcesOf === undefined ? [] : [String(resourcesOf)],
    conditions: (body.condition ?? []) as Hcl[],
    ...(forEach ? { forEach } : {}),
  };
}

/** A dynamic statement block that renders the caller's extra_policy_statements (checked by their variable's validation). */
function isCallerSupplied(block: Hcl): boolean {
  return /\bextra_policy_statements\b/.test(String(block.for_each));
}

/** Every statement the module writes in one aws_iam_policy_document, static and dynamic (the caller's extra statements excluded). */
export function statementsOf(document: Hcl): Statement[] {
  const fixed = ((document.statement ?? []) as Hcl[]).map((body) => toStatement(body));
  const dynamic = ((document.dynamic?.statement ?? []) as Hcl[])
    .filter((block) => !isCallerSupplied(block))
    .flatMap((block) => ((block.content ?? []) as Hcl[]).map((body) => toStatement(body, block.for_each as string)));
  return [...fixed, ...dynamic];
}

/** The dynamic statement blocks of one aws_iam_policy_document that render the caller's extra_policy_statements. */
export function extraStatementBlocks(document: Hcl): Hcl[] {
  return ((document.dynamic?.statement ?? []) as Hcl[]).filter(isCallerSupplied);
}

/** Every aws_iam_policy_document of a folder, keyed "<document>". */
export function policyDocuments(hcl: Hcl): Record<string, Hcl> {
  return resources(hcl, 'aws_iam_policy_document', 'data');
}

/** The module's local values substituted where a string is exactly "${local.x}" and x is a string. */
export function resolveLocal(hcl: Hcl, value: string): string {
  const match = /^\$\{local\.([A-Za-z_]\w*)\}$/.exec(value);
  if (!match?.[1]) return value;
  const resolved = locals(hcl)[match[1]];
  return typeof resolved === 'string' ? resolved : value;
}

/** JSON text of everything in a folder except the variable blocks: where var.x can be used. */
export function bodyWithoutVariables(hcl: Hcl): string {
  const { variable: _variables, ...rest } = hcl;
  return JSON.stringify(rest);
}

export function variableReferences(text: string): Set<string> {
  return new Set([...text.matchAll(/\bvar\.([A-Za-z_][\w-]*)/g)].map((match) => match[1] as string));
}

/** A Markdown section's text: from its heading to the next heading of the same or a higher level. */
export function markdownSection(markdown: string, heading: string): string | undefined {
  const lines = markdown.split('\n');
  const start = lines.findIndex((line) => /^#{1,6} /.test(line) && line.replace(/^#+ /, '').trim() === heading);
  if (start < 0) return undefined;
  const level = (/^#+/.exec(lines[start] as string)?.[0] ?? '#').length;
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((line) => {
    const hashes = /^(#+) /.exec(line)?.[1];
    return hashes !== undefined && hashes.length <= level;
  });
  return (end < 0 ? rest : rest.slice(0, end)).join('\n');
}

/** First-column names of a Markdown table (backticks removed). */
export function tableNames(section: string): string[] {
  return section
    .split('\n')
    .filter((line) => line.startsWith('|') && !/^\|\s*-/.test(line))
    .slice(1)
    .map((line) => (line.split('|')[1] ?? '').trim().replace(/`/g, ''));
}
