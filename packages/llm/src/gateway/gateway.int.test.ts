// The gateway pieces against real Redis + fake Ollama: the global limit across workers,
// priorities, backpressure with retry, deadlines, progress, and typed failures.
import { LlmQueueFull, NightshiftError } from '@nightshift/protocol';
import { startFakeOllama, startRedis, type TestRedis, uniquePrefix, waitFor } from '@nightshift/testkit';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OllamaChatModel } from '../providers/ollama.js';
import { retryingChat } from '../retry.js';
import type { ChatRequest, LlmCaller } from '../types.js';
import { GatewayChatModel, type GatewayChatModelOptions } from './client.js';
import { LLM_QUEUE } from './job.js';
import { createLlmProcessor } from './processor.js';

let redis: TestRedis;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  redis = await startRedis();
});
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});
afterAll(() => redis.stop());

function connect(): Redis {
  const client = new Redis(redis.url, { maxRetriesPerRequest: null });
  client.on('error', () => undefined);
  cleanups.push(async () => client.disconnect());
  return client;
}

/** One fake Ollama, N gateway workers on separate connections, one client; all torn down after the test. */
async function setup(options: {
  slots: number;
  workers?: number;
  workerConcurrency?: number;
  fakeParallel?: number;
  latencyMs?: number;
  client?: Partial<GatewayChatModelOptions>;
}) {
  const prefix = uniquePrefix();
  // The fake admits more than `slots` and queues nothing: a call past the limit would be seen
  // in maxConcurrent, and one past the fake's own capacity would get a 503.
  const fake = await startFakeOllama({
    numParallel: options.fakeParallel ?? 10,
    maxQueue: 0,
    latencyMs: options.latencyMs ?? 0,
  });
  cleanups.push(() => fake.stop());
  const admin = new Queue(LLM_QUEUE, { connection: connect(), prefix });
  cleanups.push(() => admin.close());
  await admin.setGlobalConcurrency(options.slots);
  const ollama = new OllamaChatModel({ host: fake.url, model: 'qwen3:32b', keepAlive: '60m' });
  for (let i = 0; i < (options.workers ?? 1); i++) {
    const worker = new Worker(LLM_QUEUE, createLlmProcessor({ model: ollama }), {
      connection: connect(),
      prefix,
      concurrency: options.workerConcurrency ?? options.slots,
    });
    worker.on('error', () => undefined);
    cleanups.push(() => worker.close(true));
  }
  const client = new GatewayChatModel({
    connection: connect(),
    prefix,
    maxQueue: 100,
    backoffMs: 20,
    ...options.client,
  });
  cleanups.push(() => client.close());
  await client.ready();
  return { fake, client, admin, prefix };
}

const ask = (role: LlmCaller, content: string, extra: Partial<ChatRequest> = {}): ChatRequest => ({
  role,
  messages: [
    { role: 'system', content: `ROLE: ${role}` },
    { role: 'user', content },
  ],
  ...extra,
});

