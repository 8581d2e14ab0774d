import { copyFile } from 'node:fs/promises';
import { defineConfig } from 'tsup';

export default defineConfig({
  // lambda-entry: each Lambda execution environment (a forked child) runs the built file.
  entry: { index: 'src/index.ts', 'emulator-main': 'src/emulator-main.ts', 'lambda-entry': 'src/lambda/entry.ts' },
  format: ['esm'],
  target: 'node20',
  dts: true,
  sourcemap: true,
  clean: true,
  // The workflow and backfill templates and the rendered IAM policies travel with the build, for installs outside the repository.
  async onSuccess() {
    await copyFile('../../infra/modules/workflow/imgflow.asl.json.tftpl', 'dist/imgflow.asl.json.tftpl');
    await copyFile('../../infra/modules/backfill/backfill.asl.json.tftpl', 'dist/backfill.asl.json.tftpl');
    await copyFile('src/iam/rendered-policies.json', 'dist/rendered-policies.json');
  },
});
