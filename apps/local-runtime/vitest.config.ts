import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    setupFiles: ['./src/polyfill.ts'],
    testTimeout: 120_000,
    hookTimeout: 60_000,
    // Each file starts its own emulators on random loopback ports; files run one at a time
    // so two CPU-heavy pipelines do not compete for the two cores.
    fileParallelism: false,
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results.json' },
  },
});
