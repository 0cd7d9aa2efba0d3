// A full scripted four-phase run on the whole stack (director, llm-gateway, scribe, 5 agents;
// fake Ollama + fake Anthropic as in test/e2e/director.test.ts): makespan vs its critical-path
// lower bound. Also measures the stack's startup to all-healthy and its RSS idle and loaded.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fold, parseRunEvent } from '@nightshift/core';
import { WORKER_ROLES } from '@nightshift/protocol';
import { createKeys, createRunStore, enqueueRun } from '@nightshift/redis';
import {
  freePort,
  sleep,
  startFakeAnthropic,
  startFakeOllama,
  uniquePrefix,
  waitFor,
} from '@nightshift/testkit';
import { criticalPath } from '../lib/critical-path.mjs';
import { rssMb, SERVICE_MAIN, sampleRss, spawnNode } from '../lib/procs.mjs';
import { openRedis, waitHealthy } from '../lib/redis.mjs';
import { serviceEnv } from '../lib/stack.mjs';
import { round } from '../lib/stats.mjs';

const TERMINAL = ['finished', 'aborted', 'failed', 'waiting-human'];
const verdict = (decision, rationale) => JSON.stringify({ decision, rationale });

/** The scenario of director.test.ts: iteration 1 is revised, iteration 2 finishes (guide §4 P4 once). */
function scriptModels(ollama, anthropic, ollamaMs) {
  anthropic.setScenario([
    {
      match: { contains: 'Frame the goal' },
      reply: { content: 'Goal: make the failing test pass without changing the API.' },
    },
    {
      match: { contains: 'Verify the review of iteration 1' },
      reply: { content: verdict('revise', 'address the findings') },
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
    // The build is the long step, so P2's parallel pair (build ‖ research-exec) has a clear critical side.
    { match: { role: 'builder' }, reply: { content: 'Changed src/sum.ts.', latencyMs: ollamaMs * 2 } },
  ]);
}

async function spawnStack(ctx, prefix, env) {
  const plan = [
    ['llm-gateway', SERVICE_MAIN['llm-gateway'], {}],
    ['scribe', SERVICE_MAIN.scribe, {}],
    ...WORKER_ROLES.map((role) => [`agent-${role}`, SERVICE_MAIN.agent, { ROLE: role }]),
    ['director', SERVICE_MAIN.director, {}],
  ];
  const ports = await Promise.all(plan.map(() => freePort()));
  // Every process gets a HEALTH_PORT: those that serve /healthz are checked there, the others by heartbeat.
  const t0 = performance.now();
  const procs = plan.map(([name, main, vars], i) => {
    const p = spawnNode(name, main, {
      env: serviceEnv(ctx, prefix, { ...env, ...vars, HEALTH_PORT: String(ports[i]) }),
    });
    p.healthPort = ports[i];
    return p;
  });
  return { procs, t0 };
}

/** Section 4 (and the stack half of section 5, left in ctx.shared.stack). */
export async function benchFullRun(ctx) {
  const { runOllamaMs, runAnthropicMs } = ctx.sizes;
  const prefix = uniquePrefix();
  ctx.prefixes.push(prefix);
  const keys = createKeys(prefix);
  const ollama = await startFakeOllama({ numParallel: 2, latencyMs: runOllamaMs });
  const anthropic = await startFakeAnthropic({ latencyMs: runAnthropicMs });
  scriptModels(ollama, anthropic, runOllamaMs);
  const memoryDir = mkdtempSync(join(tmpdir(), 'ns-bench-mem-'));
  const redis = openRedis(ctx.redisUrl, 'bench-full-run');
  const env = {
    OLLAMA_HOST: ollama.url,
    ANTHROPIC_API_KEY: 'sk-test-bench-key',
    ANTHROPIC_BASE_URL: anthropic.url,
    ANTHROPIC_MAX_RETRIES: '0',
    MEMORY_DIR: memoryDir,
    WORKSPACE_DIR: join(memoryDir, 'ws'),
    DIRECTOR_TICK_MS: '200',
    DIRECTOR_LEASE_TTL_MS: '1500',
    QUEUE_LOCK_DURATION_MS: '5000',
    QUEUE_STALLED_INTERVAL_MS: '2000',
  };
  let procs = [];
  try {
    const stack = await spawnStack(ctx, prefix, env);
    procs = stack.procs;
    const health = await waitHealthy(redis, keys, procs, { t0: stack.t0, timeoutMs: 90_000 });
    await sleep(ctx.smoke ? 500 : 2000); // let start-up allocations settle before calling it idle
    const idle = Object.fromEntries(procs.map((p) => [p.name, round(rssMb(p.pid) ?? Number.NaN, 1)]));

    const rss = sampleRss(procs);
    const store = createRunStore(redis, keys);
    const readEvents = async (runId) => (await store.read(runId)).map((e) => parseRunEvent(e.event));
    const enqueuedAt = Date.now();
    const { runId } = await enqueueRun(
      ctx.redisUrl,
      { task: 'Fix the failing sum test', title: 'sum fix' },
      { prefix },
    );
    ctx.log(`fullRun: stack healthy, run ${runId} enqueued`);
    const events = await waitFor(
      async () => {
        const list = await readEvents(runId);
        return TERMINAL.includes(fold(list).status) ? list : undefined;
      },
      {
        timeoutMs: 300_000,
        intervalMs: 50,
        what: `run ${runId} to end\n${procs.map((p) => p.tail(10)).join('\n')}`,
      },
    );
    const load = rss.stop();

    const calls = [
      ...ollama.records
        .filter((r) => r.start !== null && r.end !== null)
        .map((r) => ({ role: r.role, from: r.start, to: r.end })),
      ...anthropic.records
        .filter((r) => r.end !== null)
        .map((r) => ({ role: 'director', from: r.arrival, to: r.end })),
    ];
    const { boundMs, steps } = criticalPath(events, calls);
    const finished = events.find((e) => e.type === 'run.finished');
    const created = events.find((e) => e.type === 'run.created');
    const endAt = Date.parse((finished ?? events.at(-1)).at);
    const makespanMs = endAt - enqueuedAt;
    ctx.shared.stack = {
      startup: {
        allHealthyMs: round(Math.max(...Object.values(health.readyAt)), 0),
        perServiceMs: mapRound(health.readyAt, 0),
        via: health.via,
      },
      idleMb: idle,
      loadPeakMb: mapRound(load.peakMb, 1),
      loadPeakSumMb: round(load.peakSumMb, 1),
    };
    return {
      status: fold(events).status,
      phases: events.filter((e) => e.type === 'phase.started').map((e) => e.phase),
      ollamaLatencyMs: runOllamaMs,
      builderLatencyMs: runOllamaMs * 2,
      anthropicLatencyMs: runAnthropicMs,
      modelCalls: { ollama: ollama.records.length, anthropic: anthropic.records.length },
      ollamaCallsByRole: countBy(ollama.records.map((r) => r.role ?? 'unknown')),
      makespanSec: round(makespanMs / 1000, 3),
      directorMakespanSec:
        created && finished ? round((Date.parse(finished.at) - Date.parse(created.at)) / 1000, 3) : null,
      lowerBoundSec: round(boundMs / 1000, 3),
      ratio: round(makespanMs / boundMs, 3),
      ollamaMaxConcurrent: ollama.maxConcurrent,
      steps: steps.map((s) => ({ ...s, modelMs: round(s.modelMs, 0) })),
    };
  } finally {
    const stopping = Date.now();
    const killed = await ctx.stop(procs);
    ctx.log(
      `fullRun: stack stopped in ${Date.now() - stopping} ms${killed.length ? `; SIGKILL needed: ${killed.join(', ')}` : ''}`,
    );
    redis.disconnect();
    await ollama.stop();
    await anthropic.stop();
    rmSync(memoryDir, { recursive: true, force: true });
  }
}

function countBy(values) {
  const counts = {};
  for (const v of values) counts[v] = (counts[v] ?? 0) + 1;
  return counts;
}

function mapRound(obj, digits) {
  return Object.fromEntries(Object.entries(obj).map(([k, v]) => [k, round(v, digits)]));
}
