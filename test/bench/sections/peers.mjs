// Peer side by side: one job (a supervisor + 5 workers making N model calls) in LangGraph.js
// three ways and in Nightshift, each against a fresh fake Ollama configured like a real one per
// the guide (2 slots, queue 100, then 503).
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { newId, WORKER_ROLES } from '@nightshift/protocol';
import { createBus, createKeys } from '@nightshift/redis';
import { startFakeOllama, uniquePrefix } from '@nightshift/testkit';
import { BENCH_DIR, childEnv } from '../lib/procs.mjs';
import { sampleQueueDepth } from '../lib/queue-depth.mjs';
import { field, newestId, tailStream, waitHealthy } from '../lib/redis.mjs';
import { spawnAgent, spawnGateways, spawnScript } from '../lib/stack.mjs';
import { handOffGaps, peakOverlap, round, slotUtilisation } from '../lib/stats.mjs';
import { withTimeout } from './bus.mjs';

const SLOTS = 2;
const OLLAMA_MAX_QUEUE = 100;

function measure(name, processes, fake, { makespanMs, failedTasks, calls }) {
  const records = [...fake.records];
  const maxAtOllama = peakOverlap(records, 'arrival', 'end');
  return {
    name,
    processes,
    makespanSec: round(makespanMs / 1000, 3),
    slotUtilisation: round(slotUtilisation(records, SLOTS, makespanMs).utilisation, 4),
    rejected503: records.filter((r) => r.status === 503).length,
    failedTasks,
    answered: calls - failedTasks,
    maxAtOllama,
    servedAtOnce: fake.maxConcurrent,
    limitHeld: maxAtOllama <= SLOTS,
    slotHandOffGapMs: handOffGaps(records, SLOTS),
  };
}

