// The limiter: 6 caller processes → queue `llm` → 3 llm-gateway processes → fake Ollama with
// two slots of slack, so a breach of OLLAMA_NUM_PARALLEL would show in its records.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GatewayChatModel, LLM_QUEUE } from '@nightshift/llm';
import { createKeys, createRedisClient } from '@nightshift/redis';
import { startFakeOllama, uniquePrefix } from '@nightshift/testkit';
import { Queue, QueueEvents } from 'bullmq';
import { commandsPerRequest } from '../lib/commands.mjs';
import { BENCH_DIR, childEnv, sampleRss, spawnNode } from '../lib/procs.mjs';
import { sampleQueueDepth } from '../lib/queue-depth.mjs';
import { openRedis, waitHealthy } from '../lib/redis.mjs';
import { spawnGateways, spawnScript } from '../lib/stack.mjs';
import { handOffGaps, peakOverlap, priorityInversions, round, slotUtilisation } from '../lib/stats.mjs';
import { withTimeout } from './bus.mjs';

export const NUM_PARALLEL = 2;
const CALLERS = 6;
/** Per caller; 6 × 10 = 60 waiting at most, under OLLAMA_MAX_QUEUE (100), so nobody is refused. */
const OUTSTANDING = 10;
const INVERSION_MARGIN_MS = 5;

