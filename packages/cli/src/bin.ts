#!/usr/bin/env node
// The `nightshift` executable: reads config (lazily, so --help works without it), wires the
// real bus and process streams into the program, and turns Ctrl-C into a clean stop.
import { loadConfig } from '@nightshift/config';
import { createBus, createKeys, redactRedisUrl } from '@nightshift/redis';
import type { CliDeps } from './deps.js';
import { runCli } from './program.js';

const controller = new AbortController();
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => controller.abort());
}

let lastWarning = '';
const deps: CliDeps = {
  openBus() {
    const config = loadConfig(process.env);
    return createBus({
      url: config.redis.url,
      keys: createKeys(config.redis.prefix),
      streamMaxLen: config.redis.streamMaxLen,
      maxDeliveries: config.redis.maxDeliveries,
      claimIdleMs: config.redis.claimIdleMs,
      // A one-shot command should fail fast when Redis is down, not retry for a minute.
      connection: { maxRetriesPerRequest: 1 },
      onError(error) {
        // Reconnect loops repeat the same error; say it once per change.
        const text = `warning: redis ${redactRedisUrl(config.redis.url)}: ${error.message}`;
        if (text !== lastWarning) process.stderr.write(`${text}\n`);
        lastWarning = text;
      },
    });
  },
  stdout: (text) => process.stdout.write(text),
  stderr: (text) => process.stderr.write(text),
  signal: controller.signal,
  env: process.env,
};

process.exitCode = await runCli(process.argv, deps);
