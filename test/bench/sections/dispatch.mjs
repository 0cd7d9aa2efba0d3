// Dispatch: REQUEST → agent process → RESPONSE on bus:log with the instant (simulated) model,
// against raw BullMQ add → trivial worker process → `completed` event, in the same run.
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { newId } from '@nightshift/protocol';
import { createBus, createKeys, createRedisClient } from '@nightshift/redis';
import { uniquePrefix } from '@nightshift/testkit';
import { Queue } from 'bullmq';
import { commandsPerRequest } from '../lib/commands.mjs';
import { BENCH_DIR, childEnv, SERVICE_MAIN, sampleRss, spawnNode } from '../lib/procs.mjs';
import { field, newestId, tailStream, waitHealthy } from '../lib/redis.mjs';
import { latencySummary, round } from '../lib/stats.mjs';
import { pump, withTimeout } from './bus.mjs';

const CONCURRENCY = 16;
const OUTSTANDING = 64;
const PASS_TIMEOUT_MS = 600_000;

function request(content) {
  return {
    id: newId('msg'),
    runId: 'run_bench',
    from: 'director',
    to: 'builder',
    type: 'REQUEST',
    priority: 'NORMAL',
    timestamp: new Date().toISOString(),
    content,
  };
}

/** id → resolver; the tail resolves with the time it saw the answer. */
function answerBook() {
  const waiting = new Map();
  return {
    expect(id) {
      return new Promise((resolve) => waiting.set(id, resolve));
    },
    answer(id, seenAt) {
      const resolve = waiting.get(id);
      if (!resolve) return;
      waiting.delete(id);
      resolve(seenAt);
    },
  };
}

/**
 * Closed loop: `outstanding` requests in flight at any time, `count` in all. Latency = send
 * start → the answer seen by the tail; throughput = count / (last answer − first send).
 */
async function closedLoop(count, outstanding, send) {
  const latencies = [];
  let first = Number.POSITIVE_INFINITY;
  let last = 0;
  await withTimeout(
    pump(count, outstanding, async (i) => {
      const t = performance.now();
      first = Math.min(first, t);
      const seen = await send(i);
      last = Math.max(last, seen);
      latencies.push(seen - t);
    }),
    PASS_TIMEOUT_MS,
    `${count} requests`,
  );
  return { perSec: round(count / ((last - first) / 1000), 0), latency: latencySummary(latencies) };
}

async function nightshiftSide(ctx, prefix) {
  const keys = createKeys(prefix);
  const bus = createBus({ url: ctx.redisUrl, keys, onError: () => undefined });
  const book = answerBook();
  const tail = tailStream(ctx.redisUrl, keys.busLog, await newestId(bus.redis, keys.busLog), (_, f, seen) => {
    const json = field(f, 'message');
    if (json === undefined || !json.includes('"RESPONSE"')) return;
    const m = JSON.parse(json);
    if (m.type === 'RESPONSE' && m.inReplyTo) book.answer(m.inReplyTo, seen);
  });
  const send = async (i) => {
    const m = request(`bench task ${i}: answer at once`);
    const answered = book.expect(m.id);
    await bus.publish(m);
    return answered;
  };
  return {
    bus,
    keys,
    send,
    close: async () => {
      await tail.stop();
      await bus.close();
    },
  };
}

