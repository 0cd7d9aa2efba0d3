import { defineConfig } from 'vitest/config';

// Integration tests spawn processes and Redis servers: generous timeouts, never timed assertions.
export default defineConfig({
  test: { include: ['src/**/*.test.ts'], testTimeout: 120_000, hookTimeout: 120_000 },
});
