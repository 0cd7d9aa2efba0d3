// The Director forgets which runs it saw end when Redis comes back after a drop (issue 21 §3): a
// crash can lose a run's last events, run.finished among them, and a run it remembered as over
// would otherwise never be ticked again (the chaos redis-restart scenario saw one stay "running").
import { createBus, createKeys, createRedisClient, type RunStore } from '@nightshift/redis';
import { createLogger } from '@nightshift/runtime';
import { startRedis, type TestRedis, uniquePrefix, waitFor } from '@nightshift/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DirectorService } from './director.js';
import type { RunDriver } from './driver.js';

let redis: TestRedis;
beforeAll(async () => {
  redis = await startRedis();
});
afterAll(() => redis.stop());

describe('DirectorService after Redis came back', () => {
  it('ticks again a run it had seen finish, once told Redis reconnected', async () => {
    const keys = createKeys(uniquePrefix());
    const bus = createBus({ url: redis.url, keys, onError: () => undefined });
    const client = createRedisClient(redis.url);
    const blocking = createRedisClient(redis.url, { maxRetriesPerRequest: null });
    const status: Record<string, string> = { run_a: 'running' };
    const ticks: string[] = [];
    const driver = {
      tick: async (runId: string) => {
        ticks.push(runId);
      },
      load: async (runId: string) => ({ state: { status: status[runId] }, version: 1, events: [] }),
    } as unknown as RunDriver;
    const store = { list: async () => ['run_a'] } as unknown as RunStore;
    const director = new DirectorService({
      redis: client,
      connection: blocking,
      keys,
      bus,
      store,
      driver,
      logger: createLogger({ service: 'test', level: 'silent' }),
      tickMs: 20,
      // Long: under a loaded CI machine a short lease can lapse, and a Director that is not leading ticks nothing.
      leaseTtlMs: 60_000,
    });
    try {
      await director.start();
      await waitFor(() => ticks.length >= 2, { what: 'the run to be ticked', timeoutMs: 30_000 });
      status.run_a = 'finished';
      await waitFor(() => ticks.length >= 4, { what: 'the finished run to be seen', timeoutMs: 30_000 });
      // Remembered as over: no more ticks (one listed just before it ended may still come).
      await new Promise((r) => setTimeout(r, 300));
      const settled = ticks.length;
      // Redis lost the run's end (AOF cut): the log says running again, but nobody looks.
      status.run_a = 'running';
      await new Promise((r) => setTimeout(r, 300));
      const quiet = ticks.length;
      expect(quiet).toBeLessThanOrEqual(settled + 1);
      director.redisReconnected();
      await waitFor(() => ticks.length >= quiet + 3, {
        what: 'the run to be ticked again',
        timeoutMs: 30_000,
      });
    } finally {
      await director.stop();
      await bus.close();
      client.disconnect();
      blocking.disconnect();
    }
  }, 120_000);
});
