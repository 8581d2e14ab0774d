import { defineConfig } from 'tsup';

export default defineConfig([
  {
    // index: the library other apps import; main: the `imgflow` executable (bin/imgflow.js).
    entry: ['src/index.ts', 'src/main.ts'],
    format: ['esm'],
    target: 'node20',
    dts: { entry: 'src/index.ts' },
    sourcemap: true,
    // dist/console is the browser build's (below): the two builds run at once.
    clean: ['!console/**'],
  },
  {
    // The web console's script and stylesheet, served from dist/console by the console itself.
    entry: { client: 'src/console/assets/client.ts', console: 'src/console/assets/console.css' },
    outDir: 'dist/console',
    format: ['iife'],
    platform: 'browser',
    target: 'es2022',
    minify: true,
    sourcemap: false,
    clean: true,
    outExtension: () => ({ js: '.js' }),
  },
]);
