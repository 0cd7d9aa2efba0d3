// startRedis() in each mode it can run here: an existing Redis (REDIS_URL), a private spawned
// redis-server (AOF restart, password), and the loud failure when no Redis can be had.
import { NightshiftError } from '@nightshift/protocol';
import { Redis } from 'ioredis';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../wait.js';
import { startRedis, type TestRedis } from './start.js';

// The shared local Redis (preamble: REDIS_URL if set, else 127.0.0.1:6379).
const SHARED_URL = process.env.REDIS_URL || 'redis://127.0.0.1:6379';
const started: TestRedis[] = [];
const clients: Redis[] = [];

function connect(url: string, options: { password?: string } = {}): Redis {
  const client = new Redis(url, { maxRetriesPerRequest: 1, ...options });
  client.on('error', () => undefined); // restarts drop the connection on purpose
  clients.push(client);
  return client;
}

async function track(redis: Promise<TestRedis>): Promise<TestRedis> {
  const r = await redis;
  started.push(r);
  return r;
}

afterEach(async () => {
  for (const c of clients.splice(0)) c.disconnect();
});

afterAll(async () => {
  await Promise.all(started.map((r) => r.stop()));
});

describe('startRedis: REDIS_URL (env mode)', () => {
  it('uses the given Redis with a unique hash-tagged prefix per call and refuses to restart it', async () => {
    const a = await track(startRedis({ env: { REDIS_URL: SHARED_URL } }));
    const b = await track(startRedis({ env: { REDIS_URL: SHARED_URL } }));
    expect(a.mode).toBe('env');
    expect(a.url).toBe(SHARED_URL);
    expect(a.prefix).toMatch(/^\{nst-[0-9a-f]+\}$/);
    expect(b.prefix).not.toBe(a.prefix);
    await expect(a.restart()).rejects.toThrow(/cannot restart.*REDIS_URL.*spawn: true/s);
  });

  it('stop() deletes only the keys under its own prefix', async () => {
    const mine = await startRedis({ env: { REDIS_URL: SHARED_URL } });
    const other = await track(startRedis({ env: { REDIS_URL: SHARED_URL } }));
    const client = connect(SHARED_URL);
    await client.set(`${mine.prefix}:a`, '1');
    await client.hset(`${mine.prefix}:run:1`, 'x', '1');
    await client.set(`${other.prefix}:a`, '2');
    await mine.stop();
    expect(await client.exists(`${mine.prefix}:a`, `${mine.prefix}:run:1`)).toBe(0);
    expect(await client.get(`${other.prefix}:a`)).toBe('2');
  });

  it('fails loudly when REDIS_URL points at nothing', async () => {
    const dead = `redis://127.0.0.1:${await freePort()}`;
    const error = await startRedis({ env: { REDIS_URL: dead } }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NightshiftError);
    expect((error as NightshiftError).code).toBe('REDIS_UNREACHABLE');
    expect((error as Error).message).toMatch(/did not answer PING.*unset REDIS_URL/s);
  });
});

describe('startRedis: spawned redis-server', () => {
  it('ignores REDIS_URL with spawn: true, and keeps AOF data across a restart on the same port', async () => {
    const redis = await track(startRedis({ spawn: true, aof: true, env: { REDIS_URL: SHARED_URL } }));
    expect(redis.mode).toBe('spawned');
    expect(redis.url).not.toBe(SHARED_URL);
    const pidBefore = redis.pid;
    const client = connect(redis.url);
    await client.set(`${redis.prefix}:k`, 'survives');
    await redis.restart();
    expect(redis.pid).toBeDefined();
    expect(redis.pid).not.toBe(pidBefore);
    const after = connect(redis.url);
    expect(await after.get(`${redis.prefix}:k`)).toBe('survives');
  });

  it('comes back on the same URL after a hard (SIGKILL) restart', async () => {
    const redis = await track(startRedis({ spawn: true, aof: true }));
    const pidBefore = redis.pid;
    await redis.restart({ hard: true, downtimeMs: 50 });
    expect(redis.pid).not.toBe(pidBefore);
    expect(await connect(redis.url).ping()).toBe('PONG');
  });

  it('without AOF, a restart starts empty', async () => {
    const redis = await track(startRedis({ spawn: true }));
    const client = connect(redis.url);
    await client.set('k', 'v');
    await redis.restart();
    expect(await connect(redis.url).get('k')).toBeNull();
  });

  it('requires the password when one is set', async () => {
    const redis = await track(startRedis({ password: 's3cret word' }));
    expect(redis.mode).toBe('spawned');
    const port = new URL(redis.url).port;
    await expect(connect(`redis://127.0.0.1:${port}`).ping()).rejects.toThrow(/NOAUTH/);
    expect(await connect(redis.url).ping()).toBe('PONG');
  });

  it('stop() kills the server and removes its data dir', async () => {
    const redis = await startRedis({ spawn: true });
    const { existsSync } = await import('node:fs');
    const dir = redis.dir ?? '';
    expect(existsSync(dir)).toBe(true);
    await redis.stop();
    expect(redis.pid).toBeUndefined();
    expect(existsSync(dir)).toBe(false);
    await expect(redis.restart()).rejects.toThrow(/stopped/);
  });
});

describe('startRedis: no Redis at all', () => {
  it('throws REDIS_UNAVAILABLE telling how to get Redis (never a silent skip)', async () => {
    const error = await startRedis({
      env: {},
      redisServerPath: '/nonexistent/redis-server',
      docker: false,
    }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NightshiftError);
    const { code, message } = error as NightshiftError;
    expect(code).toBe('REDIS_UNAVAILABLE');
    expect(message).toContain('REDIS_URL: not set');
    expect(message).toContain('/nonexistent/redis-server');
    expect(message).toContain('apt-get install redis-server');
    expect(message).toContain('set REDIS_URL=');
    expect(message).toContain('Docker');
  });
});
