// Runs the ChatModel contract against every real implementation: Ollama (fake Ollama server),
// Anthropic (fake Anthropic server) and the gateway client (in-process gateway worker + fake
// Ollama + real Redis), so all three behave the same to a caller.
import {
  type FakeAnthropic,
  type FakeOllama,
  startFakeAnthropic,
  startFakeOllama,
  startRedis,
} from '@nightshift/testkit';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { type ContractReply, chatModelContract } from './contract.js';
import { GatewayChatModel } from './gateway/client.js';
import { LLM_QUEUE } from './gateway/job.js';
import { createLlmProcessor } from './gateway/processor.js';
import { AnthropicChatModel } from './providers/anthropic.js';
import { OllamaChatModel } from './providers/ollama.js';

function scriptOllama(fake: FakeOllama, reply: ContractReply): void {
  fake.setScenario([
    {
      reply: reply.busy
        ? { error: { status: 503, body: JSON.stringify({ error: 'server busy, please try again.' }) } }
        : {
            ...(reply.text === undefined ? {} : { content: reply.text }),
            ...(reply.toolCalls === undefined ? {} : { toolCalls: reply.toolCalls }),
            ...(reply.latencyMs === undefined ? {} : { latencyMs: reply.latencyMs }),
          },
    },
  ]);
}

function scriptAnthropic(fake: FakeAnthropic, reply: ContractReply): void {
  fake.setScenario([
    {
      reply: reply.busy
        ? { error: { status: 529 } }
        : {
            ...(reply.text === undefined ? {} : { content: reply.text }),
            ...(reply.toolCalls === undefined
              ? {}
              : { toolCalls: reply.toolCalls.map((c) => ({ name: c.name, input: c.arguments })) }),
            ...(reply.latencyMs === undefined ? {} : { latencyMs: reply.latencyMs }),
          },
    },
  ]);
}

chatModelContract('OllamaChatModel', async () => {
  const fake = await startFakeOllama({ numParallel: 2 });
  const model = new OllamaChatModel({ host: fake.url, model: 'qwen3:32b', keepAlive: '60m' });
  return {
    model,
    script: (reply) => scriptOllama(fake, reply),
    reset: () => fake.setScenario([]),
    seenRoles: () => fake.records.map((r) => r.role),
    close: () => fake.stop(),
  };
});

chatModelContract('AnthropicChatModel', async () => {
  const fake = await startFakeAnthropic();
  const model = new AnthropicChatModel({
    apiKey: 'sk-ant-test-not-a-real-key',
    baseUrl: fake.url,
    model: 'claude-contract-test',
    maxRetries: 0,
    timeoutMs: 60_000,
  });
  return {
    model,
    script: (reply) => scriptAnthropic(fake, reply),
    reset: () => fake.setScenario([]),
    seenRoles: () => fake.records.map((r) => r.role),
    close: () => fake.stop(),
  };
});

chatModelContract('GatewayChatModel', async () => {
  const redis = await startRedis();
  const fake = await startFakeOllama({ numParallel: 2 });
  const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
  connection.on('error', () => undefined);
  const ollama = new OllamaChatModel({ host: fake.url, model: 'qwen3:32b', keepAlive: '60m' });
  const queue = new Queue(LLM_QUEUE, { connection, prefix: redis.prefix });
  await queue.setGlobalConcurrency(2);
  const worker = new Worker(LLM_QUEUE, createLlmProcessor({ model: ollama }), {
    connection,
    prefix: redis.prefix,
    concurrency: 2,
  });
  worker.on('error', () => undefined);
  // Short backoff: the busy test lets the gateway exhaust its retries before it reports.
  const model = new GatewayChatModel({
    connection,
    prefix: redis.prefix,
    maxQueue: 100,
    backoffMs: 20,
    timeoutMs: 60_000,
  });
  await model.ready();
  return {
    model,
    script: (reply) => scriptOllama(fake, reply),
    reset: () => fake.setScenario([]),
    seenRoles: () => fake.records.map((r) => r.role),
    async close() {
      await fake.stop(); // first: frees a worker still holding a slow call
      await model.close();
      await worker.close(true);
      await queue.close();
      connection.disconnect();
      await redis.stop();
    },
  };
});
