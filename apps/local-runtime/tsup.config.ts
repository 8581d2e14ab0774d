import { copyFile } from 'node:fs/promises';
import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/emulator-main.ts'],
  format: ['esm'],
  target: 'node20',
  dts: true,
  sourcemap: true,
  clean: true,
  // The workflow template and the rendered IAM policies travel with the build, for installs outside the repository.
  async onSuccess() {
    await copyFile('../../infra/modules/workflow/imgflow.asl.json.tftpl', 'dist/imgflow.asl.json.tftpl');
    await copyFile('src/iam/rendered-policies.json', 'dist/rendered-policies.json');
  },
});
