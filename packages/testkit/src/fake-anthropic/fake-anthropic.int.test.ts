// The fake Anthropic API against the REAL `@anthropic-ai/sdk`: shapes, tools, retries, timeouts.
import Anthropic from '@anthropic-ai/sdk';
import { afterEach, describe, expect, it } from 'vitest';
import { type FakeAnthropic, startFakeAnthropic } from './server.js';

const MODEL = 'claude-fake-test'; // not in the SDK's deprecation list, so no console warning
const SYSTEM = 'You are the director.\nROLE: director';
let fake: FakeAnthropic | undefined;

afterEach(async () => {
  await fake?.stop();
  fake = undefined;
});

function client(server: FakeAnthropic, options: { maxRetries?: number; timeout?: number } = {}): Anthropic {
  return new Anthropic({
    apiKey: 'test-key',
    baseURL: server.url,
    maxRetries: options.maxRetries ?? 0,
    ...options,
  });
}

function ask(c: Anthropic, text = 'What next?') {
  return c.messages.create({
    model: MODEL,
    max_tokens: 256,
    system: SYSTEM,
    messages: [{ role: 'user', content: text }],
  });
}

describe('fake Anthropic messages', () => {
  it('answers in the real Message shape with usage, and records the request without the key', async () => {
    fake = await startFakeAnthropic({
      scenario: [{ match: { role: 'director', contains: 'next' }, reply: { content: 'Proceed to P2.' } }],
    });
    const message = await ask(client(fake), `${'x'.repeat(400)} next`);
    expect(message).toMatchObject({
      type: 'message',
      role: 'assistant',
      model: MODEL,
      content: [{ type: 'text', text: 'Proceed to P2.' }],
      stop_reason: 'end_turn',
      stop_sequence: null,
    });
    expect(message.id).toMatch(/^msg_/);
    expect(message.usage.input_tokens).toBeGreaterThanOrEqual(100);
    expect(message.usage.output_tokens).toBeGreaterThan(0);
    const record = fake.records[0];
    expect(record).toMatchObject({ role: 'director', status: 200, apiKeyPresent: true, system: SYSTEM });
    expect(JSON.stringify(record)).not.toContain('test-key');
    expect(record?.headers['anthropic-version']).toBeDefined();
  });

  it('returns tool_use blocks with stop_reason tool_use', async () => {
    fake = await startFakeAnthropic({
      scenario: [{ reply: { toolCalls: [{ name: 'decide', input: { outcome: 'approve', votes: 3 } }] } }],
    });
    const message = await client(fake).messages.create({
      model: MODEL,
      max_tokens: 100,
      messages: [{ role: 'user', content: 'decide' }],
      tools: [{ name: 'decide', description: 'decide', input_schema: { type: 'object', properties: {} } }],
    });
    expect(message.stop_reason).toBe('tool_use');
    const block = message.content[0];
    expect(block?.type).toBe('tool_use');
    if (block?.type !== 'tool_use') throw new Error('expected a tool_use block');
    expect(block.name).toBe('decide');
    expect(block.input).toEqual({ outcome: 'approve', votes: 3 });
    expect(block.id).toMatch(/^toolu_/);
    expect(fake.records[0]?.tools).toHaveLength(1);
  });

  it('refuses a request without an API key with 401 authentication_error', async () => {
    fake = await startFakeAnthropic();
    const res = await fetch(`${fake.url}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify({ model: MODEL, max_tokens: 10, messages: [] }),
    });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
    expect(fake.records[0]).toMatchObject({ apiKeyPresent: false, status: 401 });
  });

  it('refuses a request missing max_tokens with 400 (SDK BadRequestError)', async () => {
    fake = await startFakeAnthropic();
    const error = await client(fake)
      .messages.create({ model: MODEL, messages: [] } as unknown as Anthropic.MessageCreateParamsNonStreaming)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.BadRequestError);
    expect((error as Error).message).toContain('max_tokens');
  });
});

describe('fake Anthropic failures', () => {
  it('529 overloaded: the SDK retries, then throws APIError with status 529', async () => {
    fake = await startFakeAnthropic({ scenario: [{ reply: { error: { status: 529, retryAfter: 0 } } }] });
    const error = await ask(client(fake, { maxRetries: 1 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.APIError);
    expect(error).toMatchObject({ status: 529 });
    expect((error as Error).message).toContain('Overloaded');
    expect(fake.records.map((r) => r.status)).toEqual([529, 529]);
    expect(fake.records[0]?.errorType).toBe('overloaded_error');
  });

  it('429 with retry-after: the SDK waits and retries, and succeeds when the limit lifts', async () => {
    fake = await startFakeAnthropic({
      scenario: [
        { reply: { error: { status: 429, retryAfter: 0.1 } }, times: 1 },
        { reply: { content: 'ok' } },
      ],
    });
    const message = await ask(client(fake, { maxRetries: 2 }));
    expect(message.content).toEqual([{ type: 'text', text: 'ok' }]);
    expect(fake.records.map((r) => r.status)).toEqual([429, 200]);
  });

  it('429 without retries left: RateLimitError carrying the retry-after header', async () => {
    fake = await startFakeAnthropic({ scenario: [{ reply: { error: { status: 429, retryAfter: 7 } } }] });
    const error = await ask(client(fake)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.RateLimitError);
    expect((error as InstanceType<typeof Anthropic.APIError>).headers?.get('retry-after')).toBe('7');
  });

  it('500: InternalServerError', async () => {
    fake = await startFakeAnthropic({ scenario: [{ reply: { error: { status: 500 } } }] });
    await expect(ask(client(fake))).rejects.toBeInstanceOf(Anthropic.InternalServerError);
  });

  it('a hang past the client timeout: APIConnectionTimeoutError, and the fake sees the abort', async () => {
    fake = await startFakeAnthropic({ scenario: [{ reply: { hang: true } }] });
    const error = await ask(client(fake, { timeout: 300 })).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Anthropic.APIConnectionTimeoutError);
    const server = fake;
    await expect.poll(() => server.records[0]?.aborted, { timeout: 10_000 }).toBe(true);
    expect(server.inFlight).toBe(0);
  });
});
