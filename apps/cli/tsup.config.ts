import { defineConfig } from 'tsup';

export default defineConfig({
  // index: the library other apps import; main: the `imgflow` executable (bin/imgflow.js).
  entry: ['src/index.ts', 'src/main.ts'],
  format: ['esm'],
  target: 'node20',
  dts: { entry: 'src/index.ts' },
  sourcemap: true,
  clean: true,
});
