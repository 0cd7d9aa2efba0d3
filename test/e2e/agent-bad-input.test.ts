// Issue 4 acceptance, "Bad input" (the job side): garbage, an unknown role, a topology violation
// and a 1 MB content field queued as jobs on agent.builder each end in `dead-letter` with the
// reason; the agent process stays up and keeps serving.
import { newId, TopologyViolation } from '@nightshift/protocol';
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
const queues: Queue[] = [];

beforeAll(async () => {
  redis = await startRedis();
  fake = await startFakeOllama({ numParallel: 2 });
  bus = createBus({ url: redis.url, keys: createKeys(uniquePrefix()), onError: () => undefined });
});
afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail' || process.env.DEBUG_E2E)
    for (const p of procs) console.error(p.tail(40));
});
afterAll(async () => {
  await stopAll(procs);
  for (const q of queues) await q.close();
  await bus?.close();
  await fake?.stop();
  await redis?.stop();
});

describe('bad jobs on agent.builder', () => {
  it('are dead-lettered with their reason while the agent keeps serving', async () => {
    const env = { REDIS_URL: redis.url, NIGHTSHIFT_PREFIX: bus.keys.prefix, OLLAMA_HOST: fake.url };
    procs.push(spawnService('gateway', GATEWAY_MAIN, serviceEnv(env)));
    const agent = spawnService('builder', AGENT_MAIN, serviceEnv({ ...env, ROLE: 'builder' }));
    procs.push(agent);
    await waitFor(async () => (await listHeartbeats(bus.redis, bus.keys)).length >= 2, {
      timeoutMs: 60_000,
      what: 'heartbeats',
    });

    const connection = createRedisClient(redis.url, { maxRetriesPerRequest: null });
    const work = new Queue(QUEUE_NAMES.agent('builder'), { connection, prefix: bus.keys.prefix });
    const dead = new Queue(QUEUE_NAMES.deadLetter, { connection, prefix: bus.keys.prefix });
    queues.push(work, dead);

    // Written around publish() (which would refuse them), straight onto the queue.
    const bad: Record<string, unknown> = {
      garbage: '\u0000\u0001 not json at all {',
      unknownRole: { ...requestTo('builder', 'x'), from: 'wizard' },
      topology: { ...requestTo('builder', 'x'), from: 'architect' },
      huge: requestTo('builder', 'y'.repeat(1024 * 1024)),
    };
    for (const [name, data] of Object.entries(bad))
      await work.add('REQUEST', data, { jobId: `bad-${name}`, priority: 3 });

    const good = requestTo('builder', 'a normal task after the bad ones');
    await bus.publish(good);
    await waitFor(
      async () =>
        (await readWholeLog(bus)).some(
          (e) => e.message?.type === 'RESPONSE' && e.message.inReplyTo === good.id,
        ),
      { timeoutMs: 60_000, what: 'the good request answered' },
    );

    const letters = await waitFor(
      async () => {
        const jobs = await dead.getJobs(['waiting', 'prioritized']);
        return jobs.length >= 4 ? jobs : undefined;
      },
      { timeoutMs: 30_000, what: 'four dead letters' },
    );
    const reasonOf = (name: string) =>
      String(letters.find((j) => String(j.id).endsWith(`bad-${name}`))?.data.reason);
    expect(reasonOf('garbage')).toMatch(/invalid message/);
    expect(reasonOf('unknownRole')).toMatch(/from/);
    expect(reasonOf('topology')).toMatch(/topology violation/);
    expect(reasonOf('huge')).toMatch(/content/);
    for (const job of letters) expect(job.data.source).toBe(QUEUE_NAMES.agent('builder'));
    expect(letters.find((j) => String(j.id).endsWith('bad-huge'))?.data.payload.content).toHaveLength(
      1024 * 1024,
    );

    // Still alive, still beating, and publish itself refuses a topology violation.
    expect(agent.alive).toBe(true);
    expect((await listHeartbeats(bus.redis, bus.keys, 'builder')).length).toBe(1);
    await expect(
      bus.publish({
        ...requestTo('builder', 'x'),
        id: newId('msg'),
        from: 'architect',
        to: 'ALL',
        type: 'DECISION',
      }),
    ).rejects.toBeInstanceOf(TopologyViolation);

    // SIGTERM: a clean stop, and the heartbeat goes with it (not left to expire).
    agent.child.kill('SIGTERM');
    expect(await agent.exited).toBe(0);
    expect(await listHeartbeats(bus.redis, bus.keys, 'builder')).toEqual([]);
  });
});
