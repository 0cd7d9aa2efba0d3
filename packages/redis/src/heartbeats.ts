// Heartbeats let others see who is alive: one key per process instance with a TTL, refreshed
// while the process lives; a missing key means the process stopped or died.
import { hostname } from 'node:os';
import type { Redis } from 'ioredis';
import { isCluster, type RedisClient } from './connection.js';
import type { Keys } from './keys.js';

export interface HeartbeatOptions {
  role: string;
  instance: string;
  ttlMs: number;
  /** What the process is doing, e.g. 'idle', 'busy', 'stopping' (default 'alive'). */
  status?: string;
  /** Anything else worth showing (current job, run, version); must be JSON-serialisable. */
  info?: Record<string, unknown>;
}

export interface HeartbeatRecord {
  role: string;
  instance: string;
  status: string;
  pid: number;
  host: string;
  /** When this beat was written (ISO 8601). */
  ts: string;
  ttlMs: number;
  info: Record<string, unknown>;
}

/** Writes (or refreshes) this instance's heartbeat; it disappears `ttlMs` after the last beat. */
export async function heartbeat(
  redis: RedisClient,
  keys: Keys,
  options: HeartbeatOptions,
): Promise<HeartbeatRecord> {
  if (!Number.isInteger(options.ttlMs) || options.ttlMs <= 0) {
    throw new Error(`heartbeat ttlMs must be a positive integer, got ${options.ttlMs}`);
  }
  const record: HeartbeatRecord = {
    role: options.role,
    instance: options.instance,
    status: options.status ?? 'alive',
    pid: process.pid,
    host: hostname(),
    ts: new Date().toISOString(),
    ttlMs: options.ttlMs,
    info: options.info ?? {},
  };
  await redis.set(
    keys.heartbeat(options.role, options.instance),
    JSON.stringify(record),
    'PX',
    options.ttlMs,
  );
  return record;
}

/** Removes the heartbeat at once (graceful stop), instead of waiting for the TTL. */
export async function clearHeartbeat(
  redis: RedisClient,
  keys: Keys,
  role: string,
  instance: string,
): Promise<void> {
  await redis.del(keys.heartbeat(role, instance));
}

/**
 * Every live heartbeat (of one role, or all). SCAN runs on each master of a Cluster; with the
 * hash-tagged prefix they all sit on one node anyway. Unreadable values are skipped.
 */
export async function listHeartbeats(
  redis: RedisClient,
  keys: Keys,
  role?: string,
): Promise<HeartbeatRecord[]> {
  const pattern = keys.heartbeatPattern(role);
  const nodes: Redis[] = isCluster(redis) ? redis.nodes('master') : [redis];
  const found = new Set<string>();
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      for (const key of batch) found.add(key);
      cursor = next;
    } while (cursor !== '0');
  }
  const values = await Promise.all([...found].map((key) => redis.get(key)));
  const records: HeartbeatRecord[] = [];
  for (const value of values) {
    const record = value === null ? undefined : decode(value);
    if (record) records.push(record);
  }
  return records.sort((a, b) => a.role.localeCompare(b.role) || a.instance.localeCompare(b.instance));
}

function decode(value: string): HeartbeatRecord | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch (error) {
    // Not ours or corrupt: a heartbeat list must never fail because of one bad key.
    void error;
    return undefined;
  }
  if (typeof parsed !== 'object' || parsed === null) return undefined;
  const r = parsed as Partial<HeartbeatRecord>;
  if (typeof r.role !== 'string' || typeof r.instance !== 'string' || typeof r.ts !== 'string')
    return undefined;
  return {
    role: r.role,
    instance: r.instance,
    status: typeof r.status === 'string' ? r.status : 'alive',
    pid: typeof r.pid === 'number' ? r.pid : 0,
    host: typeof r.host === 'string' ? r.host : '',
    ts: r.ts,
    ttlMs: typeof r.ttlMs === 'number' ? r.ttlMs : 0,
    info: typeof r.info === 'object' && r.info !== null ? r.info : {},
  };
}
