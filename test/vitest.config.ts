import { defineConfig } from 'vitest/config';

// End-to-end suites start real processes; run files one at a time on a 2-core machine.
export default defineConfig({
  test: {
    include: ['e2e/**/*.test.ts', 'browser/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    fileParallelism: false,
  },
});
