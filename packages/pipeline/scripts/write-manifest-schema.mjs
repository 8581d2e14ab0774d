// Writes docs/manifest.schema.json from the manifest's zod schema (run after a build).
import { writeFileSync } from 'node:fs';
import { manifestJsonSchema } from '../dist/index.js';

const path = new URL('../../../docs/manifest.schema.json', import.meta.url);
writeFileSync(path, `${JSON.stringify(manifestJsonSchema(), null, 2)}\n`);
console.log(`wrote ${path.pathname}`);
