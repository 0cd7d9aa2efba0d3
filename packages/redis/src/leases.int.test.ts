import { afterAll, describe, expect, it } from 'vitest';
import { createRedis } from './connection.js';
import { createKeys } from './keys.js';
import { acquireLease, leaseHolder, releaseLease, renewLease } from './leases.js';
import { deletePrefix, REDIS_URL, uniquePrefix, waitFor } from './test-support.js';

const prefix = uniquePrefix('lease');
const keys = createKeys(prefix);
const redis = createRedis(REDIS_URL);

afterAll(async () => {
  await deletePrefix(redis, prefix);
  await redis.quit();
});

describe('leases', () => {
  it('lets one holder in; a second acquirer fails; the holder may re-acquire', async () => {
    expect(await acquireLease(redis, keys, 'director', { ttlMs: 30_000, token: 'a' })).toBe(true);
    expect(await acquireLease(redis, keys, 'director', { ttlMs: 30_000, token: 'b' })).toBe(false);
    expect(await acquireLease(redis, keys, 'director', { ttlMs: 30_000, token: 'a' })).toBe(true);
    expect(await leaseHolder(redis, keys, 'director')).toBe('a');
  });

  it('refuses renew and release with the wrong token, and leaves the lease untouched', async () => {
    await acquireLease(redis, keys, 'scribe', { ttlMs: 30_000, token: 'owner' });
    const ttlBefore = await redis.pttl(keys.lease('scribe'));
    expect(await renewLease(redis, keys, 'scribe', { ttlMs: 90_000, token: 'intruder' })).toBe(false);
    expect(await releaseLease(redis, keys, 'scribe', { token: 'intruder' })).toBe(false);
    expect(await leaseHolder(redis, keys, 'scribe')).toBe('owner');
    expect(await redis.pttl(keys.lease('scribe'))).toBeLessThanOrEqual(ttlBefore);

    expect(await renewLease(redis, keys, 'scribe', { ttlMs: 90_000, token: 'owner' })).toBe(true);
    expect(await redis.pttl(keys.lease('scribe'))).toBeGreaterThan(30_000);
    expect(await releaseLease(redis, keys, 'scribe', { token: 'owner' })).toBe(true);
    expect(await leaseHolder(redis, keys, 'scribe')).toBeNull();
    expect(await renewLease(redis, keys, 'scribe', { ttlMs: 1000, token: 'owner' })).toBe(false);
  });

  it('lets another take over after expiry, and the old holder can no longer renew or release', async () => {
    expect(await acquireLease(redis, keys, 'sentinel', { ttlMs: 50, token: 'old' })).toBe(true);
    await waitFor(async () => (await leaseHolder(redis, keys, 'sentinel')) === null, 'the lease to expire');
    expect(await acquireLease(redis, keys, 'sentinel', { ttlMs: 30_000, token: 'new' })).toBe(true);
    expect(await renewLease(redis, keys, 'sentinel', { ttlMs: 30_000, token: 'old' })).toBe(false);
    expect(await releaseLease(redis, keys, 'sentinel', { token: 'old' })).toBe(false);
    expect(await leaseHolder(redis, keys, 'sentinel')).toBe('new');
  });

  it('rejects a non-positive TTL', async () => {
    await expect(acquireLease(redis, keys, 'x', { ttlMs: 0, token: 't' })).rejects.toThrow(/ttlMs/);
  });
});
