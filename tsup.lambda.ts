import { defineConfig } from 'tsup';

/**
 * Modules that stay outside the Lambda bundle and ship in the zip's node_modules: sharp (native
 * binaries per architecture) and heic-decode (libheif-js, LGPL-3.0: kept a separate, replaceable
 * module, and loaded only on the first HEIC).
 */
const SHIPPED_AS_MODULES = ['sharp', 'heic-decode'];

/**
 * The build every Lambda package (packages/fn-*) shares: a library build the local runtime
 * imports, and the bundle that ships in the zip. Each fn package's tsup.config.ts re-exports it.
 */
export default defineConfig([
  // The library build: what the local runtime imports. Workspace packages stay external, so
  // the runtime and the handlers share one copy of each class (instanceof must hold).
  {
    entry: ['src/index.ts'],
    format: ['esm'],
    target: 'node20',
    dts: true,
    sourcemap: true,
    clean: true,
    external: [/^@imgflow\//, 'sharp'],
  },
  // The Lambda build: one bundled file for the zip; SHIPPED_AS_MODULES ship beside it.
  {
    entry: { index: 'src/index.ts' },
    outDir: 'dist/lambda',
    format: ['esm'],
    outExtension: () => ({ js: '.mjs' }),
    platform: 'node',
    target: 'node20',
    bundle: true,
    // Everything else is inlined.
    noExternal: [new RegExp(`^(?!(${SHIPPED_AS_MODULES.join('|')})$)`)],
    external: SHIPPED_AS_MODULES,
    splitting: false,
    minify: true,
    // Error class names are the contract with Retry/Catch in the ASL: minification must keep them.
    esbuildOptions(options) {
      options.keepNames = true;
    },
    banner: { js: "import { createRequire as __imgflowCreateRequire } from 'node:module'; const require = __imgflowCreateRequire(import.meta.url);" },
    sourcemap: false,
    clean: false,
    treeshake: true,
  },
]);
