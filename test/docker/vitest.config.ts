import { defineConfig } from 'vitest/config';

// The container tier (npm run test:docker): one file, its steps in order, against a real Docker engine.
export default defineConfig({
  test: {
    include: ['docker/**/*.test.ts'],
    testTimeout: 1_200_000,
    hookTimeout: 300_000,
    fileParallelism: false,
  },
});
