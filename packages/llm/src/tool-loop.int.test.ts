// The tool loop over each real provider's wire shapes: Ollama (`tools`, `message.tool_calls`,
// `{role:'tool', tool_name}`), the gateway (the same carried through a BullMQ job and real Redis),
// and Anthropic (`tool_use` blocks, `tool_result` blocks in a user turn).
import {
  type AnthropicRequestInfo,
  type OllamaRequestInfo,
  startFakeAnthropic,
  startFakeOllama,
  startRedis,
} from '@nightshift/testkit';
import { Queue, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { GatewayChatModel } from './gateway/client.js';
import { LLM_QUEUE } from './gateway/job.js';
import { createLlmProcessor } from './gateway/processor.js';
import { AnthropicChatModel } from './providers/anthropic.js';
import { OllamaChatModel } from './providers/ollama.js';
import { runToolLoop } from './tool-loop.js';
import type { ChatModel, ChatRequest, ToolSpec } from './types.js';

const cleanups: (() => Promise<unknown>)[] = [];
afterAll(async () => {
  for (const fn of cleanups.splice(0).reverse()) await fn();
});

const READ_FILE: ToolSpec = {
  name: 'read_file',
  description: 'Read a file of the workspace',
  parameters: {
    type: 'object',
    properties: { path: { type: 'string' } },
    required: ['path'],
    additionalProperties: false,
  } as ToolSpec['parameters'],
};

const request = (): ChatRequest => ({
  role: 'builder',
  runId: 'run_wire',
  messages: [
    { role: 'system', content: 'ROLE: builder' },
    { role: 'user', content: 'What does src/a.js export?' },
  ],
});

async function loopOver(model: ChatModel) {
  return runToolLoop({
    model,
    request: request(),
    tools: [READ_FILE],
    execute: async (call) => ({
      ok: true,
      output: `contents of ${String(call.arguments.path)}: export const a = 1;`,
    }),
  });
}

function ollamaScenario(seen: OllamaRequestInfo[]) {
  return [
    {
      reply: (req: OllamaRequestInfo) => {
        seen.push(req);
        const result = req.messages.find((m) => m.role === 'tool');
        return result
          ? { content: `It exports a (${String(result.content).slice(0, 40)})` }
          : { toolCalls: [{ name: 'read_file', arguments: { path: 'src/a.js' } }] };
      },
    },
  ];
}

function checkOllamaWire(seen: OllamaRequestInfo[]) {
  expect(seen).toHaveLength(2);
  expect(seen[0]?.tools).toEqual([
    {
      type: 'function',
      function: {
        name: 'read_file',
        description: 'Read a file of the workspace',
        parameters: {
          type: 'object',
          properties: { path: { type: 'string' } },
          required: ['path'],
          additionalProperties: false,
        },
      },
    },
  ]);
  const second = seen[1]?.messages ?? [];
  expect(second.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'tool']);
  expect(second[2]?.tool_calls).toEqual([
    { function: { name: 'read_file', arguments: { path: 'src/a.js' } } },
  ]);
  expect(second[3]).toMatchObject({
    role: 'tool',
    tool_name: 'read_file',
    content: 'contents of src/a.js: export const a = 1;',
  });
}

describe('tool loop on the wire', () => {
  it('Ollama: tools, tool_calls and tool results in Ollama’s shapes', async () => {
    const seen: OllamaRequestInfo[] = [];
    const fake = await startFakeOllama({ scenario: ollamaScenario(seen) });
    cleanups.push(() => fake.stop());
    const result = await loopOver(
      new OllamaChatModel({ host: fake.url, model: 'qwen3:32b', keepAlive: '60m' }),
    );
    expect(result.final.text).toContain('It exports a');
    expect(result.iterations).toBe(2);
    checkOllamaWire(seen);
  });

  it('gateway: the same conversation carried through the llm queue', async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.stop());
    const seen: OllamaRequestInfo[] = [];
    const fake = await startFakeOllama({ scenario: ollamaScenario(seen) });
    cleanups.push(() => fake.stop());
    const connection = new Redis(redis.url, { maxRetriesPerRequest: null });
    connection.on('error', () => undefined);
    cleanups.push(async () => connection.disconnect());
    const queue = new Queue(LLM_QUEUE, { connection, prefix: redis.prefix });
    cleanups.push(() => queue.close());
    await queue.setGlobalConcurrency(1);
    const ollama = new OllamaChatModel({ host: fake.url, model: 'qwen3:32b', keepAlive: '60m' });
    const worker = new Worker(LLM_QUEUE, createLlmProcessor({ model: ollama }), {
      connection,
      prefix: redis.prefix,
    });
    worker.on('error', () => undefined);
    cleanups.push(() => worker.close(true));
    const model = new GatewayChatModel({ connection, prefix: redis.prefix, maxQueue: 10, timeoutMs: 60_000 });
    cleanups.push(() => model.close());
    const result = await loopOver(model);
    expect(result.final.text).toContain('It exports a');
    expect(result.final.provider).toBe('gateway');
    checkOllamaWire(seen);
  });

  it('Anthropic: tool_use blocks out, tool_result blocks back in a user turn', async () => {
    const seen: AnthropicRequestInfo[] = [];
    const fake = await startFakeAnthropic({
      scenario: [
        {
          reply: (req: AnthropicRequestInfo) => {
            seen.push(req);
            return req.messages.length > 1
              ? { content: 'It exports a.' }
              : { toolCalls: [{ id: 'toolu_01', name: 'read_file', input: { path: 'src/a.js' } }] };
          },
        },
      ],
    });
    cleanups.push(() => fake.stop());
    const model = new AnthropicChatModel({
      apiKey: 'sk-ant-test-not-a-real-key',
      baseUrl: fake.url,
      model: 'claude-tool-loop-test',
      maxRetries: 0,
      timeoutMs: 60_000,
    });
    const result = await loopOver(model);
    expect(result.final.text).toBe('It exports a.');
    expect(seen[0]?.tools).toEqual([
      {
        name: 'read_file',
        description: 'Read a file of the workspace',
        input_schema: {
          type: 'object',
          properties: { path: { type: 'string' } },
          required: ['path'],
          additionalProperties: false,
        },
      },
    ]);
    expect(seen[1]?.system).toBe('ROLE: builder');
    expect(seen[1]?.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'What does src/a.js export?' }] },
      {
        role: 'assistant',
        content: [{ type: 'tool_use', id: 'toolu_01', name: 'read_file', input: { path: 'src/a.js' } }],
      },
      {
        role: 'user',
        content: [
          {
            type: 'tool_result',
            tool_use_id: 'toolu_01',
            content: 'contents of src/a.js: export const a = 1;',
          },
        ],
      },
    ]);
  });
});
