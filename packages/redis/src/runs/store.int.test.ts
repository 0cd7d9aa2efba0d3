import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedis } from '../connection.js';
import { createKeys } from '../keys.js';
import { createRunStore } from './store.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const keys = createKeys(`{t-store-${randomBytes(4).toString('hex')}}`);
const redis = createRedis(url);
const store = createRunStore(redis, keys);

afterAll(async () => {
  const found = await redis.keys(`${keys.prefix}:*`);
  if (found.length > 0) await redis.del(...found);
  await redis.quit();
});

describe('run store', () => {
  it('appends only at the expected version, so a step is never applied twice', async () => {
    const first = await store.append('run_a', 0, [{ type: 'run.created' }]);
    expect(first).toEqual({ ok: true, version: 1 });
    // Two directors race to apply the same step at version 1: exactly one wins.
    const [x, y] = await Promise.all([
      store.append('run_a', 1, [{ type: 'step.completed', by: 'x' }]),
      store.append('run_a', 1, [{ type: 'step.completed', by: 'y' }]),
    ]);
    expect([x.ok, y.ok].filter(Boolean)).toHaveLength(1);
    expect((x.ok ? y : x).version).toBe(2);
    const events = await store.read('run_a');
    expect(events.map((e) => e.version)).toEqual([1, 2]);
    expect(await store.version('run_a')).toBe(2);
    expect(await store.list()).toEqual(['run_a']);
  });

  it('reads after a version and reports corrupt entries instead of throwing', async () => {
    await store.append('run_b', 0, [{ type: 'a' }, { type: 'b' }, { type: 'c' }]);
    expect((await store.read('run_b', 2)).map((e) => e.event)).toEqual([{ type: 'c' }]);
    await redis.xadd(keys.runEvents('run_b'), '*', 'v', '4', 'event', '{not json');
    const last = (await store.read('run_b', 3))[0];
    expect(last?.event).toMatchObject({ type: 'corrupt', raw: '{not json' });
  });

  it('follows new events', async () => {
    await store.append('run_c', 0, [{ type: 'one' }]);
    const reader = createRedis(url, { maxRetriesPerRequest: null });
    try {
      const [latest] = await store.read('run_c');
      await store.append('run_c', 1, [{ type: 'two' }]);
      const pending = store.follow('run_c', latest?.streamId ?? '0', 5000, reader);
      expect((await pending).map((e) => e.event)).toEqual([{ type: 'two' }]);
    } finally {
      reader.disconnect();
    }
  });
});
