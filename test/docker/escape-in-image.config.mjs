// The sandbox escape suite (issue 17) run inside the image, in an agent container with the compose file's
// settings: test/docker/stack.test.ts mounts this repository read-only at /suite and starts
// `docker compose run builder node /suite/node_modules/vitest/vitest.mjs run --config <this file>
// --configLoader native`. Plain object, no imports: the native loader reads it in place, so nothing is
// written next to it (the mount is read-only); caches go to the container's /tmp, results to /results.
const here = new URL('.', import.meta.url).pathname;

export default {
  root: `${here}..`,
  cacheDir: '/tmp/nightshift-vite-cache',
  test: {
    include: ['e2e/sandbox-escape.test.ts', 'e2e/sandbox-contain.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 120_000,
    fileParallelism: false,
    reporters: ['default', 'json'],
    outputFile: { json: '/results/escape-suite.json' },
  },
};
