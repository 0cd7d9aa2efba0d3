// The live half of the compose-as-processes check: each Nightshift service of docker-compose.yml started as a
// local process with that service's environment (hosts → a test Redis and the fake Ollama/Anthropic), until
// every one answers GET /healthz with 200; then all are stopped with SIGTERM, as `docker compose stop` does.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FakeAnthropic, FakeOllama, TestRedis } from '@nightshift/testkit';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { envFile, loadCompose, processOptions, repoRoot, TEST_SECRETS } from './compose-fixtures.js';
import { composeToProcesses, type ServiceProcess } from './compose-processes.js';

interface Running {
  process: ServiceProcess;
  child: ChildProcess;
  /** The last lines it printed, for the failure message. */
  output: string[];
}

const HEALTH_TIMEOUT_MS = 120_000; // generous: ten Node processes starting at once on a loaded 2-core machine
const STOP_TIMEOUT_MS = 60_000;

async function healthy(port: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(5_000) });
    await response.body?.cancel();
    return response.status === 200;
  } catch (error) {
    if (error instanceof Error) return false; // not listening yet, or timed out: poll again
    throw error;
  }
}

function describeRun(run: Running): string {
  const status = run.child.exitCode === null ? 'running' : `exited ${run.child.exitCode}`;
  return `${run.process.name} (${status}):\n${run.output.join('')}`;
}

/** SIGTERM, then SIGKILL after STOP_TIMEOUT_MS; resolves to the exit code, or the signal that ended it. */
async function stop(run: Running): Promise<number | string | null> {
  const { child } = run;
  if (child.exitCode === null && child.signalCode === null) {
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  }
  return child.exitCode ?? child.signalCode;
}

export function registerProcessSuite(): void {
  let redis: TestRedis | undefined;
  let ollama: FakeOllama | undefined;
  let anthropic: FakeAnthropic | undefined;
  let dataDir: string | undefined;
  const runs: Running[] = [];

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'ns-compose-processes-'));
    const testkit = await import('@nightshift/testkit');
    // A private Redis with the compose password, so REDIS_URL is used exactly as compose writes it.
    redis = await testkit.startRedis({ password: TEST_SECRETS.REDIS_PASSWORD });
    ollama = await testkit.startFakeOllama();
    anthropic = await testkit.startFakeAnthropic();
    mkdirSync(join(dataDir, 'workspaces'));
    mkdirSync(join(dataDir, 'memory'));
    const ports: number[] = [];
    for (let i = 0; i < 30; i++) ports.push(await testkit.freePort());
    const processes = composeToProcesses(
      loadCompose(),
      processOptions({
        vars: { ...envFile, NIGHTSHIFT_PREFIX: redis.prefix },
        envFiles: { '.env': { ...envFile, ANTHROPIC_BASE_URL: anthropic.url } },
        rewriteHosts: {
          redis: new URL(redis.url).host,
          ollama: new URL(ollama.url).host,
          '0.0.0.0': '127.0.0.1',
        },
        rewritePaths: { '/data': dataDir },
        localPort: () => {
          const port = ports.shift();
          if (port === undefined) throw new Error('ran out of free ports');
          return port;
        },
      }),
    );
    for (const service of processes) {
      const child = spawn(process.execPath, service.command.slice(1), {
        cwd: repoRoot,
        // PATH as the image's base gives it (git, npm for the agents' tools).
        env: { PATH: process.env.PATH ?? '', ...service.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      const run: Running = { process: service, child, output: [] };
      const keep = (chunk: Buffer) => {
        run.output.push(chunk.toString('utf8'));
        if (run.output.length > 40) run.output.shift();
      };
      child.stdout?.on('data', keep);
      child.stderr?.on('data', keep);
      runs.push(run);
    }
  }, 180_000);

  afterAll(async () => {
    await Promise.all(runs.map(stop));
    await ollama?.stop();
    await anthropic?.stop();
    await redis?.stop();
    if (dataDir !== undefined) rmSync(dataDir, { recursive: true, force: true });
  }, 180_000);

  it('starts each service with its compose command and environment; all answer /healthz with 200', async () => {
    expect(runs.length).toBeGreaterThan(0);
    const deadline = Date.now() + HEALTH_TIMEOUT_MS;
    const pending = new Set(runs);
    while (pending.size > 0 && Date.now() < deadline) {
      for (const run of [...pending]) {
        if (run.child.exitCode !== null)
          throw new Error(`a service stopped while starting: ${describeRun(run)}`);
        if (run.process.healthPort !== undefined && (await healthy(run.process.healthPort)))
          pending.delete(run);
      }
      if (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect([...pending].map(describeRun), 'services that never answered /healthz').toEqual([]);
  }, 200_000);

  it('stops every service cleanly on SIGTERM, as docker compose stop does', async () => {
    const codes = await Promise.all(runs.map(async (run) => [run.process.name, await stop(run)] as const));
    expect(Object.fromEntries(codes)).toEqual(Object.fromEntries(runs.map((run) => [run.process.name, 0])));
  }, 200_000);
}
