import { defineConfig } from 'tsup';

// contract.json (in infra/, beside the ASL template) is bundled into dist: nothing reads it at run time.
export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  target: 'node20',
  dts: true,
  sourcemap: true,
  clean: true,
});
