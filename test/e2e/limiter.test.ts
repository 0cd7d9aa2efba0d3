// Issue 4 acceptance, "The limiter" and "Backpressure": real llm-gateway and agent processes
// (spawned from their built entry files) against a fake Ollama and real Redis.
import { GatewayChatModel, LLM_QUEUE, type LlmJobData, retryingChat } from '@nightshift/llm';
import { LlmQueueFull, type Message, type Priority, WORKER_ROLES } from '@nightshift/protocol';
import { type Bus, createBus, createKeys, createRedisClient, listHeartbeats } from '@nightshift/redis';
import {
  type FakeOllama,
  startFakeOllama,
  startRedis,
  type TestRedis,
  uniquePrefix,
  waitFor,
} from '@nightshift/testkit';
import { type Job, Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  AGENT_MAIN,
  GATEWAY_MAIN,
  peakOverlap,
  requestTo,
  responsesByRequest,
  type ServiceProcess,
  serviceEnv,
  spawnService,
  stopAll,
} from './agent-harness.js';

let redis: TestRedis;
let procs: ServiceProcess[] = [];
const closers: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail' || process.env.DEBUG_E2E)
    for (const p of procs) console.error(p.tail(40));
  await stopAll(procs);
  procs = [];
  for (const close of closers.splice(0).reverse()) await close();
});
afterAll(() => redis?.stop());

async function fakeOllama(slots: number, latencyMs: number): Promise<FakeOllama> {
  // The fake admits two MORE calls than the limit and queues none: a third (fourth) concurrent
  // call from the gateways would show up in maxConcurrent, and anything beyond in a 503.
  const fake = await startFakeOllama({ numParallel: slots + 2, maxQueue: 0, latencyMs });
  closers.push(() => fake.stop());
  return fake;
}

function openBus(prefix: string): Bus {
  const bus = createBus({ url: redis.url, keys: createKeys(prefix), onError: () => undefined });
  closers.push(() => bus.close());
  return bus;
}

async function waitForHeartbeats(bus: Bus, count: number): Promise<void> {
  await waitFor(async () => (await listHeartbeats(bus.redis, bus.keys)).length >= count, {
    timeoutMs: 60_000,
    what: `${count} service heartbeats`,
  });
}

/** Every llm job the gateways ran, with when it was added, started, and its priority. */
async function llmJobs(prefix: string): Promise<Job<LlmJobData>[]> {
  const connection = createRedisClient(redis.url, { maxRetriesPerRequest: null });
  const queue = new Queue<LlmJobData>(LLM_QUEUE, { connection, prefix });
  try {
    return await queue.getJobs(['completed'], 0, -1);
  } finally {
    await queue.close();
    connection.disconnect();
  }
}

async function runLimiter(slots: number, requests: number) {
  const prefix = uniquePrefix();
  const fake = await fakeOllama(slots, 50);
  const base = {
    REDIS_URL: redis.url,
    NIGHTSHIFT_PREFIX: prefix,
    OLLAMA_HOST: fake.url,
    OLLAMA_NUM_PARALLEL: String(slots),
    LOG_LEVEL: 'warn',
  };
  for (let i = 0; i < 3; i++) procs.push(spawnService(`gateway-${i}`, GATEWAY_MAIN, serviceEnv(base)));
  for (const role of WORKER_ROLES) {
    // Several jobs per agent at once, so calls really queue at the limiter.
    const env = serviceEnv({ ...base, ROLE: role, [`ROLE_CONCURRENCY_${role.toUpperCase()}`]: '20' });
    procs.push(spawnService(`agent-${role}`, AGENT_MAIN, env));
  }
  const bus = openBus(prefix);
  await waitForHeartbeats(bus, 8);

  const sent: Message[] = [];
  const priorities: Priority[] = [
    'NORMAL',
    'NORMAL',
    'NORMAL',
    'LOW',
    'HIGH',
    'NORMAL',
    'EMERGENCY',
    'NORMAL',
  ];
  for (let i = 0; i < requests; i++) {
    const role = WORKER_ROLES[i % WORKER_ROLES.length] ?? 'builder';
    sent.push(
      requestTo(role, `task ${i} for ${role}`, { priority: priorities[i % priorities.length] ?? 'NORMAL' }),
    );
  }
  await Promise.all(sent.map((m) => bus.publish(m)));

  const answered = await waitFor(
    async () => {
      const byRequest = await responsesByRequest(bus);
      return sent.every((m) => byRequest.has(m.id)) ? byRequest : undefined;
    },
    { timeoutMs: 180_000, intervalMs: 500, what: `${requests} RESPONSEs in bus:log` },
  );
  return { fake, bus, sent, answered, prefix };
}

