#!/usr/bin/env node
// The README tables of every Terraform folder under infra/ (modules, their examples, envs), in
// terraform-docs' layout: Requirements, Providers, Modules, Resources, Inputs, Outputs, between
// <!-- BEGIN_TF_DOCS --> and <!-- END_TF_DOCS -->. terraform-docs itself cannot be installed
// here; this reads the same .tf files with HashiCorp's HCL parser (@cdktf/hcl2json).
//
//   node scripts/tfdocs.mjs          rewrite the READMEs (pnpm --filter @imgflow/infra docs)
//   node scripts/tfdocs.mjs --check  list the READMEs that are out of date, exit 1 if any
//
// Everything above the BEGIN marker is prose written by people and is kept as it is. A README
// without markers gets them in place of its "## Requirements" or "## Inputs" section and all
// that follows (the generated part always comes last), or at its end.

import { existsSync, readFileSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { convertFiles } from '@cdktf/hcl2json';

export const BEGIN = '<!-- BEGIN_TF_DOCS -->';
export const END = '<!-- END_TF_DOCS -->';
export const DOCS_COMMAND = 'pnpm --filter @imgflow/infra docs';
export const INFRA_DIR = join(dirname(fileURLToPath(import.meta.url)), '..');

const REGISTRY = 'https://registry.terraform.io/providers';

/** Every folder under root holding .tf files, sorted (node_modules and dot folders excluded). */
export function terraformDirs(root = INFRA_DIR) {
  const found = [];
  const walk = (dir) => {
    const entries = readdirSync(dir).sort();
    if (entries.some((entry) => entry.endsWith('.tf'))) found.push(dir);
    for (const entry of entries) {
      const path = join(dir, entry);
      if (entry !== 'node_modules' && !entry.startsWith('.') && statSync(path).isDirectory()) walk(path);
    }
  };
  walk(root);
  return found.sort();
}

/** "${expr}" → "expr": hcl2json wraps every expression so. */
function unwrap(value) {
  const match = /^\$\{([\s\S]*)\}$/.exec(value);
  return match ? match[1] : value;
}

/** One line, safe inside a Markdown table cell. */
function cell(text) {
  return String(text).replace(/\s+/g, ' ').trim().replace(/\|/g, '\\|').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Code span in a table cell: one line, pipes escaped (GitHub splits cells on them even in code). */
function code(text) {
  return `\`${String(text).replace(/\s+/g, ' ').trim().replace(/\|/g, '\\|')}\``;
}

function firstBodies(section) {
  return Object.entries(section ?? {})
    .map(([name, bodies]) => [name, bodies[0]])
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
}

function table(header, rows, empty) {
  if (rows.length === 0) return empty;
  const columns = header.map((column) => (column === 'Required' ? ':--------:' : '-'.repeat(column.length + 2)));
  return [`| ${header.join(' | ')} |`, `|${columns.join('|')}|`, ...rows.map((row) => `| ${row.join(' | ')} |`)].join('\n');
}

function requiredProviders(hcl) {
  const providers = {};
  for (const block of hcl.terraform ?? []) {
    for (const entry of block.required_providers ?? []) Object.assign(providers, entry);
  }
  return providers;
}

function requiredVersion(hcl) {
  return (hcl.terraform ?? []).map((block) => block.required_version).find((version) => version !== undefined);
}

/** Provider local name of a resource type: the part before the first underscore. */
function providerOf(type) {
  return type.split('_')[0];
}

function resourceRows(hcl, providers) {
  const rows = [];
  for (const [mode, section] of [
    ['resource', hcl.resource],
    ['data source', hcl.data],
  ]) {
    for (const [type, byName] of Object.entries(section ?? {})) {
      for (const name of Object.keys(byName)) {
        const provider = providerOf(type);
        const source = providers[provider]?.source ?? (provider === 'terraform' ? 'terraform.io/builtin/terraform' : `hashicorp/${provider}`);
        const kind = mode === 'resource' ? 'resources' : 'data-sources';
        const address = `${type}.${name}`;
        const link = source.startsWith('terraform.io/builtin')
          ? `[${address}](https://developer.hashicorp.com/terraform/language/resources/terraform-data)`
          : `[${address}](${REGISTRY}/${source}/latest/docs/${kind}/${type.slice(provider.length + 1)})`;
        rows.push({ sort: `${address}\u0000${mode}`, row: [link, mode] });
      }
    }
  }
  return rows.sort((a, b) => (a.sort < b.sort ? -1 : a.sort > b.sort ? 1 : 0)).map(({ row }) => row);
}

function providerRows(hcl, providers) {
  const used = new Set();
  for (const section of [hcl.resource, hcl.data]) for (const type of Object.keys(section ?? {})) used.add(providerOf(type));
  for (const name of Object.keys(hcl.provider ?? {})) used.add(name);
  return [...used].sort().map((name) => [code(name), code(providers[name]?.version ?? 'n/a')]);
}

/** A default as JSON (terraform-docs prints HCL; JSON is as exact and needs no formatter). */
function defaultOf(body) {
  return 'default' in body ? code(JSON.stringify(body.default)) : 'n/a';
}

/** The generated part of a folder's README, markers excluded. */
export async function renderDocs(dir) {
  const hcl = await convertFiles(dir);
  const providers = requiredProviders(hcl);

  const requirements = [];
  const version = requiredVersion(hcl);
  if (version !== undefined) requirements.push([code('terraform'), code(version)]);
  for (const [name, spec] of Object.entries(providers).sort(([a], [b]) => (a < b ? -1 : 1))) {
    requirements.push([code(name), code(typeof spec === 'string' ? spec : (spec.version ?? 'n/a'))]);
  }

  const modules = firstBodies(hcl.module).map(([name, body]) => [code(name), code(body.source), code(body.version ?? 'n/a')]);

  const inputs = firstBodies(hcl.variable).map(([name, body]) => [
    code(name),
    cell(body.description ?? 'n/a'),
    code(body.type === undefined ? 'any' : unwrap(body.type)),
    defaultOf(body),
    'default' in body ? 'no' : 'yes',
  ]);

  const outputs = firstBodies(hcl.output).map(([name, body]) => [code(name), cell(body.description ?? 'n/a')]);

  return [
    '## Requirements',
    '',
    table(['Name', 'Version'], requirements, 'No requirements.'),
    '',
    '## Providers',
    '',
    table(['Name', 'Version'], providerRows(hcl, providers), 'No providers.'),
    '',
    '## Modules',
    '',
    table(['Name', 'Source', 'Version'], modules, 'No modules.'),
    '',
    '## Resources',
    '',
    table(['Name', 'Type'], resourceRows(hcl, providers), 'No resources.'),
    '',
    '## Inputs',
    '',
    table(['Name', 'Description', 'Type', 'Default', 'Required'], inputs, 'No inputs.'),
    '',
    '## Outputs',
    '',
    table(['Name', 'Description'], outputs, 'No outputs.'),
  ].join('\n');
}

/** The README text with its generated part replaced (or added). */
export function withDocs(readme, docs) {
  const block = `${BEGIN}\n${docs}\n${END}`;
  const begin = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (begin >= 0 && end > begin) return `${readme.slice(0, begin)}${block}${readme.slice(end + END.length)}`;
  const lines = readme.split('\n');
  const start = lines.findIndex((line) => /^## (Requirements|Inputs)\s*$/.test(line));
  const prose = (start >= 0 ? lines.slice(0, start).join('\n') : readme).trimEnd();
  return `${prose}\n\n${block}\n`;
}

function readmePath(dir) {
  return join(dir, 'README.md');
}

function titleOf(dir) {
  return `# ${relative(INFRA_DIR, dir)}\n`;
}

/** What a folder's README should be. */
export async function expectedReadme(dir) {
  const path = readmePath(dir);
  const current = existsSync(path) ? readFileSync(path, 'utf8') : titleOf(dir);
  return withDocs(current, await renderDocs(dir));
}

/** Folders whose README differs from what the generator writes. */
export async function staleReadmes(root = INFRA_DIR) {
  const stale = [];
  for (const dir of terraformDirs(root)) {
    const path = readmePath(dir);
    const current = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
    if (current !== (await expectedReadme(dir))) stale.push(relative(root, dir));
  }
  return stale;
}

async function main(args) {
  if (args.includes('--check')) {
    const stale = await staleReadmes();
    for (const dir of stale) console.error(`${dir}/README.md is out of date`);
    if (stale.length > 0) {
      console.error(`Run \`${DOCS_COMMAND}\`.`);
      process.exit(1);
    }
    return;
  }
  for (const dir of terraformDirs()) {
    const path = readmePath(dir);
    const next = await expectedReadme(dir);
    const current = existsSync(path) ? readFileSync(path, 'utf8') : undefined;
    if (current !== next) {
      writeFileSync(path, next);
      console.log(`updated ${relative(INFRA_DIR, path)}`);
    }
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  await main(process.argv.slice(2));
}
