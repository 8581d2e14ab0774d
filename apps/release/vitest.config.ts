import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // Packaging runs pnpm deploy and zips tens of MB: give it time.
    testTimeout: 300_000,
    reporters: ['default', 'json'],
    outputFile: { json: 'test-results.json' },
  },
});
