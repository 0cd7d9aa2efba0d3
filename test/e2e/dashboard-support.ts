// Shared by the dashboard suites (e2e and browser): the whole stack as real processes — gateway,
// scribe, one agent per worker role, director and the dashboard — on fake Ollama/Anthropic with a
// scripted scenario (one Revise, then finish), plus a small Prometheus text parser.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fold, parseRunEvent, type RunEvent, type RunState } from '@nightshift/core';
import { WORKER_ROLES } from '@nightshift/protocol';
import { type Bus, createBus, createKeys, createRunStore, type Keys } from '@nightshift/redis';
import {
  type FakeAnthropic,
  type FakeOllama,
  freePort,
  startFakeAnthropic,
  startFakeOllama,
  startRedis,
  type TestRedis,
  uniquePrefix,
  waitFor,
} from '@nightshift/testkit';
import { type ServiceProcess, serviceEnv, spawnService, stopAll } from './agent-harness.js';
import { SERVICE_MAIN } from './support/stack.js';

const verdict = (decision: string, rationale: string) => JSON.stringify({ decision, rationale });

export interface DashboardStackOptions {
  /** How long each Builder call takes (a slow builder keeps P2 on screen). Default 300 ms. */
  builderLatencyMs?: number;
  /** How long each Architect call takes (a slow architect keeps P1 on screen). Default: the fake's 20 ms. */
  architectLatencyMs?: number;
  /** Extra variables for the dashboard process (e.g. DASHBOARD_TOKEN). */
  dashboardEnv?: Record<string, string>;
}

export interface DashboardStack {
  redis: TestRedis;
  prefix: string;
  keys: Keys;
  bus: Bus;
  /** Environment the services (and the `nightshift` CLI) use. */
  env: NodeJS.ProcessEnv;
  dashboardUrl: string;
  ollama: FakeOllama;
  anthropic: FakeAnthropic;
  procs: ServiceProcess[];
  /** Last lines of every process, for failure messages. */
  tails(lines?: number): string;
  events(runId: string): Promise<RunEvent[]>;
  state(runId: string): Promise<RunState>;
  waitForStatus(runId: string, statuses: readonly string[], timeoutMs?: number): Promise<RunState>;
  stop(): Promise<void>;
}

/** The Director revises iteration 1 and finishes iteration 2 (guide §4: P4 loops back once). */
export function scriptModels(
  ollama: FakeOllama,
  anthropic: FakeAnthropic,
  builderLatencyMs: number,
  architectLatencyMs?: number,
): void {
  anthropic.setScenario([
    { match: { contains: 'Frame the goal' }, reply: { content: 'Goal: make the failing test pass.' } },
    {
      match: { contains: 'Verify the review of iteration 1' },
      reply: { content: verdict('revise', 'fix the findings') },
    },
    {
      match: { contains: 'Verify the review of iteration' },
      reply: { content: verdict('finish', 'all clean') },
    },
  ]);
  ollama.setScenario([
    {
      match: { role: 'inspector' },
      reply: {
        content: '{"findings":[{"severity":"minor","file":"src/sum.ts","description":"name the constant"}]}',
      },
    },
    { match: { role: 'builder' }, reply: { content: 'Changed src/sum.ts.', latencyMs: builderLatencyMs } },
    ...(architectLatencyMs === undefined
      ? []
      : [
          {
            match: { role: 'architect' },
            reply: {
              content: 'Design: one module, one test.\n{"components": ["src/sum.ts"], "risks": []}',
              latencyMs: architectLatencyMs,
            },
          },
        ]),
  ]);
}

