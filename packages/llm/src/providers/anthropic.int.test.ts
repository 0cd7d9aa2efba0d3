// AnthropicChatModel against the fake Anthropic: the Director's stable prefix goes to the prompt
// cache and the cached share reaches the usage; an answer cut at max_tokens is retried, then fails.
import { type FakeAnthropic, startFakeAnthropic } from '@nightshift/testkit';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LlmOutputTruncated } from '../errors.js';
import { AnthropicChatModel } from './anthropic.js';

let fake: FakeAnthropic;
/** Every request body the fake received (the records keep no body). */
let bodies: Record<string, unknown>[] = [];
const recordBodies = (content = 'ok') =>
  fake.setScenario([
    {
      reply: (r) => {
        bodies.push(r.body);
        return { content };
      },
    },
  ]);
beforeAll(async () => {
  fake = await startFakeAnthropic();
});
afterAll(() => fake.stop());
beforeEach(() => {
  bodies = [];
  recordBodies();
  fake.reset();
});

const model = (extra: Partial<ConstructorParameters<typeof AnthropicChatModel>[0]> = {}) =>
  new AnthropicChatModel({
    apiKey: 'sk-ant-test-not-a-real-key',
    baseUrl: fake.url,
    model: 'claude-sonnet-4-6',
    maxRetries: 0,
    timeoutMs: 30_000,
    ...extra,
  });

// The Director's system prompt plus the guide context: long and the same on every call.
const SYSTEM = `You are the Director.\n${'A rule of the operations guide. '.repeat(200)}`;
const ask = (question: string) => ({
  role: 'director' as const,
  messages: [
    { role: 'system' as const, content: SYSTEM },
    { role: 'user' as const, content: question },
  ],
});

describe('prompt caching', () => {
  it('marks the stable system prompt for the cache; the first call writes it, the next reads it', async () => {
    const m = model();
    const first = await m.chat(ask('Decide on run A.'));
    const second = await m.chat(ask('Decide on run B.'));
    const body = bodies[0] as { system: { cache_control?: unknown }[] };
    expect(body.system.at(-1)?.cache_control).toEqual({ type: 'ephemeral' });
    expect(first.usage.cacheWriteTokens).toBeGreaterThanOrEqual(1024);
    expect(first.usage.cacheReadTokens).toBeUndefined();
    expect(second.usage.cacheReadTokens).toBe(first.usage.cacheWriteTokens);
    expect(second.usage.cacheWriteTokens).toBeUndefined();
    // inputTokens stays the whole prompt, cached or not, so budgets count every token.
    expect(second.usage.inputTokens).toBe(first.usage.inputTokens);
  });

  it('sends no cache mark when switched off, and then nothing is cached', async () => {
    const m = model({ promptCaching: false });
    await m.chat(ask('one'));
    const again = await m.chat(ask('two'));
    const body = bodies[0] as { system: { cache_control?: unknown }[] };
    expect(body.system.at(-1)?.cache_control).toBeUndefined();
    expect(again.usage.cacheReadTokens).toBeUndefined();
  });

  it('caches nothing below the API minimum (1024 tokens), as the real API does', async () => {
    const m = model();
    const short = {
      role: 'director' as const,
      messages: [
        { role: 'system' as const, content: 'short' },
        { role: 'user' as const, content: 'hi' },
      ],
    };
    await m.chat(short);
    const again = await m.chat(short);
    expect(again.usage.cacheReadTokens).toBeUndefined();
    expect(again.usage.cacheWriteTokens).toBeUndefined();
  });
});

describe('an answer cut at max_tokens', () => {
  it('is asked for once more with twice the room', async () => {
    const long = 'word '.repeat(1000); // ≈ 1,250 tokens: over 1,000, under 2,000
    recordBodies(long);
    const result = await model({ maxTokens: 1000 }).chat(ask('write a lot'));
    expect(result.text).toBe(long);
    expect(bodies.map((b) => b.max_tokens)).toEqual([1000, 2000]);
  });

  it('fails with LLM_OUTPUT_TRUNCATED naming max_tokens when the retry is cut too', async () => {
    fake.setScenario([{ reply: { content: 'word '.repeat(4000) } }]);
    const error = await model({ maxTokens: 1000 })
      .chat(ask('write a lot'))
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LlmOutputTruncated);
    expect((error as Error).message).toMatch(/max_tokens=2000/);
    expect(fake.records).toHaveLength(2);
  });
});

describe('structured output', () => {
  it('forces one tool whose input is the schema, and the answer text is its JSON', async () => {
    recordBodies('Here it is: {"findings": []}');
    const schema = { type: 'object', properties: { findings: { type: 'array' } }, required: ['findings'] };
    const result = await model().chat({ ...ask('Review.'), format: schema });
    expect(bodies[0]?.tool_choice).toEqual({ type: 'tool', name: 'structured_answer' });
    const tools = (bodies[0]?.tools ?? []) as { input_schema: unknown }[];
    expect(tools[0]?.input_schema).toEqual(schema);
    expect(JSON.parse(result.text)).toEqual({ findings: [] });
    expect(result.toolCalls).toEqual([]);
  });
});
