// Issue 4 acceptance, "Redis restart": a spawned redis-server with AOF restarts while the
// gateway and an agent have work queued and in flight; both reconnect and finish all of it.
import { type Bus, createBus, createKeys, listHeartbeats } from '@nightshift/redis';
import {
  type FakeOllama,
  startFakeOllama,
  startRedis,
  type TestRedis,
  uniquePrefix,
  waitFor,
} from '@nightshift/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AGENT_MAIN,
  GATEWAY_MAIN,
  requestTo,
  responsesByRequest,
  type ServiceProcess,
  serviceEnv,
  spawnService,
  stopAll,
} from './agent-harness.js';

let redis: TestRedis;
let fake: FakeOllama;
let bus: Bus;
const procs: ServiceProcess[] = [];

beforeAll(async () => {
  redis = await startRedis({ spawn: true, aof: true });
  fake = await startFakeOllama({ numParallel: 2, latencyMs: 300 });
  bus = createBus({ url: redis.url, keys: createKeys(uniquePrefix()), onError: () => undefined });
});
afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail' || process.env.DEBUG_E2E)
    for (const p of procs) console.error(p.tail(60));
});
afterAll(async () => {
  await stopAll(procs);
  await bus?.close();
  await fake?.stop();
  await redis?.stop();
});

describe('a Redis restart (AOF)', () => {
  it('is survived: the services reconnect and finish the work queued before it', async () => {
    const env = {
      REDIS_URL: redis.url,
      NIGHTSHIFT_PREFIX: bus.keys.prefix,
      OLLAMA_HOST: fake.url,
      QUEUE_LOCK_DURATION_MS: '5000',
      QUEUE_STALLED_INTERVAL_MS: '2000',
      ROLE_CONCURRENCY_BUILDER: '3',
    };
    procs.push(spawnService('gateway', GATEWAY_MAIN, serviceEnv(env)));
    const agent = spawnService('builder', AGENT_MAIN, serviceEnv({ ...env, ROLE: 'builder' }));
    procs.push(agent);
    await waitFor(async () => (await listHeartbeats(bus.redis, bus.keys)).length >= 2, {
      timeoutMs: 60_000,
      what: 'heartbeats',
    });

    const sent = Array.from({ length: 12 }, (_, i) => requestTo('builder', `before the restart #${i}`));
    for (const m of sent) await bus.publish(m);
    await waitFor(() => fake.records.length >= 1, { timeoutMs: 30_000, what: 'work in flight' });

    await redis.restart({ downtimeMs: 1000 });

    const answered = await waitFor(
      async () => {
        const byRequest = await responsesByRequest(bus);
        return sent.every((m) => byRequest.has(m.id)) ? byRequest : undefined;
      },
      { timeoutMs: 120_000, intervalMs: 500, what: 'every request answered after the restart' },
    );
    for (const m of sent) expect(answered.get(m.id), `answers to ${m.id}`).toHaveLength(1);
    expect(agent.alive).toBe(true);
    expect(procs.every((p) => p.alive)).toBe(true);
  });
});
