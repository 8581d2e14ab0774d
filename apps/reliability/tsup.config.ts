import { defineConfig } from 'tsup';

export default defineConfig({
  // index: the library; main: `imgflow-reliability` (make reliability); child: the process one large image runs in.
  entry: ['src/index.ts', 'src/main.ts', 'src/child.ts'],
  format: ['esm'],
  target: 'node20',
  dts: { entry: ['src/index.ts'] },
  sourcemap: true,
  clean: true,
});
