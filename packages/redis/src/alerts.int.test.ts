import { NightshiftError } from '@nightshift/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { alertKeys, createAlertStore, type RaiseAlertInput } from './alerts.js';
import { createRedis } from './connection.js';
import { createKeys } from './keys.js';
import { deletePrefix, REDIS_URL, uniquePrefix } from './test-support.js';

const prefix = uniquePrefix('alerts');
const keys = createKeys(prefix);
const redis = createRedis(REDIS_URL);
const store = createAlertStore(redis, keys);

afterAll(async () => {
  await deletePrefix(redis, prefix);
  await redis.quit();
});

const input = (key: string, extra: Partial<RaiseAlertInput> = {}): RaiseAlertInput => ({
  key,
  level: 3,
  rule: 'resources.queue-depth',
  subject: 'agent.builder',
  reason: 'queue agent.builder has 51 waiting > 50',
  actions: ['pause-all', 'notify-human'],
  ...extra,
});

describe('alert store', () => {
  it('raises once per key: a second raise returns the first alert with created=false', async () => {
    const first = await store.raise(input('k-once', { runId: 'run_a', file: '/m/alerts/ALERT-x.md' }));
    expect(first.created).toBe(true);
    expect(first.alert).toMatchObject({
      key: 'k-once',
      runId: 'run_a',
      level: 3,
      status: 'open',
      file: '/m/alerts/ALERT-x.md',
    });
    expect(first.alert.id).toMatch(/^alert_[A-Za-z0-9]+$/);
    const again = await store.raise(input('k-once', { reason: 'different words', level: 4 }));
    expect(again.created).toBe(false);
    expect(again.alert).toEqual(first.alert);
    expect(await store.get(first.alert.id)).toEqual(first.alert);
  });

  it('is atomic under concurrent raises of one key (exactly one is created)', async () => {
    const results = await Promise.all(Array.from({ length: 20 }, () => store.raise(input('k-race'))));
    expect(results.filter((r) => r.created)).toHaveLength(1);
    expect(new Set(results.map((r) => r.alert.id)).size).toBe(1);
  });

  it('lists newest first, filtered by status and run, with a limit', async () => {
    const base = Date.parse('2030-01-01T00:00:00.000Z');
    const at = (n: number) => new Date(base + n * 1000).toISOString();
    const a = await store.raise(input('k-list-a', { runId: 'run_l', at: at(1) }));
    const b = await store.raise(input('k-list-b', { runId: 'run_l', at: at(2) }));
    const c = await store.raise(input('k-list-c', { runId: 'run_other', at: at(3) }));
    await store.resolve(b.alert.id, { decision: 'continue', by: 'human' });

    const ofRun = await store.list({ runId: 'run_l' });
    expect(ofRun.map((r) => r.id)).toEqual([b.alert.id, a.alert.id]);
    expect((await store.list({ runId: 'run_l', status: 'open' })).map((r) => r.id)).toEqual([a.alert.id]);
    expect((await store.list({ status: 'resolved', runId: 'run_l' })).map((r) => r.id)).toEqual([b.alert.id]);
    expect((await store.list({ limit: 1 })).map((r) => r.id)).toEqual([c.alert.id]);
  });

  it('resolves with the decision, note and who; the first resolution wins', async () => {
    const { alert } = await store.raise(input('k-resolve'));
    const resolved = await store.resolve(alert.id, { decision: 'abort', note: 'too risky', by: 'human' });
    expect(resolved).toMatchObject({
      id: alert.id,
      status: 'resolved',
      resolution: { decision: 'abort', note: 'too risky', by: 'human' },
    });
    expect(Number.isNaN(Date.parse(resolved.resolvedAt ?? ''))).toBe(false);
    const second = await store.resolve(alert.id, { decision: 'continue', by: 'someone-else' });
    expect(second.resolution).toEqual({ decision: 'abort', note: 'too risky', by: 'human' });
    expect(await store.get(alert.id)).toEqual(resolved);
    // The key stays known: the same incident is not raised again after its resolution.
    expect((await store.raise(input('k-resolve'))).created).toBe(false);
  });

  it('throws ALERT_NOT_FOUND (invalid-input) for an unknown id, and undefined from get', async () => {
    await expect(store.resolve('alert_nope', { decision: 'continue', by: 'human' })).rejects.toMatchObject({
      code: 'ALERT_NOT_FOUND',
      category: 'invalid-input',
    });
    await expect(store.resolve('alert_nope', { decision: 'continue', by: 'human' })).rejects.toBeInstanceOf(
      NightshiftError,
    );
    expect(await store.get('alert_nope')).toBeUndefined();
  });

  it('refuses a bad level or resolution with a ValidationError naming the field', async () => {
    await expect(store.raise(input('k-bad', { level: 7 as 3 }))).rejects.toThrow(/level/);
    const { alert } = await store.raise(input('k-bad-res'));
    await expect(store.resolve(alert.id, { decision: 'maybe' as 'note', by: 'human' })).rejects.toThrow(
      /decision/,
    );
  });

  it('merges a resolution whose record update was lost (crash between the two writes)', async () => {
    const { alert } = await store.raise(input('k-crash'));
    const at = '2030-01-02T00:00:00.000Z';
    await redis.hset(
      alertKeys(keys).resolutions,
      alert.id,
      JSON.stringify({ at, resolution: { decision: 'continue', by: 'human' } }),
    );
    expect(await store.get(alert.id)).toMatchObject({
      status: 'resolved',
      resolvedAt: at,
      resolution: { decision: 'continue', by: 'human' },
    });
    expect((await store.list({ status: 'open' })).some((r) => r.id === alert.id)).toBe(false);
  });
});
