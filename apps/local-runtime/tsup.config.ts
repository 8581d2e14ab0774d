import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  target: 'node20',
  dts: true,
  sourcemap: true,
  clean: true,
  // The workflow template travels with the build, for installs outside the repository.
  onSuccess: 'cp ../../infra/modules/workflow/imgflow.asl.json.tftpl dist/',
});
