import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // The engine needs Promise.withResolvers on Node 20: the local runtime's polyfill comes first.
    setupFiles: ['../local-runtime/src/polyfill.ts'],
    env: { AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' },
    testTimeout: 180_000,
    hookTimeout: 120_000,
    // Each file starts its own emulators and runs image work; one file at a time on two cores.
    fileParallelism: false,
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results.json' },
  },
});
