import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BEGIN, DOCS_COMMAND, END, expectedReadme, renderDocs, terraformDirs, withDocs } from '../scripts/tfdocs.mjs';
import { INFRA_DIR, label, terraformDirs as hclTerraformDirs } from './hcl.js';

/**
 * The README tables (Requirements, Providers, Modules, Resources, Inputs, Outputs) are generated
 * from the .tf files by scripts/tfdocs.mjs, as terraform-docs would; this fails when a README
 * and its folder's .tf files have drifted apart.
 */
describe('README tables (terraform-docs layout)', () => {
  it('the generator sees the same Terraform folders as the tests', () => {
    expect(terraformDirs(INFRA_DIR)).toEqual(hclTerraformDirs());
  });

  it.each(terraformDirs(INFRA_DIR).map((dir) => [label(dir), dir]))('%s/README.md is up to date', async (_name, dir) => {
    const path = join(dir, 'README.md');
    expect(existsSync(path), `${label(path)} is missing: run \`${DOCS_COMMAND}\``).toBe(true);
    const current = readFileSync(path, 'utf8');
    expect(current.includes(BEGIN) && current.includes(END), `${label(path)} has no ${BEGIN} … ${END}: run \`${DOCS_COMMAND}\``).toBe(true);
    expect(current === (await expectedReadme(dir)), `${label(path)} is out of date: run \`${DOCS_COMMAND}\``).toBe(true);
  });

  it('renders every section, with inputs and outputs sorted by name', async () => {
    const docs = await renderDocs(join(INFRA_DIR, 'modules', 'ledger'));
    expect(docs.match(/^## .+$/gm)).toEqual(['## Requirements', '## Providers', '## Modules', '## Resources', '## Inputs', '## Outputs']);
    expect(docs).toContain('| Name | Description | Type | Default | Required |');
    expect(docs).toContain('| `name` | Name of the job ledger table (IMGFLOW_JOBS_TABLE). | `string` | n/a | yes |');
    expect(docs).toContain('| `deletion_protection_enabled` |');
    expect(docs.indexOf('`deletion_protection_enabled`')).toBeLessThan(docs.indexOf('`kms_key_arn`'));
    expect(docs).toContain('[aws_dynamodb_table.this](https://registry.terraform.io/providers/hashicorp/aws/latest/docs/resources/dynamodb_table) | resource |');
  });

  it('keeps the prose above the markers and replaces only what is between them', () => {
    const readme = `# x\n\nProse.\n\n${BEGIN}\nold tables\n${END}\n`;
    expect(withDocs(readme, 'new tables')).toBe(`# x\n\nProse.\n\n${BEGIN}\nnew tables\n${END}\n`);
    // A README without markers: the hand-written Inputs section and all after it make way.
    expect(withDocs('# x\n\nProse.\n\n## Inputs\n\n| a |\n', 'tables')).toBe(`# x\n\nProse.\n\n${BEGIN}\ntables\n${END}\n`);
  });

  it('is deterministic', async () => {
    const dir = join(INFRA_DIR, 'modules', 'image-pipeline');
    expect(await renderDocs(dir)).toBe(await renderDocs(dir));
  });
});
