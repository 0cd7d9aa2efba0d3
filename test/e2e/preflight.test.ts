// Issue 10: `nightshift preflight` reports each check of the guide's checklist with its fix,
// and fails when a required one fails — e.g. a Redis that may evict BullMQ's keys.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type FakeOllama, freePort, startFakeOllama, waitFor } from '@nightshift/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from './support/stack.js';

const BIN = join(ROOT, 'packages/cli/dist/bin.js');
let ollama: FakeOllama;
let lru: ChildProcess;
let lruPort: number;
let ok: ChildProcess;
let okPort: number;
const dir = mkdtempSync(join(tmpdir(), 'ns-preflight-'));

function redisServer(port: number, policy: string): ChildProcess {
  return spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      '--maxmemory-policy',
      policy,
    ],
    {
      stdio: 'ignore',
    },
  );
}

/** Async on purpose: the fake Ollama answers from this process, so it must not be blocked. */
function preflight(
  port: number,
  extra: string[] = [],
  env: Record<string, string> = {},
): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'preflight', ...extra], {
      env: {
        PATH: process.env.PATH ?? '',
        REDIS_URL: `redis://127.0.0.1:${port}`,
        OLLAMA_HOST: ollama.url,
        MEMORY_DIR: join(dir, 'memory'),
        ...env,
      },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

beforeAll(async () => {
  ollama = await startFakeOllama({});
  lruPort = await freePort();
  okPort = await freePort();
  lru = redisServer(lruPort, 'allkeys-lru');
  ok = redisServer(okPort, 'noeviction');
  for (const port of [lruPort, okPort]) {
    await waitFor(
      () =>
        spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG',
      {
        timeoutMs: 20_000,
        what: `redis-server on ${port}`,
      },
    );
  }
});

afterAll(async () => {
  lru?.kill();
  ok?.kill();
  await ollama?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('nightshift preflight', () => {
  it('fails on a Redis with maxmemory-policy allkeys-lru and says how to fix it', async () => {
    const run = await preflight(lruPort);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/✗ Redis maxmemory-policy noeviction: maxmemory-policy is allkeys-lru/);
    expect(run.stdout).toMatch(/fix: BullMQ requires it/);
  });

  it('passes its required checks on a correctly configured Redis and Ollama (--json)', async () => {
    const run = await preflight(okPort, ['--json']);
    expect(run.status, run.stdout + run.stderr).toBe(0);
    const report = JSON.parse(run.stdout) as {
      ok: boolean;
      checks: { name: string; ok: boolean; required: boolean }[];
    };
    expect(report.ok).toBe(true);
    const byName = Object.fromEntries(report.checks.map((c) => [c.name, c]));
    expect(byName['Redis maxmemory-policy noeviction']?.ok).toBe(true);
    expect(byName['model qwen3:32b present']?.ok).toBe(true);
    expect(byName['Redis AOF persistence']).toMatchObject({ ok: false, required: false });
  });

  it("checks the model's window and tool calling from /api/show (issue 20)", async () => {
    const fine = await preflight(okPort, ['--json']);
    const checks = (JSON.parse(fine.stdout) as { checks: { name: string; ok: boolean; detail: string }[] })
      .checks;
    const byName = Object.fromEntries(checks.map((c) => [c.name, c]));
    expect(byName["num_ctx 8192 within the model's context"]).toMatchObject({ ok: true });
    expect(byName["num_ctx 8192 within the model's context"]?.detail).toMatch(/trained for 40960 tokens/);
    expect(byName['qwen3:32b can call tools']).toMatchObject({ ok: true });

    const tooWide = await preflight(okPort, [], { OLLAMA_NUM_CTX: '65536' });
    expect(tooWide.status).toBe(1);
    expect(tooWide.stdout).toMatch(/✗ num_ctx 65536 within the model's context/);
    expect(tooWide.stdout).toMatch(/fix: set OLLAMA_NUM_CTX to at most 40960/);
  });

  it('requires AOF with --production', async () => {
    const run = await preflight(okPort, ['--production']);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/✗ Redis AOF persistence: appendonly no/);
  });
});
