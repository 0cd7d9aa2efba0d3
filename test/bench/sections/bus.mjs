// Bus throughput: non-REQUEST messages through createBus().publish + consume, against a plain
// XADD / XREADGROUP + XACK loop on one stream, both in this process, in the same run.
import { performance } from 'node:perf_hooks';
import { newId } from '@nightshift/protocol';
import { createBus, createKeys } from '@nightshift/redis';
import { uniquePrefix } from '@nightshift/testkit';
import { openRedis } from '../lib/redis.mjs';
import { round } from '../lib/stats.mjs';

/** Runs `count` calls of `fn(i)` with at most `window` in flight. */
export async function pump(count, window, fn) {
  let next = 0;
  const lanes = Array.from({ length: Math.min(window, count) }, async () => {
    while (next < count) {
      const i = next++;
      await fn(i);
    }
  });
  await Promise.all(lanes);
}

function statusMessage(i) {
  return {
    id: newId('msg'),
    runId: 'run_bench',
    from: 'builder',
    to: 'director',
    type: 'STATUS',
    priority: 'NORMAL',
    timestamp: new Date().toISOString(),
    content: `progress ${i}: edited src/sum.ts, ran the unit tests, 3 of 4 green; continuing with the edge cases`,
  };
}

/** A promise resolved after `count` calls of the returned `hit()`. */
function counter(count) {
  let seen = 0;
  let resolve;
  const done = new Promise((r) => {
    resolve = r;
  });
  return {
    done,
    hit() {
      seen++;
      if (seen === count) resolve(performance.now());
    },
  };
}

async function nightshiftRound(url, count, window) {
  const keys = createKeys(uniquePrefix());
  const bus = createBus({ url, keys, onError: () => undefined });
  try {
    const got = counter(count);
    const consumer = bus.consume('director', async () => got.hit(), { alsoAll: false });
    await consumer.ready;
    const t0 = performance.now();
    await pump(count, window, (i) => bus.publish(statusMessage(i)));
    const published = performance.now();
    const t1 = await withTimeout(got.done, 120_000, 'bus consumer');
    await consumer.stop();
    return { prefix: keys.prefix, result: rates(count, t0, published, t1) };
  } finally {
    await bus.close();
  }
}

async function rawRound(url, prefix, count, window) {
  const key = `${prefix}:raw:stream`;
  const pub = openRedis(url, 'bench-raw-pub');
  const sub = openRedis(url, 'bench-raw-sub');
  try {
    await pub.xgroup('CREATE', key, 'g', '$', 'MKSTREAM');
    const got = counter(count);
    let stopped = false;
    const loop = (async () => {
      while (!stopped) {
        const reply = await sub.xreadgroup(
          'GROUP',
          'g',
          'c',
          'COUNT',
          10,
          'BLOCK',
          2000,
          'STREAMS',
          key,
          '>',
        );
        if (!reply) continue;
        for (const [, entries] of reply) {
          for (const [id, fields] of entries) {
            // Parse like a real consumer would, then ack: the same work per entry as the bus.
            JSON.parse(fields[1]);
            await sub.xack(key, 'g', id);
            got.hit();
          }
        }
      }
    })().catch((error) => {
      if (!stopped) throw error;
    });
    const t0 = performance.now();
    await pump(count, window, (i) =>
      pub.xadd(key, 'MAXLEN', '~', '100000', '*', 'message', JSON.stringify(statusMessage(i))),
    );
    const published = performance.now();
    const t1 = await withTimeout(got.done, 120_000, 'raw consumer');
    stopped = true;
    sub.disconnect();
    await loop;
    return rates(count, t0, published, t1);
  } finally {
    pub.disconnect();
    sub.disconnect();
  }
}

function rates(count, t0, published, t1) {
  return {
    messages: count,
    msgsPerSec: round(count / ((t1 - t0) / 1000), 0),
    publishPerSec: round(count / ((published - t0) / 1000), 0),
    seconds: round((t1 - t0) / 1000, 3),
  };
}

export function withTimeout(promise, ms, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Section 2. `prefixes` collects every key prefix used, for cleanup on a shared Redis. */
export async function benchBus(ctx) {
  const { messages } = ctx.sizes;
  const window = 64;
  // Warm-up (JIT, connections, consumer groups), not measured.
  const warm = await nightshiftRound(ctx.redisUrl, 200, window);
  ctx.prefixes.push(warm.prefix);
  await rawRound(ctx.redisUrl, warm.prefix, 200, window);

  const ns = await nightshiftRound(ctx.redisUrl, messages, window);
  ctx.prefixes.push(ns.prefix);
  const raw = await rawRound(ctx.redisUrl, `${ns.prefix}:2`, messages, window);
  return {
    messages,
    publishWindow: window,
    nightshift: ns.result,
    raw,
    ratio: round(ns.result.msgsPerSec / raw.msgsPerSec, 3),
  };
}