/** LangGraph in `processes` processes, the calls split evenly, each with `maxConcurrency` (or none). */
async function langGraphVariant(ctx, name, processes, maxConcurrency) {
  const { peerCalls: calls, peerLatencyMs: latencyMs } = ctx.sizes;
  const fake = await startFakeOllama({ numParallel: SLOTS, maxQueue: OLLAMA_MAX_QUEUE, latencyMs });
  const dir = mkdtempSync(join(tmpdir(), 'ns-bench-peer-'));
  const share = Math.ceil(calls / processes);
  const children = Array.from({ length: processes }, (_, i) =>
    spawnScript(`langgraph-${i + 1}`, join(BENCH_DIR, 'peers/langgraph.mjs'), {
      env: childEnv({
        BENCH_OLLAMA: fake.url,
        BENCH_CALLS: String(Math.max(0, Math.min(share, calls - i * share))),
        BENCH_OFFSET: String(i * share),
        BENCH_MAX_CONCURRENCY: maxConcurrency === undefined ? '' : String(maxConcurrency),
        BENCH_OUT: join(dir, `lg-${i}.json`),
      }),
    }),
  );
  try {
    await withTimeout(Promise.all(children.map((c) => c.ready())), 60_000, `${name} to start`);
    for (const c of children) c.go();
    await withTimeout(Promise.all(children.map((c) => c.done())), 120_000 + calls * latencyMs * 4, name);
    const outs = children.map((_, i) => JSON.parse(readFileSync(join(dir, `lg-${i}.json`), 'utf8')));
    const makespanMs = Math.max(...outs.map((o) => o.t1)) - Math.min(...outs.map((o) => o.t0));
    const failedTasks = outs.reduce((s, o) => s + o.failed, 0);
    return {
      ...measure(name, processes, fake, { makespanMs, failedTasks, calls }),
      errors: [...new Set(outs.flatMap((o) => o.errors))],
    };
  } finally {
    await ctx.stop(children.map((c) => c.proc));
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Nightshift: the bench as supervisor publishes N REQUESTs over 5 agent roles; 3 gateways hold the limit. */
async function nightshiftVariant(ctx) {
  const { peerCalls: calls, peerLatencyMs: latencyMs } = ctx.sizes;
  const fake = await startFakeOllama({ numParallel: SLOTS, maxQueue: OLLAMA_MAX_QUEUE, latencyMs });
  const prefix = uniquePrefix();
  ctx.prefixes.push(prefix);
  const keys = createKeys(prefix);
  const bus = createBus({ url: ctx.redisUrl, keys, onError: () => undefined });
  const vars = { OLLAMA_HOST: fake.url, OLLAMA_NUM_PARALLEL: String(SLOTS) };
  const gateways = spawnGateways(ctx, prefix, 3, vars);
  // Several tasks per agent at once, so calls really wait at the limiter (as LangGraph's fan-out does).
  const agents = WORKER_ROLES.map((role) =>
    spawnAgent(ctx, prefix, role, { ...vars, [`ROLE_CONCURRENCY_${role.toUpperCase()}`]: '20' }),
  );
  let tail;
  try {
    await waitHealthy(bus.redis, keys, [...gateways, ...agents]);
    const outcome = new Map();
    let last = 0;
    let settled;
    const allSettled = new Promise((resolve) => {
      settled = resolve;
    });
    tail = tailStream(ctx.redisUrl, keys.busLog, await newestId(bus.redis, keys.busLog), (_, f, seen) => {
      const json = field(f, 'message');
      if (json === undefined || (!json.includes('"RESPONSE"') && !json.includes('"ALERT"'))) return;
      const m = JSON.parse(json);
      if (!m.inReplyTo || outcome.has(m.inReplyTo)) return;
      if (m.type !== 'RESPONSE' && m.type !== 'ALERT') return;
      outcome.set(m.inReplyTo, m.type);
      last = Math.max(last, seen);
      if (outcome.size === calls) settled();
    });
    const requests = Array.from({ length: calls }, (_, i) => ({
      id: newId('msg'),
      runId: 'run_bench_peer',
      from: 'director',
      to: WORKER_ROLES[i % WORKER_ROLES.length],
      type: 'REQUEST',
      priority: 'NORMAL',
      timestamp: new Date().toISOString(),
      content: `task-${i}`,
    }));
    const stopDepth = sampleQueueDepth(ctx.redisUrl, prefix);
    const t0 = performance.now();
    await Promise.all(requests.map((m) => bus.publish(m)));
    await withTimeout(allSettled, 120_000 + calls * latencyMs * 4, 'Nightshift peer job');
    const depth = await stopDepth();
    const failedTasks = [...outcome.values()].filter((t) => t !== 'RESPONSE').length;
    return {
      ...measure('Nightshift (3 gateways, 5 agents)', 8, fake, { makespanMs: last - t0, failedTasks, calls }),
      // Where the surplus waited instead of at Ollama: on queue `llm`, in priority order.
      maxWaitingAtLimiter: depth.max,
    };
  } finally {
    await tail?.stop();
    await ctx.stop([...agents, ...gateways]);
    await bus.close();
    await fake.stop();
  }
}

/** Section 6. */
export async function benchPeers(ctx) {
  const { peerCalls: calls, peerLatencyMs: latencyMs } = ctx.sizes;
  const lowerBoundMs = (calls * latencyMs) / SLOTS;
  const variants = [
    await langGraphVariant(ctx, 'LangGraph naive fan-out (1 process)', 1, undefined),
    await langGraphVariant(ctx, 'LangGraph maxConcurrency 2 (1 process)', 1, 2),
    await langGraphVariant(ctx, 'LangGraph maxConcurrency 2 × 3 processes', 3, 2),
    await nightshiftVariant(ctx),
  ];
  for (const v of variants) v.ratioToBound = round((v.makespanSec * 1000) / lowerBoundMs, 3);
  return {
    calls,
    workers: 5,
    latencyMs,
    ollama: { numParallel: SLOTS, maxQueue: OLLAMA_MAX_QUEUE },
    lowerBoundSec: round(lowerBoundMs / 1000, 3),
    variants,
  };
}