async function rawSide(ctx, prefix) {
  const connection = createRedisClient(ctx.redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('bench-raw', { connection, prefix });
  queue.on('error', () => undefined);
  await queue.waitUntilReady();
  const book = answerBook();
  const tail = tailStream(
    ctx.redisUrl,
    queue.keys.events,
    await newestId(connection, queue.keys.events),
    (_, f, seen) => {
      if (field(f, 'event') === 'completed') book.answer(field(f, 'jobId'), seen);
    },
  );
  // The same job as a REQUEST makes: the message as data, an explicit priority, the same retention.
  const send = async (i) => {
    const m = request(`bench task ${i}: answer at once`);
    const answered = book.expect(m.id);
    await queue.add('REQUEST', m, {
      jobId: m.id,
      priority: 3,
      removeOnComplete: { age: 24 * 3600, count: 10_000 },
      removeOnFail: { age: 7 * 24 * 3600, count: 50_000 },
    });
    return answered;
  };
  return {
    send,
    close: async () => {
      await tail.stop();
      await queue.close();
      connection.disconnect();
    },
  };
}

/** Section 1. Also reports the agent's RSS under this load (section 5 uses it). */
export async function benchDispatch(ctx) {
  const { requests, serialRequests } = ctx.sizes;
  const prefix = uniquePrefix();
  ctx.prefixes.push(prefix);
  const agent = spawnNode('agent (dispatch)', SERVICE_MAIN.agent, {
    env: childEnv({
      REDIS_URL: ctx.redisUrl,
      NIGHTSHIFT_PREFIX: prefix,
      ROLE: 'builder',
      NIGHTSHIFT_MODEL: 'instant',
      ROLE_CONCURRENCY_BUILDER: String(CONCURRENCY),
    }),
  });
  let workerReady;
  const ready = new Promise((r) => {
    workerReady = r;
  });
  const worker = spawnNode('bullmq worker (dispatch)', join(BENCH_DIR, 'raw-worker.mjs'), {
    env: childEnv({ REDIS_URL: ctx.redisUrl, BENCH_PREFIX: prefix, BENCH_CONCURRENCY: String(CONCURRENCY) }),
    onLine: (line) => line === 'READY' && workerReady(),
  });
  const procs = [agent, worker];
  let ns;
  let raw;
  try {
    ns = await nightshiftSide(ctx, prefix);
    raw = await rawSide(ctx, prefix);
    await waitHealthy(ns.bus.redis, ns.keys, [agent]);
    await withTimeout(ready, 60_000, 'the raw BullMQ worker');
    const rss = sampleRss(procs);
    // Warm-up of both paths (JIT, connections), not measured.
    await closedLoop(100, 16, ns.send);
    await closedLoop(100, 16, raw.send);
    ctx.log(`dispatch: ${requests} requests, ${OUTSTANDING} outstanding`);
    const nsLoad = await closedLoop(requests, OUTSTANDING, ns.send);
    const rawLoad = await closedLoop(requests, OUTSTANDING, raw.send);
    ctx.log(`dispatch: ${serialRequests} requests one at a time`);
    const nsSerial = await closedLoop(serialRequests, 1, ns.send);
    const rawSerial = await closedLoop(serialRequests, 1, raw.send);
    const memory = rss.stop();
    // Round trips and script commands per request, counted with MONITOR after the timed passes (MONITOR
    // slows Redis down; none of the figures above is taken while it runs).
    const commandRequests = Math.min(serialRequests, 200);
    ctx.log(`dispatch: counting Redis commands over ${commandRequests} requests each`);
    const commands = {
      nightshift: await commandsPerRequest(ctx.redisUrl, commandRequests, ns.send),
      bullmq: await commandsPerRequest(ctx.redisUrl, commandRequests, raw.send),
    };
    return {
      requests,
      serialRequests,
      concurrency: CONCURRENCY,
      outstanding: OUTSTANDING,
      nightshift: { jobsPerSec: nsLoad.perSec, underLoad: nsLoad.latency, oneAtATime: nsSerial.latency },
      bullmq: { jobsPerSec: rawLoad.perSec, underLoad: rawLoad.latency, oneAtATime: rawSerial.latency },
      ratio: round(nsLoad.perSec / rawLoad.perSec, 3),
      commands,
      rssPeakMb: {
        agent: round(memory.peakMb[agent.name] ?? Number.NaN, 1),
        bullmqWorker: round(memory.peakMb[worker.name] ?? Number.NaN, 1),
      },
    };
  } finally {
    await ns?.close();
    await raw?.close();
    await ctx.stop(procs);
  }
}
