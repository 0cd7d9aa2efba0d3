// What the suites on `nightshift up --sim` share besides starting it (sim-stack.ts): the built CLI
// as a child process, a run's state read from Redis, waiting for a run to end, and waiting until
// the stack is up (the roles' heartbeats and the dashboard's /healthz).
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fold, parseRunEvent, type RunState } from '@nightshift/core';
import { createRedisClient, createRunStore, type Keys, listHeartbeats } from '@nightshift/redis';
import { waitFor } from '@nightshift/testkit';
import type { SimStack } from './sim-stack.js';
import { ROOT } from './stack.js';

export const CLI_BIN = join(ROOT, 'packages/cli/dist/bin.js');

export type CliResult = { code: number; stdout: string; stderr: string };

/** `nightshift …` as a child process with this environment and working directory. */
export function runCliProcess(
  env: NodeJS.ProcessEnv,
  cwd: string,
  args: readonly string[],
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI_BIN, ...args], { env, cwd }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

export async function readRunState(url: string, keys: Keys, runId: string): Promise<RunState> {
  const client = createRedisClient(url);
  try {
    return fold((await createRunStore(client, keys).read(runId)).map((e) => parseRunEvent(e.event)));
  } finally {
    client.disconnect();
  }
}

/** Waits until the run ends (finished, waiting for a human, aborted or failed); returns its state. */
export function waitRunEnd(
  url: string,
  keys: Keys,
  runId: string,
  stack: SimStack | undefined,
  timeoutMs: number,
): Promise<RunState> {
  return waitFor(
    async () => {
      const s = await readRunState(url, keys, runId);
      return ['finished', 'waiting-human', 'aborted', 'failed'].includes(s.status) ? s : undefined;
    },
    { timeoutMs, intervalMs: 500, what: `run ${runId} to end\n${stack?.output().slice(-3000)}` },
  );
}

/** Waits for a heartbeat of each role, then for the dashboard. */
export async function waitStackUp(
  stack: SimStack | undefined,
  options: { url: string; keys: Keys; roles: readonly string[]; dashboard: string },
): Promise<void> {
  const client = createRedisClient(options.url);
  try {
    for (const role of options.roles)
      await waitFor(async () => (await listHeartbeats(client, options.keys, role)).length > 0, {
        timeoutMs: 90_000,
        what: `a ${role} heartbeat\n${stack?.output().slice(-2000)}`,
      });
  } finally {
    client.disconnect();
  }
  await waitFor(async () => (await fetch(`${options.dashboard}/healthz`).catch(() => undefined))?.ok, {
    timeoutMs: 60_000,
    what: 'the dashboard',
  });
}

/** The environment of a quick simulated stack: its Redis and prefix, folders under `dir`, fast beats. */
export function simEnv(o: {
  dir: string;
  redisUrl: string;
  prefix: string;
  dashboardPort: number;
  workspaces: string;
}): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? o.dir,
    REDIS_URL: o.redisUrl,
    NIGHTSHIFT_PREFIX: o.prefix,
    MEMORY_DIR: join(o.dir, 'memory'),
    WORKSPACE_DIR: o.workspaces,
    DASHBOARD_PORT: String(o.dashboardPort),
    HEARTBEAT_INTERVAL_MS: '500',
    HEARTBEAT_TTL_MS: '3000',
    DIRECTOR_TICK_MS: '200',
    LOG_LEVEL: 'warn',
  };
}

/** After the suite: the stack, then its Redis, then its folder. */
export async function stopAll(
  stack: SimStack | undefined,
  redis: { stop(): Promise<void> } | undefined,
  dir: string,
): Promise<void> {
  await stack?.stop();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
}