export async function startDashboardStack(options: DashboardStackOptions = {}): Promise<DashboardStack> {
  const redis = await startRedis();
  const ollama = await startFakeOllama({ numParallel: 2, latencyMs: 20 });
  const anthropic = await startFakeAnthropic({});
  scriptModels(ollama, anthropic, options.builderLatencyMs ?? 300, options.architectLatencyMs);
  const prefix = uniquePrefix();
  const keys = createKeys(prefix);
  const memoryDir = mkdtempSync(join(tmpdir(), 'ns-dash-'));
  const env = serviceEnv({
    REDIS_URL: redis.url,
    NIGHTSHIFT_PREFIX: prefix,
    OLLAMA_HOST: ollama.url,
    ANTHROPIC_API_KEY: 'sk-test-director-key',
    ANTHROPIC_BASE_URL: anthropic.url,
    ANTHROPIC_MAX_RETRIES: '0',
    MEMORY_DIR: memoryDir,
    WORKSPACE_DIR: join(memoryDir, 'ws'),
    DIRECTOR_TICK_MS: '200',
    DIRECTOR_LEASE_TTL_MS: '1500',
    QUEUE_LOCK_DURATION_MS: '5000',
    QUEUE_STALLED_INTERVAL_MS: '2000',
    LOG_LEVEL: 'warn',
  });
  const bus = createBus({ url: redis.url, keys });
  const procs: ServiceProcess[] = [];
  procs.push(spawnService('llm-gateway', SERVICE_MAIN['llm-gateway'], env));
  procs.push(spawnService('scribe', SERVICE_MAIN.scribe, env));
  for (const role of WORKER_ROLES) procs.push(spawnService(role, SERVICE_MAIN.agent, { ...env, ROLE: role }));
  procs.push(spawnService('director', SERVICE_MAIN.director, env));
  const port = await freePort();
  procs.push(
    spawnService('dashboard', SERVICE_MAIN.dashboard, {
      ...env,
      DASHBOARD_HOST: '127.0.0.1',
      DASHBOARD_PORT: String(port),
      ...(options.dashboardEnv ?? {}),
    }),
  );
  const dashboardUrl = `http://127.0.0.1:${port}`;
  const tails = (lines = 15) => procs.map((p) => p.tail(lines)).join('\n');
  await waitFor(
    async () => {
      try {
        return (await fetch(`${dashboardUrl}/healthz`)).ok;
      } catch (error) {
        void error;
        return false;
      }
    },
    { timeoutMs: 60_000, intervalMs: 200, what: `the dashboard at ${dashboardUrl}\n${tails()}` },
  );
  const store = createRunStore(bus.redis, keys);
  const events = async (runId: string) => (await store.read(runId)).map((e) => parseRunEvent(e.event));
  const state = async (runId: string) => fold(await events(runId));
  return {
    redis,
    prefix,
    keys,
    bus,
    env,
    dashboardUrl,
    ollama,
    anthropic,
    procs,
    tails,
    events,
    state,
    async waitForStatus(runId, statuses, timeoutMs = 180_000) {
      return waitFor(
        async () => {
          const s = await state(runId);
          return statuses.includes(s.status) ? s : undefined;
        },
        { timeoutMs, intervalMs: 250, what: `run ${runId} to reach ${statuses.join('|')}\n${tails()}` },
      );
    },
    async stop() {
      await stopAll(procs);
      await bus.close();
      await ollama.stop();
      await anthropic.stop();
      await redis.stop();
      rmSync(memoryDir, { recursive: true, force: true });
    },
  };
}

export interface Sample {
  labels: Record<string, string>;
  value: number;
}

/**
 * Parses the Prometheus text exposition format (version 0.0.4): `# HELP`/`# TYPE` lines and
 * `name{label="value",…} number` samples. Throws on a line that is neither, so a malformed scrape
 * fails the test.
 */
export function parsePrometheus(text: string): {
  types: Map<string, string>;
  samples: Map<string, Sample[]>;
} {
  const types = new Map<string, string>();
  const samples = new Map<string, Sample[]>();
  const SAMPLE =
    /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (-?(?:\d+(?:\.\d*)?|\.\d+)(?:e[+-]?\d+)?|NaN|[+-]Inf)(?: -?\d+)?$/;
  const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  for (const [i, line] of text.split('\n').entries()) {
    if (line === '') continue;
    if (line.startsWith('# TYPE ')) {
      const [name, type] = line.slice(7).split(' ');
      if (!name || !type) throw new Error(`line ${i + 1}: bad TYPE line: ${line}`);
      types.set(name, type);
      continue;
    }
    if (line.startsWith('#')) continue;
    const m = SAMPLE.exec(line);
    if (!m) throw new Error(`line ${i + 1}: not a Prometheus sample: ${line}`);
    const labels: Record<string, string> = {};
    for (const l of (m[2] ?? '').matchAll(LABEL))
      labels[l[1] as string] = (l[2] as string).replace(/\\(.)/g, '$1');
    const value =
      m[3] === 'NaN' ? Number.NaN : m[3] === '+Inf' ? Infinity : m[3] === '-Inf' ? -Infinity : Number(m[3]);
    const list = samples.get(m[1] as string) ?? [];
    list.push({ labels, value });
    samples.set(m[1] as string, list);
  }
  return { types, samples };
}

/** Sum of a series' samples whose labels include `match`. */
export function total(
  samples: Map<string, Sample[]>,
  name: string,
  match: Record<string, string> = {},
): number {
  return (samples.get(name) ?? [])
    .filter((s) => Object.entries(match).every(([k, v]) => s.labels[k] === v))
    .reduce((sum, s) => sum + s.value, 0);
}
