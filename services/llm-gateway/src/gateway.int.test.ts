// LlmGatewayService in-process against real Redis and the fake Ollama: the start-up contract
// (global concurrency, model check), serving calls, and shutdown.
import { Writable } from 'node:stream';
import { GatewayChatModel, LLM_QUEUE, OllamaChatModel } from '@nightshift/llm';
import { NightshiftError } from '@nightshift/protocol';
import { createRedisClient, type RedisClient } from '@nightshift/redis';
import { createLogger } from '@nightshift/runtime';
import {
  type FakeOllama,
  freePort,
  startFakeOllama,
  startRedis,
  type TestRedis,
  uniquePrefix,
  waitFor,
} from '@nightshift/testkit';
import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { LlmGatewayService } from './gateway.js';

let redis: TestRedis;
let connection: RedisClient;
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  redis = await startRedis();
  connection = createRedisClient(redis.url, { maxRetriesPerRequest: null });
});
afterEach(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});
afterAll(async () => {
  connection.disconnect();
  await redis.stop();
});

function capturingLogger() {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk, _enc, done) {
      for (const line of String(chunk).split('\n')) if (line.trim() !== '') lines.push(JSON.parse(line));
      done();
    },
  });
  return { logger: createLogger({ service: 'llm-gateway-test', level: 'debug', destination }), lines };
}

async function fake(options: Parameters<typeof startFakeOllama>[0] = {}): Promise<FakeOllama> {
  const f = await startFakeOllama(options);
  cleanups.push(() => f.stop());
  return f;
}

function gateway(prefix: string, host: string, model = 'qwen3:32b', numParallel = 2) {
  const { logger, lines } = capturingLogger();
  const service = new LlmGatewayService({
    connection,
    prefix,
    numParallel,
    logger,
    model: new OllamaChatModel({ host, model, keepAlive: '60m' }),
  });
  cleanups.push(() => service.stop());
  return { service, lines };
}

function client(prefix: string): GatewayChatModel {
  const c = new GatewayChatModel({ connection, prefix, maxQueue: 50, backoffMs: 20 });
  cleanups.push(() => c.close());
  return c;
}

const ask = {
  role: 'builder' as const,
  messages: [
    { role: 'system' as const, content: 'ROLE: builder' },
    { role: 'user' as const, content: 'hi' },
  ],
};

describe('LlmGatewayService', () => {
  it('sets the global concurrency at start and serves calls; start and stop are idempotent', async () => {
    const prefix = uniquePrefix();
    const f = await fake({ numParallel: 3 });
    const { service } = gateway(prefix, f.url, 'qwen3:32b', 3);
    await Promise.all([service.start(), service.start()]);
    const queue = new Queue(LLM_QUEUE, { connection, prefix });
    cleanups.push(() => queue.close());
    expect(await queue.getGlobalConcurrency()).toBe(3);
    expect(service.modelStatus).toEqual({ state: 'present', models: ['qwen3:32b'] });
    const result = await client(prefix).chat(ask);
    expect(result.text).toContain('builder');
    expect(service.usage.snapshot().byRole.builder?.calls).toBe(1);
    await Promise.all([service.stop(), service.stop()]);
    expect(service.running).toBe(false);
  });

  it('fails a job that can never be a call for good, dead-letters it with the reason, and serves on', async () => {
    const prefix = uniquePrefix();
    const f = await fake();
    const { service, lines } = gateway(prefix, f.url);
    await service.start();
    const queue = new Queue(LLM_QUEUE, { connection, prefix });
    const dead = new Queue('dead-letter', { connection, prefix });
    cleanups.push(() => queue.close());
    cleanups.push(() => dead.close());
    const bad = await queue.add(
      'chat',
      { v: 1, role: 'janitor', messages: 'hello' },
      { jobId: 'bad-llm-job', priority: 3 },
    );
    const letter = await waitFor(() => dead.getJob('dl.llm.bad-llm-job'), { what: 'the dead letter' });
    expect(letter.data).toMatchObject({ source: 'llm', payload: { role: 'janitor', messages: 'hello' } });
    expect(letter.data.reason).toMatch(/role/);
    expect(
      await waitFor(async () => ((await bad.isFailed()) ? 'failed' : undefined), { what: 'failed' }),
    ).toBe('failed');
    expect(f.records).toHaveLength(0);
    expect(lines.some((l) => l.msg === 'dead-lettered an llm job')).toBe(true);
    await expect(client(prefix).chat(ask)).resolves.toMatchObject({ provider: 'gateway' });
  });

  it('says clearly at start when the model is missing, and calls then fail fast as fatal', async () => {
    const prefix = uniquePrefix();
    const f = await fake({ models: ['llama3:8b'] });
    const { service, lines } = gateway(prefix, f.url, 'qwen3:32b');
    await service.start();
    expect(service.modelStatus.state).toBe('missing');
    const line = lines.find((l) => l.level === 50);
    expect(String(line?.msg)).toMatch(
      /MODEL MISSING: model "qwen3:32b" is not installed .*ollama pull qwen3:32b.*llama3:8b/,
    );
    const error = await client(prefix)
      .chat(ask)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NightshiftError);
    expect((error as NightshiftError).category).toBe('fatal');
  });

  it('starts while Ollama is down and serves once it is up', async () => {
    const prefix = uniquePrefix();
    const port = await freePort();
    const { service, lines } = gateway(prefix, `http://127.0.0.1:${port}`);
    await service.start();
    expect(service.modelStatus.state).toBe('unreachable');
    expect(
      lines.some((l) => l.level === 40 && /Ollama unreachable; calls will retry/.test(String(l.msg))),
    ).toBe(true);
    const f = await fake({ port });
    const result = await client(prefix).chat(ask);
    expect(result.text).toContain('acknowledged');
    expect(f.records).toHaveLength(1);
  });

  it('lets the call in flight finish when stopped', async () => {
    const prefix = uniquePrefix();
    const f = await fake({ latencyMs: 400 });
    const { service } = gateway(prefix, f.url);
    await service.start();
    const pending = client(prefix).chat(ask);
    await expect.poll(() => f.inFlight).toBe(1);
    await service.stop();
    await expect(pending).resolves.toMatchObject({ provider: 'gateway' });
  });
});