describe('gateway limiter', () => {
  it('holds the global concurrency across workers on separate connections', async () => {
    const { fake, client } = await setup({ slots: 2, workers: 3, workerConcurrency: 4, latencyMs: 20 });
    const results = await Promise.all(
      Array.from({ length: 40 }, (_, i) => client.chat(ask('builder', `call ${i}`))),
    );
    expect(results).toHaveLength(40);
    expect(fake.maxConcurrent).toBe(2);
    expect(fake.records.filter((r) => r.status !== 200)).toEqual([]);
    expect(new Set(fake.records.map((r) => r.messages.at(-1)?.content)).size).toBe(40);
  });

  it('starts waiting calls in role priority order (Director first, Scribe last)', async () => {
    const { fake, client } = await setup({ slots: 1 });
    fake.setScenario([{ match: { contains: 'blocker' }, reply: { content: 'done', latencyMs: 800 } }]);
    const blocker = client.chat(ask('builder', 'blocker'));
    await expect.poll(() => fake.records.length).toBe(1);
    // Enqueued lowest first, while the only slot is busy.
    const order: LlmCaller[] = ['scribe', 'builder', 'architect', 'director'];
    const calls: Promise<unknown>[] = [];
    for (const role of order) {
      calls.push(client.chat(ask(role, `from ${role}`)));
      await expect.poll(() => client.waiting()).toBe(calls.length);
    }
    await Promise.all([blocker, ...calls]);
    expect(fake.records.map((r) => r.role)).toEqual([
      'builder',
      'director',
      'architect',
      'builder',
      'scribe',
    ]);
  });

  it('refuses past maxQueue at once with LlmQueueFull; retryingChat gets all 50 answered exactly once', async () => {
    const { fake, client } = await setup({
      slots: 2,
      fakeParallel: 2,
      latencyMs: 30,
      client: { maxQueue: 10 },
    });
    let refusals = 0;
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        retryingChat(client, ask('inspector', `job-${i}`), {
          attempts: 100,
          baseMs: 20,
          maxMs: 400,
          onRetry: (error) => {
            if (error instanceof LlmQueueFull) refusals++;
          },
        }),
      ),
    );
    expect(refusals).toBeGreaterThan(0);
    expect(results).toHaveLength(50);
    const served = fake.records.filter((r) => r.status === 200).map((r) => r.messages.at(-1)?.content);
    expect(served).toHaveLength(50);
    expect(new Set(served).size).toBe(50);
    expect(fake.records.some((r) => r.status === 503)).toBe(false);
  });
});

