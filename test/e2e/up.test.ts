// Issue 10: `nightshift up --sim` runs the services as supervised processes; a builder killed
// with SIGKILL is restarted with backoff, the run still completes, and Ctrl-C stops everything.
import { type ChildProcess, spawn } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fold, parseRunEvent } from '@nightshift/core';
import { createKeys, createRedisClient, createRunStore, enqueueRun, listHeartbeats } from '@nightshift/redis';
import { freePort, startRedis, type TestRedis, uniquePrefix, waitFor } from '@nightshift/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './support/stack.js';

let redis: TestRedis;
let up: ChildProcess;
let output = '';
const dir = mkdtempSync(join(tmpdir(), 'ns-up-'));
const prefix = uniquePrefix();
const keys = createKeys(prefix);

beforeAll(async () => {
  redis = await startRedis();
  up = spawn(
    process.execPath,
    [join(ROOT, 'packages/cli/dist/bin.js'), 'up', '--sim', '--no-colour', '--data', dir],
    {
      env: {
        PATH: process.env.PATH ?? '',
        HOME: process.env.HOME ?? dir,
        REDIS_URL: redis.url,
        NIGHTSHIFT_PREFIX: prefix,
        MEMORY_DIR: join(dir, 'memory'),
        WORKSPACE_DIR: join(dir, 'workspaces'),
        DASHBOARD_PORT: String(await freePort()),
        HEARTBEAT_INTERVAL_MS: '500',
        HEARTBEAT_TTL_MS: '3000',
        DIRECTOR_TICK_MS: '200',
        QUEUE_LOCK_DURATION_MS: '5000',
        QUEUE_STALLED_INTERVAL_MS: '2000',
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  up.stdout?.on('data', (c: Buffer) => {
    output += c.toString();
  });
  up.stderr?.on('data', (c: Buffer) => {
    output += c.toString();
  });
});

afterAll(async () => {
  if (up && up.exitCode === null) up.kill('SIGKILL');
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('nightshift up --sim', () => {
  it('says the model is simulated, restarts a killed builder, completes the run, stops on Ctrl-C', async () => {
    expect(
      await waitFor(() => output.includes('SIMULATED MODEL'), { timeoutMs: 30_000, what: 'the banner' }),
    ).toBe(true);
    const client = createRedisClient(redis.url);
    try {
      const builder = await waitFor(async () => (await listHeartbeats(client, keys, 'builder'))[0], {
        timeoutMs: 60_000,
        what: `a builder heartbeat\n${output.slice(-2000)}`,
      });
      process.kill(builder.pid, 'SIGKILL');
      await waitFor(() => /builder\s+\| exited \(SIGKILL\); restarting/.test(output), {
        timeoutMs: 30_000,
        what: 'the supervisor to notice the kill',
      });
      await waitFor(
        async () => (await listHeartbeats(client, keys, 'builder')).some((b) => b.pid !== builder.pid),
        {
          timeoutMs: 60_000,
          what: 'the restarted builder',
        },
      );
      // Under WORKSPACE_DIR, one of the default workspace roots (issue 18 §7).
      const workspace = join(dir, 'workspaces', 'ws-copy');
      cpSync(join(ROOT, 'examples/sample-workspace'), workspace, { recursive: true });
      const { runId } = await enqueueRun(
        redis.url,
        { task: 'Fix sum() so npm test passes', workspace },
        { prefix },
      );
      const store = createRunStore(client, keys);
      const status = await waitFor(
        async () => {
          const state = fold((await store.read(runId)).map((e) => parseRunEvent(e.event)));
          return ['finished', 'waiting-human', 'aborted', 'failed'].includes(state.status)
            ? state.status
            : undefined;
        },
        { timeoutMs: 180_000, intervalMs: 500, what: `run ${runId} to end\n${output.slice(-3000)}` },
      );
      expect(status).toBe('finished');
    } finally {
      client.disconnect();
    }
    const exited = new Promise<number | null>((resolve) => up.once('exit', (code) => resolve(code)));
    up.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(output).toMatch(/stopping: director → agents/);
  });
});
