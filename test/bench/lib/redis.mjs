// Redis helpers of the benchmark: a stream tail (XREAD BLOCK) that timestamps entries as they
// appear, readiness of spawned services (heartbeat by pid, or /healthz), and prefix cleanup.
import { performance } from 'node:perf_hooks';
import { createRedisClient, listHeartbeats } from '@nightshift/redis';
import { sleep } from '@nightshift/testkit';

export function openRedis(url, name) {
  return createRedisClient(url, { maxRetriesPerRequest: null, connectionName: name });
}

/** Id of the newest entry of a stream ('0-0' when empty): a tail started there misses nothing. */
export async function newestId(redis, key) {
  const newest = await redis.xrevrange(key, '+', '-', 'COUNT', 1);
  return newest[0]?.[0] ?? '0-0';
}

/**
 * Follows `key` on its own connection from `fromId`; `onEntry(id, fields, seenAt)` gets each
 * entry with the performance.now() at which this process received it.
 */
export function tailStream(url, key, fromId, onEntry) {
  const conn = openRedis(url, 'bench-tail');
  let stopped = false;
  let last = fromId;
  const loop = (async () => {
    while (!stopped) {
      const reply = await conn.xread('COUNT', 2000, 'BLOCK', 1000, 'STREAMS', key, last);
      const seenAt = performance.now();
      if (!reply) continue;
      for (const [, entries] of reply) {
        for (const [id, fields] of entries) {
          last = id;
          onEntry(id, fields, seenAt);
        }
      }
    }
  })().catch((error) => {
    // disconnect() below rejects the XREAD in flight: that is the normal way out.
    if (!stopped) throw error;
  });
  return {
    loop,
    async stop() {
      stopped = true;
      conn.disconnect();
      await loop;
    },
  };
}

/** The value of field `name` in an XREAD field list. */
export function field(fields, name) {
  for (let i = 0; i < fields.length; i += 2) if (fields[i] === name) return fields[i + 1];
  return undefined;
}

async function healthzOk(port) {
  if (port === undefined) return false;
  try {
    const res = await fetch(`http://127.0.0.1:${port}/healthz`, { signal: AbortSignal.timeout(500) });
    await res.arrayBuffer();
    return res.status === 200;
  } catch (error) {
    void error; // not listening yet
    return false;
  }
}

/**
 * Waits until every process is healthy: its /healthz answers 200 (services that serve one when
 * HEALTH_PORT is set) or a heartbeat key carries its pid. Returns ms from `t0` per process.
 */
export async function waitHealthy(redis, keys, procs, { t0 = performance.now(), timeoutMs = 60_000 } = {}) {
  const readyAt = {};
  const via = {};
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const beats = await listHeartbeats(redis, keys);
    const pids = new Set(beats.map((b) => b.pid));
    await Promise.all(
      procs.map(async (p) => {
        if (readyAt[p.name] !== undefined) return;
        if (pids.has(p.pid)) via[p.name] = 'heartbeat';
        else if (await healthzOk(p.healthPort)) via[p.name] = 'healthz';
        else return;
        readyAt[p.name] = performance.now() - t0;
      }),
    );
    if (procs.every((p) => readyAt[p.name] !== undefined)) return { readyAt, via };
    const dead = procs.find((p) => !p.alive);
    if (dead) throw new Error(`${dead.name} exited before it was healthy\n${dead.tail()}`);
    if (Date.now() > deadline) {
      const missing = procs.filter((p) => readyAt[p.name] === undefined);
      throw new Error(
        `not healthy after ${timeoutMs} ms: ${missing.map((p) => p.name).join(', ')}\n${missing.map((p) => p.tail()).join('\n')}`,
      );
    }
    await sleep(25);
  }
}

/** Deletes every key under a prefix (SCAN + UNLINK); used only on a Redis we did not spawn. */
export async function deletePrefix(redis, prefix) {
  let cursor = '0';
  const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
  do {
    const [next, batch] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    if (batch.length > 0) await redis.unlink(...batch);
    cursor = next;
  } while (cursor !== '0');
}