/** Enqueue time (the caller's clock when BullMQ built the job, just before its add) per call tag. */
async function llmJobsByTag(url, prefix) {
  const connection = createRedisClient(url, { maxRetriesPerRequest: null });
  const queue = new Queue(LLM_QUEUE, { connection, prefix });
  queue.on('error', () => undefined);
  try {
    const jobs = await queue.getJobs(['completed'], 0, -1);
    const byTag = new Map();
    for (const job of jobs) {
      const tag = job.data?.messages?.at(-1)?.content;
      if (typeof tag === 'string')
        byTag.set(tag, { enqueued: job.timestamp, dispatched: job.processedOn, priority: job.opts.priority });
    }
    return byTag;
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

/**
 * Redis round trips and script commands per LLM call through the gateway (caller → queue `llm` →
 * gateway → fake Ollama → answer), one call at a time from this process after the timed run.
 */
async function countCallCommands(ctx, prefix) {
  const connection = openRedis(ctx.redisUrl, 'bench-limiter-count');
  const client = new GatewayChatModel({ connection, prefix, maxQueue: 100, timeoutMs: 60_000 });
  try {
    await client.ready();
    const calls = ctx.sizes.limiterCalls >= 1000 ? 100 : 20;
    const call = (i) => client.chat({ role: 'builder', messages: [{ role: 'user', content: `count-${i}` }] });
    await call(-1); // the client's first call sets up its QueueEvents: not counted
    return await commandsPerRequest(ctx.redisUrl, calls, call);
  } finally {
    await client.close();
    connection.disconnect();
  }
}

const RAW_WORKERS = 3;

/**
 * The baseline of issue 23 §3, measured in the same run against its own fake Ollama with the same
 * latency and slack: raw BullMQ, `queue.setGlobalConcurrency(2)`, RAW_WORKERS worker processes that
 * call /api/chat themselves, and this process adding the same number of calls with the same number
 * in flight (CALLERS × OUTSTANDING), each waiting on QueueEvents. No priorities, no audit trail, no
 * admission check: the slot use a limiter built on BullMQ alone gets.
 */
async function rawBaseline(ctx, prefix, calls, latencyMs) {
  const fake = await startFakeOllama({ numParallel: NUM_PARALLEL + 2, maxQueue: 1_000_000, latencyMs });
  const connection = openRedis(ctx.redisUrl, 'bench-limiter-raw');
  const queueName = 'bench-llm-raw';
  const queue = new Queue(queueName, { connection, prefix });
  queue.on('error', () => undefined);
  const eventsConnection = openRedis(ctx.redisUrl, 'bench-limiter-raw-events');
  const events = new QueueEvents(queueName, { connection: eventsConnection, prefix });
  events.on('error', () => undefined);
  let ready = 0;
  let allReady;
  const started = new Promise((resolve) => {
    allReady = resolve;
  });
  const workers = Array.from({ length: RAW_WORKERS }, (_, i) =>
    spawnNode(`raw-llm-worker-${i + 1}`, join(BENCH_DIR, 'raw-llm-worker.mjs'), {
      env: childEnv({
        REDIS_URL: ctx.redisUrl,
        BENCH_PREFIX: prefix,
        BENCH_QUEUE: queueName,
        OLLAMA_HOST: fake.url,
        BENCH_CONCURRENCY: String(NUM_PARALLEL),
      }),
      onLine: (line) => line === 'READY' && ++ready === RAW_WORKERS && allReady(),
    }),
  );
  try {
    await queue.setGlobalConcurrency(NUM_PARALLEL);
    await events.waitUntilReady();
    await withTimeout(started, 60_000, 'the raw BullMQ LLM workers');
    let next = 0;
    const lane = async () => {
      while (next < calls) {
        const i = next++;
        const job = await queue.add(
          'chat',
          { messages: [{ role: 'user', content: `raw-${i}` }] },
          { removeOnComplete: true, removeOnFail: true },
        );
        await job.waitUntilFinished(events, 15 * 60_000);
      }
    };
    const go = Date.now();
    await withTimeout(
      Promise.all(Array.from({ length: Math.min(CALLERS * OUTSTANDING, calls) }, lane)),
      Math.max(120_000, calls * latencyMs * 3),
      `${calls} raw BullMQ calls`,
    );
    const makespanMs = Date.now() - go;
    const served = fake.records.filter((r) => r.status === 200);
    const firstStart = Math.min(...served.map((r) => r.start));
    const lastEnd = Math.max(...served.map((r) => r.end));
    return {
      workers: RAW_WORKERS,
      answered: served.length,
      maxConcurrency: peakOverlap([...fake.records], 'arrival', 'end'),
      slotUtilisation: round(
        slotUtilisation([...fake.records], NUM_PARALLEL, lastEnd - firstStart).utilisation,
        4,
      ),
      slotHandOffGapMs: handOffGaps([...fake.records], NUM_PARALLEL),
      makespanSec: round(makespanMs / 1000, 3),
    };
  } finally {
    await ctx.stop(workers);
    await events.close();
    await queue.close();
    eventsConnection.disconnect();
    connection.disconnect();
    await fake.stop();
  }
}

/** Section 3. Also reports the gateways' RSS under load (section 5 uses it). */
export async function benchLimiter(ctx) {
  const { limiterCalls: calls, limiterLatencyMs: latencyMs } = ctx.sizes;
  const gatewayCount = ctx.options.limiterGateways;
  const prefix = uniquePrefix();
  ctx.prefixes.push(prefix);
  const keys = createKeys(prefix);
  // Slack: 2 more slots than the limit, and a queue that never refuses, so the fake never hides
  // a breach (a 3rd concurrent call is served and recorded instead of queued or 503'd).
  const fake = await startFakeOllama({ numParallel: NUM_PARALLEL + 2, maxQueue: 1_000_000, latencyMs });
  const dir = mkdtempSync(join(tmpdir(), 'ns-bench-limiter-'));
  const redis = openRedis(ctx.redisUrl, 'bench-limiter');
  const gateways = spawnGateways(ctx, prefix, gatewayCount, {
    OLLAMA_HOST: fake.url,
    OLLAMA_NUM_PARALLEL: String(NUM_PARALLEL),
  });
  const callers = [];
  try {
    await waitHealthy(redis, keys, gateways);
    const share = Math.ceil(calls / CALLERS);
    for (let i = 0; i < CALLERS; i++) {
      const count = Math.max(0, Math.min(share, calls - i * share));
      callers.push(
        spawnScript(`caller-${i + 1}`, join(BENCH_DIR, 'limiter-caller.mjs'), {
          env: childEnv({
            REDIS_URL: ctx.redisUrl,
            BENCH_PREFIX: prefix,
            BENCH_INDEX: String(i),
            BENCH_CALLS: String(count),
            BENCH_OUTSTANDING: String(OUTSTANDING),
            BENCH_MAX_QUEUE: '100',
            BENCH_OUT: join(dir, `caller-${i}.json`),
          }),
        }),
      );
    }
    await withTimeout(Promise.all(callers.map((c) => c.ready())), 60_000, 'limiter callers to start');
    const rss = sampleRss([...gateways, ...callers.map((c) => c.proc)]);
    ctx.log(
      `limiter: ${calls} calls of ${latencyMs} ms from ${CALLERS} callers via ${gatewayCount} gateways`,
    );
    const stopDepth = sampleQueueDepth(ctx.redisUrl, prefix);
    const go = Date.now();
    for (const c of callers) c.go();
    await withTimeout(
      Promise.all(callers.map((c) => c.done())),
      Math.max(120_000, calls * latencyMs * 3),
      `${calls} limiter calls`,
    );
    const memory = rss.stop();
    const queueDepth = await stopDepth();

    const reports = callers.map((_, i) => JSON.parse(readFileSync(join(dir, `caller-${i}.json`), 'utf8')));
    const callerRecords = reports.flatMap((r) => r.records);
    const lastDone = Math.max(...callerRecords.map((r) => r.doneAt));
    const records = [...fake.records];
    const served = records.filter((r) => r.status === 200);
    const firstStart = Math.min(...served.map((r) => r.start));
    const lastEnd = Math.max(...served.map((r) => r.end));
    const util = slotUtilisation(records, NUM_PARALLEL, lastEnd - firstStart);

    const jobs = await llmJobsByTag(ctx.redisUrl, prefix);
    const joined = [];
    for (const r of served) {
      const job = jobs.get(r.messages.at(-1)?.content);
      if (job)
        joined.push({
          priority: job.priority,
          enqueued: job.enqueued,
          start: r.start,
          dispatched: job.dispatched,
        });
    }
    const strict = priorityInversions(joined, 0);
    const clear = priorityInversions(joined, INVERSION_MARGIN_MS);
    // The same pairs judged by when a gateway took the job off the queue (BullMQ processedOn),
    // which leaves out the gateway → Ollama hand-off: tells queue order from hand-off jitter.
    const atDispatch = priorityInversions(
      joined.map((c) => ({ ...c, start: c.dispatched })),
      0,
    );
    const gatewayPeaks = gateways.map((g) => memory.peakMb[g.name] ?? Number.NaN);
    const commands = await countCallCommands(ctx, prefix);
    ctx.log(
      `limiter: the raw BullMQ baseline (setGlobalConcurrency(${NUM_PARALLEL}), ${RAW_WORKERS} workers)`,
    );
    const bullmqGlobal = await rawBaseline(ctx, prefix, calls, latencyMs);
    return {
      calls,
      callers: CALLERS,
      gateways: gatewayCount,
      numParallel: NUM_PARALLEL,
      latencyMs,
      answered: callerRecords.filter((r) => r.ok).length,
      failed: callerRecords.filter((r) => !r.ok).length,
      rejected503: records.filter((r) => r.status === 503).length,
      queueFullRetries: reports.reduce((s, r) => s + r.queueFull, 0),
      maxConcurrency: peakOverlap(records, 'arrival', 'end'),
      fakeMaxConcurrent: fake.maxConcurrent,
      slotUtilisation: round(util.utilisation, 4),
      queueDepth,
      slotHandOffGapMs: handOffGaps(records, NUM_PARALLEL),
      busyWindowSec: round((lastEnd - firstStart) / 1000, 3),
      makespanSec: round((lastDone - go) / 1000, 3),
      lowerBoundSec: round((calls * latencyMs) / NUM_PARALLEL / 1000, 3),
      inversions: strict.inversions,
      competingPairs: strict.competing,
      inversionsBeyondMargin: clear.inversions,
      competingPairsBeyondMargin: clear.competing,
      inversionMarginMs: INVERSION_MARGIN_MS,
      inversionsAtDispatch: atDispatch.inversions,
      competingPairsAtDispatch: atDispatch.competing,
      callsWithEnqueueTime: joined.length,
      commands,
      bullmqGlobal,
      utilisationVsBullmq: round(util.utilisation / bullmqGlobal.slotUtilisation, 3),
      rssPeakMb: {
        gatewayMax: round(Math.max(...gatewayPeaks), 1),
        callerMax: round(Math.max(...callers.map((c) => memory.peakMb[c.proc.name] ?? 0)), 1),
      },
    };
  } finally {
    await ctx.stop([...callers.map((c) => c.proc), ...gateways]);
    redis.disconnect();
    await fake.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}
