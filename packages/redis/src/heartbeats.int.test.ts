import { afterAll, describe, expect, it } from 'vitest';
import { createRedis } from './connection.js';
import { clearHeartbeat, heartbeat, listHeartbeats } from './heartbeats.js';
import { createKeys } from './keys.js';
import { deletePrefix, REDIS_URL, uniquePrefix, waitFor } from './test-support.js';

const prefix = uniquePrefix('hb');
const keys = createKeys(prefix);
const redis = createRedis(REDIS_URL);

afterAll(async () => {
  await deletePrefix(redis, prefix);
  await redis.quit();
});

describe('heartbeats', () => {
  it('lists live instances with pid, ts, status and info; they vanish after the TTL or on clear', async () => {
    await heartbeat(redis, keys, {
      role: 'builder',
      instance: 'b-1',
      ttlMs: 30_000,
      status: 'busy',
      info: { job: 'j1' },
    });
    await heartbeat(redis, keys, { role: 'builder', instance: 'b-2', ttlMs: 30_000 });
    await heartbeat(redis, keys, { role: 'scout', instance: 's-1', ttlMs: 60 });
    await redis.set(keys.heartbeat('builder', 'corrupt'), '{oops', 'PX', 30_000);

    const builders = await listHeartbeats(redis, keys, 'builder');
    expect(builders.map((h) => h.instance)).toEqual(['b-1', 'b-2']);
    expect(builders[0]).toMatchObject({
      role: 'builder',
      status: 'busy',
      pid: process.pid,
      info: { job: 'j1' },
    });
    expect(builders[1]?.status).toBe('alive');
    expect(Number.isNaN(Date.parse(builders[0]?.ts ?? ''))).toBe(false);
    expect(await redis.pttl(keys.heartbeat('builder', 'b-1'))).toBeGreaterThan(0);

    await waitFor(
      async () => (await listHeartbeats(redis, keys, 'scout')).length === 0,
      'the scout to expire',
    );
    await clearHeartbeat(redis, keys, 'builder', 'b-2');
    expect((await listHeartbeats(redis, keys)).map((h) => h.instance)).toEqual(['b-1']);
  });
});
