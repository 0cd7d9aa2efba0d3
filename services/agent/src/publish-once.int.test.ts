// The publish-once guard against real Redis: racing attempts publish one answer between them.
import { NightshiftError } from '@nightshift/protocol';
import { createRedisClient, type RedisClient } from '@nightshift/redis';
import { startRedis, type TestRedis, uniquePrefix } from '@nightshift/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { answeredState, publishOnce } from './publish-once.js';

let redis: TestRedis;
let client: RedisClient;
const prefix = uniquePrefix();

beforeAll(async () => {
  redis = await startRedis();
  client = createRedisClient(redis.url);
});
afterAll(async () => {
  const keys = await client.keys(`${prefix}*`);
  if (keys.length > 0) await client.del(...keys);
  client.disconnect();
  await redis.stop();
});

describe('publishOnce', () => {
  it('publishes once however many attempts race to publish', async () => {
    const key = `${prefix}:answered:race`;
    let published = 0;
    const publish = async () => {
      published++;
      await new Promise((r) => setTimeout(r, 30));
      return { logId: `${published}-0` };
    };
    const results = await Promise.all(
      Array.from({ length: 8 }, () => publishOnce(client, key, publish, { pollMs: 10 })),
    );
    expect(published).toBe(1);
    expect(results.filter((r) => r.published)).toHaveLength(1);
    expect(new Set(results.map((r) => r.logId))).toEqual(new Set(['1-0']));
    expect(await answeredState(client, key)).toBe('done');
  });

  it('releases the claim when publishing fails, so a later attempt can answer', async () => {
    const key = `${prefix}:answered:fail`;
    const boom = new NightshiftError('REDIS_DOWN', 'publish failed', { category: 'transient' });
    await expect(publishOnce(client, key, () => Promise.reject(boom))).rejects.toBe(boom);
    expect(await answeredState(client, key)).toBe('none');
    await expect(publishOnce(client, key, async () => ({ logId: '7-0' }))).resolves.toEqual({
      published: true,
      logId: '7-0',
    });
  });

  it('takes over once a crashed publisher’s claim expires', async () => {
    const key = `${prefix}:answered:crashed`;
    await client.set(key, 'pending:dead', 'PX', 300);
    const result = await publishOnce(client, key, async () => ({ logId: '9-0' }), { pollMs: 20 });
    expect(result).toEqual({ published: true, logId: '9-0' });
  });
});
