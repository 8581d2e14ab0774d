// Writes infra/modules/workflow/contract.schema.json from the contract's zod schema (run after a build).
import { writeFileSync } from 'node:fs';
import { contractJsonSchema } from '../dist/index.js';

const path = new URL('../../../infra/modules/workflow/contract.schema.json', import.meta.url);
writeFileSync(path, `${JSON.stringify(contractJsonSchema(), null, 2)}\n`);
console.log(`wrote ${path.pathname}`);
