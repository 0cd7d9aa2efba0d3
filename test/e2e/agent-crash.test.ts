// Issue 4 acceptance, "Crash": kill -9 an agent mid-job; a new agent process takes the job over
// through BullMQ stalled-job recovery, and exactly one RESPONSE for it reaches bus:log.
import {
  type Bus,
  createBus,
  createKeys,
  createRedisClient,
  listHeartbeats,
  QUEUE_NAMES,
} from '@nightshift/redis';
import {
  type FakeOllama,
  startFakeOllama,
  startRedis,
  type TestRedis,
  uniquePrefix,
  waitFor,
} from '@nightshift/testkit';
import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AGENT_MAIN,
  GATEWAY_MAIN,
  readWholeLog,
  requestTo,
  type ServiceProcess,
  serviceEnv,
  spawnService,
  stopAll,
} from './agent-harness.js';

let redis: TestRedis;
let fake: FakeOllama;
let bus: Bus;
const procs: ServiceProcess[] = [];
let env: Record<string, string>;

beforeAll(async () => {
  redis = await startRedis();
  fake = await startFakeOllama({ numParallel: 2, latencyMs: 20 });
  const prefix = uniquePrefix();
  bus = createBus({ url: redis.url, keys: createKeys(prefix), onError: () => undefined });
  env = {
    REDIS_URL: redis.url,
    NIGHTSHIFT_PREFIX: prefix,
    OLLAMA_HOST: fake.url,
    // REFERENCE (stalled jobs): seconds, not BullMQ's 30 s default, so recovery is quick.
    QUEUE_LOCK_DURATION_MS: '2000',
    QUEUE_STALLED_INTERVAL_MS: '1000',
    QUEUE_MAX_STALLED_COUNT: '3',
  };
});
afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail' || process.env.DEBUG_E2E)
    for (const p of procs) console.error(p.tail(40));
});
afterAll(async () => {
  await fake?.stop(); // first: releases the gateway's call that nobody waits for any more
  await stopAll(procs);
  await bus?.close();
  await redis?.stop();
});

describe('an agent killed mid-job', () => {
  it('has its job run again by a new process, with exactly one RESPONSE in bus:log', async () => {
    // The first call for this task hangs at "Ollama"; later ones answer at once.
    fake.setScenario([
      { match: { contains: 'SLOW-TASK' }, reply: { content: 'never seen', latencyMs: 120_000 }, times: 1 },
      { match: { contains: 'SLOW-TASK' }, reply: { content: 'the finished task' } },
    ]);
    procs.push(spawnService('gateway', GATEWAY_MAIN, serviceEnv(env)));
    const first = spawnService('builder-1', AGENT_MAIN, serviceEnv({ ...env, ROLE: 'builder' }));
    procs.push(first);
    await waitFor(async () => (await listHeartbeats(bus.redis, bus.keys)).length >= 2, {
      timeoutMs: 60_000,
      what: 'heartbeats',
    });

    const request = requestTo('builder', 'SLOW-TASK: implement the parser');
    await bus.publish(request);
    await waitFor(() => fake.records.some((r) => r.messages.at(-1)?.content.includes('SLOW-TASK')), {
      timeoutMs: 30_000,
      what: 'the first attempt reaching Ollama',
    });

    first.child.kill('SIGKILL');
    await first.exited;
    const second = spawnService('builder-2', AGENT_MAIN, serviceEnv({ ...env, ROLE: 'builder' }));
    procs.push(second);

    const response = await waitFor(
      async () =>
        (await readWholeLog(bus))
          .map((e) => e.message)
          .find((m) => m?.type === 'RESPONSE' && m.inReplyTo === request.id),
      { timeoutMs: 90_000, intervalMs: 200, what: 'the RESPONSE after recovery' },
    );
    expect(response.content).toContain('the finished task');
    expect(response.attempt).toBeGreaterThanOrEqual(2);
    expect(response.from).toBe('builder');
    expect(response.to).toBe('director');

    // The job completed, in BullMQ too (not failed as "stalled more than allowable limit").
    const connection = createRedisClient(redis.url, { maxRetriesPerRequest: null });
    const queue = new Queue(QUEUE_NAMES.agent('builder'), { connection, prefix: bus.keys.prefix });
    try {
      await waitFor(async () => (await queue.getJobState(request.id)) === 'completed', {
        timeoutMs: 30_000,
        what: 'job completed',
      });
    } finally {
      await queue.close();
      connection.disconnect();
    }

    const log = (await readWholeLog(bus)).map((e) => e.message).filter((m) => m?.inReplyTo === request.id);
    expect(log.filter((m) => m?.type === 'RESPONSE')).toHaveLength(1);
    // Both attempts announced themselves, each marked with its attempt number.
    const statuses = log.filter((m) => m?.type === 'STATUS').map((m) => m?.attempt);
    expect(statuses).toContain(1);
    expect(Math.max(...statuses.map((a) => a ?? 0))).toBeGreaterThanOrEqual(2);
    expect(fake.records.filter((r) => r.messages.at(-1)?.content.includes('SLOW-TASK'))).toHaveLength(2);
    expect(second.alive).toBe(true);
  });
});
