// Issue 22: the scripts in examples/scripts run against a real stack (`nightshift up --sim`): a Node
// script on @nightshift/client, the same contract with nothing but BullMQ (the proof for other
// languages), and curl against the dashboard's REST API. Each must start a run and see it through.
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, startRedis, type TestRedis, uniquePrefix, waitFor } from '@nightshift/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCommand } from './support/run-command.js';
import { type SimStack, startSimStack } from './support/sim-stack.js';
import { ROOT } from './support/stack.js';

let redis: TestRedis;
let stack: SimStack | undefined;
let dashboardPort = 0;
const dir = mkdtempSync(join(tmpdir(), 'ns-examples-'));
const prefix = uniquePrefix();

/** A copy of the sample workspace under WORKSPACE_DIR (a workspace root), which the team can fix. */
function sampleWorkspace(name: string): string {
  const workspace = join(dir, 'workspaces', name);
  cpSync(join(ROOT, 'examples/sample-workspace'), workspace, { recursive: true });
  return workspace;
}

function run(
  command: string,
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number | null; out: string }> {
  return runCommand(command, args, {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', REDIS_URL: redis.url, NIGHTSHIFT_PREFIX: prefix, ...env },
  });
}

beforeAll(async () => {
  redis = await startRedis();
  dashboardPort = await freePort();
  stack = startSimStack({
    dataDir: dir,
    env: {
      PATH: process.env.PATH ?? '',
      HOME: process.env.HOME ?? dir,
      REDIS_URL: redis.url,
      NIGHTSHIFT_PREFIX: prefix,
      MEMORY_DIR: join(dir, 'memory'),
      WORKSPACE_DIR: join(dir, 'workspaces'),
      DASHBOARD_PORT: String(dashboardPort),
      DIRECTOR_TICK_MS: '200',
      LOG_LEVEL: 'warn',
    },
  });
  await waitFor(
    async () => {
      const res = await fetch(`http://127.0.0.1:${dashboardPort}/healthz`).catch(() => undefined);
      return res?.ok === true;
    },
    { timeoutMs: 90_000, what: `the stack's dashboard\n${stack?.output().slice(-2000)}` },
  );
});

afterAll(async () => {
  await stack?.stop();
  await redis?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('examples/scripts against a running stack', () => {
  it('follow-run.mjs starts a run with @nightshift/client and follows it to finished', async () => {
    const r = await run(process.execPath, [
      'examples/scripts/follow-run.mjs',
      'Fix sum() so npm test passes',
      sampleWorkspace('ws-client'),
    ]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/^started run_\S+$/m);
    expect(r.out).toMatch(/: ended \(finished\)$/m);
  });

  it('enqueue-bullmq.mjs enqueues with nothing but BullMQ; the Director creates the run, or refuses a bad one with the reason', async () => {
    const r = await run(process.execPath, [
      'examples/scripts/enqueue-bullmq.mjs',
      'Fix sum() so npm test passes',
      sampleWorkspace('ws-bullmq'),
    ]);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/^enqueued job (script\w+): run_\1$/m);
    expect(r.out).toMatch(/^run_script\w+ created by the Director$/m);
    // A job outside the workspace roots is refused by the Director with the reason: the contract's failure path.
    const refused = await run(process.execPath, [
      'examples/scripts/enqueue-bullmq.mjs',
      'Touch /etc',
      '/etc',
    ]);
    expect(refused.code, refused.out).toBe(1);
    expect(refused.out).toMatch(/refused: .*workspace/);
  });

  it('curl-api.sh starts a run over REST and polls it to finished', async () => {
    const r = await run(
      'bash',
      ['examples/scripts/curl-api.sh', 'Fix sum() so npm test passes', sampleWorkspace('ws-curl')],
      {
        DASHBOARD_URL: `http://127.0.0.1:${dashboardPort}`,
      },
    );
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/^started run_\S+$/m);
    expect(r.out).toMatch(/^run_\S+: finished$/m);
  });

  it('each script says how to use it when the task is missing (exit 2, nothing enqueued)', async () => {
    const node = await run(process.execPath, ['examples/scripts/follow-run.mjs']);
    expect(node.code).toBe(2);
    expect(node.out).toMatch(/usage: node follow-run.mjs/);
    const raw = await run(process.execPath, ['examples/scripts/enqueue-bullmq.mjs']);
    expect(raw.code).toBe(2);
  });
});