describe.each([2, 3])('the limiter with OLLAMA_NUM_PARALLEL=%i', (slots) => {
  it(`answers 300 requests from 5 agents through 3 gateways with at most ${slots} calls at Ollama`, async () => {
    const { fake, sent, answered, prefix } = await runLimiter(slots, 300);

    // Exactly one RESPONSE per request, each answering the right request from the right role.
    for (const m of sent) {
      const responses = answered.get(m.id) ?? [];
      expect(responses, `responses to ${m.id}`).toHaveLength(1);
      expect(responses[0]?.from).toBe(m.to);
    }
    // The limit held across processes, and nobody was turned away by Ollama.
    const chats = fake.records;
    expect(chats.filter((r) => r.status !== 200)).toEqual([]);
    expect(chats).toHaveLength(300);
    expect(fake.maxConcurrent).toBe(slots);
    expect(peakOverlap(chats)).toBeLessThanOrEqual(slots);

    // Priorities: a job that was already waiting (added clearly earlier) with a higher priority
    // (lower number) never started clearly after a lower-priority job added later. The margin
    // absorbs the gap between a client stamping `timestamp` and its add reaching Redis.
    const jobs = await llmJobs(prefix);
    expect(jobs).toHaveLength(300);
    const margin = 250;
    let compared = 0;
    const inversions: string[] = [];
    for (const high of jobs) {
      for (const low of jobs) {
        if ((high.opts.priority ?? 0) >= (low.opts.priority ?? 0)) continue;
        if (high.timestamp + margin >= low.timestamp) continue;
        const highStart = high.processedOn ?? 0;
        const lowStart = low.processedOn ?? 0;
        if (lowStart > high.timestamp + margin) compared++;
        if (lowStart + margin < highStart) {
          inversions.push(
            `${low.id} (p${low.opts.priority}) started before ${high.id} (p${high.opts.priority})`,
          );
        }
      }
    }
    expect(inversions).toEqual([]);
    expect(compared, 'pairs where both priorities competed for a slot').toBeGreaterThan(0);
    for (const job of jobs) expect(job.opts.priority, `priority of ${job.id}`).toBeGreaterThanOrEqual(1);
  });
});

describe('backpressure', () => {
  it('refuses past OLLAMA_MAX_QUEUE=10 at once; with retries all 50 calls are answered, none twice', async () => {
    const prefix = uniquePrefix();
    const fake = await fakeOllama(2, 50);
    const env = {
      REDIS_URL: redis.url,
      NIGHTSHIFT_PREFIX: prefix,
      OLLAMA_HOST: fake.url,
      OLLAMA_MAX_QUEUE: '10',
      LOG_LEVEL: 'warn',
    };
    procs.push(spawnService('gateway', GATEWAY_MAIN, serviceEnv(env)));
    const bus = openBus(prefix);
    await waitForHeartbeats(bus, 1);

    const connection = createRedisClient(redis.url, { maxRetriesPerRequest: null });
    const client = new GatewayChatModel({ connection, prefix, maxQueue: 10 });
    closers.push(async () => {
      await client.close();
      connection.disconnect();
    });
    await client.ready();

    let refused = 0;
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        retryingChat(
          client,
          {
            role: 'builder',
            messages: [
              { role: 'system', content: 'ROLE: builder' },
              { role: 'user', content: `call-${i}` },
            ],
          },
          {
            attempts: 200,
            baseMs: 50,
            maxMs: 1000,
            onRetry: (error) => {
              if (error instanceof LlmQueueFull) refused++;
            },
          },
        ),
      ),
    );
    expect(refused).toBeGreaterThan(0);
    expect(results.every((r) => r.text.includes('builder'))).toBe(true);
    const served = fake.records.filter((r) => r.status === 200).map((r) => r.messages.at(-1)?.content);
    expect(served).toHaveLength(50);
    expect(new Set(served).size).toBe(50);
    expect(fake.maxConcurrent).toBe(2);
  });
});