describe('gateway calls', () => {
  it('forwards streamed progress to the caller', async () => {
    const { fake, client } = await setup({ slots: 2 });
    fake.setScenario([{ reply: { content: 'a b c d e f g h', chunkDelayMs: 150 } }]);
    const seen: string[] = [];
    const result = await client.chat(ask('scout', 'stream please', { onProgress: (p) => seen.push(p.text) }));
    expect(result.text).toBe('a b c d e f g h');
    expect(result.provider).toBe('gateway');
    expect(seen.length).toBeGreaterThan(0);
    expect('a b c d e f g h'.startsWith(seen.at(-1) ?? 'x')).toBe(true);
  });

  it('retries Ollama 503 with backoff, then answers', async () => {
    const { fake, client } = await setup({ slots: 2 });
    fake.setScenario([
      { reply: { error: { status: 503 } }, times: 2 },
      { reply: { content: 'third time lucky' } },
    ]);
    const result = await client.chat(ask('builder', 'flaky'));
    expect(result.text).toBe('third time lucky');
    expect(fake.records.map((r) => r.status)).toEqual([503, 503, 200]);
  });

  it('fails a missing model at once as fatal, without retries', async () => {
    const { fake, client } = await setup({ slots: 2 });
    const missing = new OllamaChatModel({ host: fake.url, model: 'missing:1b', keepAlive: '5m' });
    const prefix = uniquePrefix();
    const worker = new Worker(LLM_QUEUE, createLlmProcessor({ model: missing }), {
      connection: connect(),
      prefix,
    });
    worker.on('error', () => undefined);
    cleanups.push(() => worker.close(true));
    const other = new GatewayChatModel({ connection: connect(), prefix, maxQueue: 10, backoffMs: 20 });
    cleanups.push(() => other.close());
    const error = await other.chat(ask('builder', 'x')).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NightshiftError);
    expect((error as NightshiftError).code).toBe('LLM_MODEL_NOT_FOUND');
    expect((error as NightshiftError).category).toBe('fatal');
    expect(fake.records).toHaveLength(1);
    void client;
  });

  it('drops a call whose caller deadline passed while it waited', async () => {
    const { fake, client, prefix } = await setup({ slots: 1 });
    const impatient = new GatewayChatModel({ connection: connect(), prefix, maxQueue: 10, timeoutMs: 300 });
    cleanups.push(() => impatient.close());
    fake.setScenario([{ match: { contains: 'blocker' }, reply: { content: 'slow', latencyMs: 1000 } }]);
    const blocker = client.chat(ask('builder', 'blocker'));
    await expect.poll(() => fake.records.length).toBe(1);
    const late = await impatient.chat(ask('director', 'too late')).catch((e: unknown) => e);
    expect(late).toBeInstanceOf(NightshiftError);
    expect((late as NightshiftError).code).toBe('TIMEOUT');
    await blocker;
    // The gateway fails the expired job when it reaches it, without calling Ollama.
    await expect.poll(async () => (await client.waiting()) === 0).toBe(true);
    await client.chat(ask('builder', 'after'));
    expect(fake.records.map((r) => r.messages.at(-1)?.content)).toEqual(['blocker', 'after']);
  });

  it("honours the caller's absolute deadline over its own timeout", async () => {
    const { fake, client } = await setup({ slots: 1 });
    fake.setScenario([{ match: { contains: 'blocker' }, reply: { content: 'slow', latencyMs: 1000 } }]);
    const blocker = client.chat(ask('builder', 'blocker'));
    await expect.poll(() => fake.records.length).toBe(1);
    const late = await client
      .chat(ask('director', 'too late', { deadline: Date.now() + 300 }))
      .catch((e: unknown) => e);
    expect((late as NightshiftError).code).toBe('TIMEOUT');
    await blocker;
    expect(fake.records.map((r) => r.messages.at(-1)?.content)).toEqual(['blocker']);
  });

  it('never misses the answer to a fresh client’s first call', async () => {
    const { prefix } = await setup({ slots: 2 });
    // Fresh clients, no ready(): the answer can come before BullMQ's event reader first blocks.
    for (let i = 0; i < 15; i++) {
      const fresh = new GatewayChatModel({ connection: connect(), prefix, maxQueue: 10, timeoutMs: 15_000 });
      cleanups.push(() => fresh.close());
      await expect(fresh.chat(ask('scout', `fresh ${i}`))).resolves.toMatchObject({ provider: 'gateway' });
    }
  });

  it('gets the answer from the job itself when its completed event never arrives', async () => {
    const prefix = uniquePrefix();
    // Events of another queue: the client's fast path hears nothing, only its watch can answer.
    const deaf = new QueueEvents('nowhere', { connection: connect(), prefix });
    cleanups.push(() => deaf.close());
    const { client } = await setup({
      slots: 1,
      client: { queueEvents: deaf, watchMs: 100, timeoutMs: 10_000 },
    });
    await expect(client.chat(ask('scout', 'no event for this one'))).resolves.toMatchObject({
      provider: 'gateway',
      text: expect.any(String),
    });
  });

  it('adds a job that vanished from Redis again, and answers once a gateway runs it', async () => {
    const errors: string[] = [];
    const { client, admin, fake } = await setup({
      slots: 1,
      workers: 0,
      client: { watchMs: 100, timeoutMs: 20_000, onError: (e) => errors.push(e.message) },
    });
    const answer = client.chat(ask('builder', 'lost with the last second of the AOF'));
    const queued = async () => (await admin.getJobs(['prioritized', 'waiting'])).find(Boolean);
    const first = await waitFor(queued, { what: 'the LLM job' });
    await first.remove();
    const again = await waitFor(queued, { what: 'the LLM job added again' });
    expect(again.id).toBe(first.id);
    expect(errors.some((m) => /vanished/.test(m))).toBe(true);
    const ollama = new OllamaChatModel({ host: fake.url, model: 'qwen3:32b', keepAlive: '60m' });
    const worker = new Worker(LLM_QUEUE, createLlmProcessor({ model: ollama }), {
      connection: connect(),
      prefix: admin.opts.prefix,
      concurrency: 1,
    });
    worker.on('error', () => undefined);
    cleanups.push(() => worker.close(true));
    await expect(answer).resolves.toMatchObject({ provider: 'gateway' });
    expect(fake.records).toHaveLength(1);
  });

  it('rejects a priority of 0 before anything is queued', async () => {
    const { client } = await setup({ slots: 1 });
    await expect(client.chat(ask('builder', 'x', { priority: 0 }))).rejects.toThrow(/never 0|jump the line/);
    expect(await client.waiting()).toBe(0);
  });
});
