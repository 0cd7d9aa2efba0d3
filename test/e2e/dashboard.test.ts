// Issue 11 acceptance, processes: the dashboard beside the real stack. A run started through its
// REST API goes to the end; then /metrics parses as Prometheus text with non-zero values, and
// `nightshift status` (--json against StatusSchema, --watch on a plain pipe) shows the deployment.
import { execFile, spawn } from 'node:child_process';
import { join } from 'node:path';
import { StatusSchema } from '@nightshift/client';
import { WORKER_ROLES } from '@nightshift/protocol';
import { createAlertStore } from '@nightshift/redis';
import { freePort, waitFor } from '@nightshift/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnService, stopAll } from './agent-harness.js';
import { type DashboardStack, parsePrometheus, startDashboardStack, total } from './dashboard-support.js';
import { ROOT, SERVICE_MAIN } from './support/stack.js';

const CLI = join(ROOT, 'packages/cli/dist/bin.js');
let stack: DashboardStack;
let runId: string;

function nightshift(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { env: stack.env }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === 'number' ? error.code : 1) : 0, stdout, stderr });
    });
  });
}

beforeAll(async () => {
  stack = await startDashboardStack({ builderLatencyMs: 300 });
});

afterAll(async () => {
  await stack?.stop();
});

describe('the dashboard beside a real run', () => {
  it('starts a run through POST /api/runs and shows it to the end through GET /api/runs/:id', async () => {
    const res = await fetch(`${stack.dashboardUrl}/api/runs`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ task: 'Fix the failing sum test', title: 'sum fix' }),
    });
    expect(res.status).toBe(201);
    ({ runId } = (await res.json()) as { runId: string });
    const final = await stack.waitForStatus(runId, ['finished', 'aborted', 'failed', 'waiting-human']);
    expect(final.status).toBe('finished');
    const body = (await (await fetch(`${stack.dashboardUrl}/api/runs/${runId}`)).json()) as {
      run: { status: string; phases: { phase: number }[]; checkpoints: number };
      events: { type: string }[];
    };
    expect(body.run.status).toBe('finished');
    expect(body.run.phases.map((p) => p.phase)).toEqual([1, 2, 3, 4, 2, 3, 4]);
    expect(body.events.at(-1)?.type).toBe('run.finished');
  });

  it('serves /metrics as Prometheus text with non-zero LLM, queue, slot and trust series after the run', async () => {
    // No sentinel runs in this suite: raise one alert the way it would, so escalations have a value.
    await createAlertStore(stack.bus.redis, stack.keys).raise({
      key: `e2e:${runId}`,
      runId,
      level: 2,
      rule: 'runaway.phase-duration',
      subject: 'P2',
      reason: 'phase took too long',
      actions: [],
    });
    // The gateway's finished jobs are read on each scrape; wait until the builder's calls show.
    const { types, samples } = await waitFor(
      async () => {
        const parsed = parsePrometheus(await (await fetch(`${stack.dashboardUrl}/metrics`)).text());
        return total(parsed.samples, 'nightshift_llm_calls_total', { role: 'builder', outcome: 'ok' }) > 0
          ? parsed
          : undefined;
      },
      { timeoutMs: 30_000, intervalMs: 500, what: 'builder LLM calls in /metrics' },
    );
    expect(types.get('nightshift_llm_calls_total')).toBe('counter');
    expect(types.get('nightshift_llm_latency_seconds')).toBe('histogram');
    expect(types.get('nightshift_queue_jobs')).toBe('gauge');
    for (const role of ['builder', 'inspector', 'refactorer']) {
      expect(total(samples, 'nightshift_llm_calls_total', { role }), role).toBeGreaterThan(0);
      expect(total(samples, 'nightshift_llm_tokens_total', { role }), role).toBeGreaterThan(0);
      expect(total(samples, 'nightshift_llm_latency_seconds_count', { role }), role).toBeGreaterThan(0);
    }
    expect(
      total(samples, 'nightshift_queue_jobs', { queue: 'agent.builder', state: 'completed' }),
    ).toBeGreaterThanOrEqual(2);
    expect(total(samples, 'nightshift_queue_jobs', { queue: 'llm', state: 'completed' })).toBeGreaterThan(0);
    expect(total(samples, 'nightshift_llm_slots_limit')).toBe(2);
    expect(samples.has('nightshift_llm_slots_in_use')).toBe(true);
    expect(total(samples, 'nightshift_escalations', { level: '2' })).toBeGreaterThanOrEqual(1);
    for (const role of WORKER_ROLES)
      expect(total(samples, 'nightshift_trust', { role }), role).toBeGreaterThan(0);
    expect(total(samples, 'nightshift_runs', { status: 'finished' })).toBeGreaterThanOrEqual(1);
  });

  it('nightshift status --json validates against StatusSchema and sees the live agents', async () => {
    const r = await nightshift('status', '--json', '--run', runId);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const status = StatusSchema.parse(JSON.parse(r.stdout));
    expect(status.run).toMatchObject({ runId, status: 'finished', phase: 4 });
    expect(status.run?.latestCheckpoint).not.toBeNull();
    for (const role of [...WORKER_ROLES, 'director', 'scribe']) {
      const agent = status.agents.find((a) => a.role === role);
      expect(agent?.instances, role).toBeGreaterThanOrEqual(1);
      expect(agent?.state, role).not.toBe('offline');
    }
    expect(status.llm.limit).toBe(2);
    expect(status.alerts.open.some((a) => a.runId === runId)).toBe(true);
  });

  it('nightshift status --watch redraws as plain frames on a pipe', async () => {
    const child = spawn(process.execPath, [CLI, 'status', '--watch', '--interval', '0.5'], {
      env: stack.env,
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    try {
      await waitFor(() => (out.match(/ frame \d+ /g) ?? []).length >= 3, {
        timeoutMs: 60_000,
        what: 'three frames',
      });
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(out).not.toContain('\x1b[');
    expect(out).toContain(`Run ${runId}  finished`);
    expect(out).toMatch(/builder +idle/);
  });

  it('refuses to start on a reachable address without DASHBOARD_TOKEN, and with one needs it', async () => {
    const open = spawnService('dashboard-open', SERVICE_MAIN.dashboard, {
      ...stack.env,
      DASHBOARD_HOST: '0.0.0.0',
      DASHBOARD_PORT: String(await freePort()),
    });
    expect(await open.exited).toBe(1);
    expect(open.tail(50)).toMatch(/set DASHBOARD_TOKEN/);

    const port = await freePort();
    const token = 'e2e-dashboard-token-0123456789';
    const guarded = spawnService('dashboard-guarded', SERVICE_MAIN.dashboard, {
      ...stack.env,
      DASHBOARD_HOST: '0.0.0.0',
      DASHBOARD_PORT: String(port),
      DASHBOARD_TOKEN: token,
    });
    try {
      const base = `http://127.0.0.1:${port}`;
      await waitFor(
        async () => {
          try {
            return (await fetch(`${base}/healthz`)).ok;
          } catch (error) {
            void error;
            return false;
          }
        },
        { timeoutMs: 60_000, intervalMs: 200, what: `the guarded dashboard\n${guarded.tail()}` },
      );
      expect((await fetch(`${base}/api/runs`)).status).toBe(401);
      expect((await fetch(`${base}/queues/api/queues`)).status).toBe(401);
      const ok = await fetch(`${base}/api/runs`, { headers: { authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
      expect(guarded.tail(200)).not.toContain(token);
    } finally {
      await stopAll([guarded]);
    }
  });
});
