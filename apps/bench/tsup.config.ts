import { defineConfig } from 'tsup';

export default defineConfig({
  // main: the command; worker: one variant in its own process (exact CPU and peak RSS); index: the library the tests use.
  entry: ['src/main.ts', 'src/worker.ts', 'src/index.ts'],
  format: ['esm'],
  target: 'node20',
  dts: { entry: 'src/index.ts' },
  sourcemap: true,
  clean: true,
});
