// OllamaChatModel against the fake Ollama: what the real client sends, and how each failure is typed.
import { type NightshiftError, TimeoutError } from '@nightshift/protocol';
import { type FakeOllama, freePort, startFakeOllama } from '@nightshift/testkit';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { LlmUnavailable, ModelNotFound } from '../errors.js';
import { OllamaChatModel } from './ollama.js';

const ask = { role: 'builder' as const, messages: [{ role: 'user' as const, content: 'hello' }] };

describe('OllamaChatModel', () => {
  let fake: FakeOllama;
  let model: OllamaChatModel;
  beforeAll(async () => {
    fake = await startFakeOllama({ numParallel: 2, models: ['qwen3:32b'] });
    model = new OllamaChatModel({ host: fake.url, model: 'qwen3:32b', keepAlive: '60m' });
  });
  afterAll(() => fake.stop());
  beforeEach(() => {
    fake.setScenario([]);
    fake.reset();
  });

  it('sends keep_alive on every call', async () => {
    const seen: unknown[] = [];
    fake.setScenario([
      {
        match: {
          predicate: (r) => {
            seen.push(r.body.keep_alive);
            return true;
          },
        },
        reply: { content: 'ok' },
      },
    ]);
    await model.chat(ask);
    await model.chat(ask);
    expect(seen).toEqual(['60m', '60m']);
  });

  it('streams progress when asked and still returns the whole answer', async () => {
    fake.setScenario([{ reply: { content: 'one two three four' } }]);
    const progress: string[] = [];
    const result = await model.chat({ ...ask, onProgress: (p) => progress.push(p.text) });
    expect(result.text).toBe('one two three four');
    expect(progress.length).toBeGreaterThan(1);
    expect(progress.at(-1)).toBe('one two three four');
    expect(fake.records.at(-1)?.stream).toBe(true);
    expect(result.usage.outputTokens).toBeGreaterThan(0);
  });

  it('checkModel lists the installed models, and names the missing one clearly', async () => {
    await expect(model.checkModel()).resolves.toContain('qwen3:32b');
    const missing = new OllamaChatModel({ host: fake.url, model: 'llama9:70b', keepAlive: '5m' });
    const error = await missing.checkModel().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelNotFound);
    expect((error as ModelNotFound).category).toBe('fatal');
    expect((error as Error).message).toMatch(/llama9:70b.*not installed.*ollama pull llama9:70b.*qwen3:32b/s);
  });

  it('types a chat with a missing model as fatal ModelNotFound', async () => {
    const missing = new OllamaChatModel({ host: fake.url, model: 'nope:1b', keepAlive: '5m' });
    const error = await missing.chat(ask).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelNotFound);
  });

  it('types 503 server busy as transient', async () => {
    fake.setScenario([{ reply: { error: { status: 503 } } }]);
    const error = await model.chat(ask).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LlmUnavailable);
    expect((error as NightshiftError).retryable).toBe(true);
  });

  it('types a 400 as invalid input', async () => {
    fake.setScenario([{ reply: { error: { status: 400 } } }]);
    const error = await model.chat(ask).catch((e: unknown) => e);
    expect((error as NightshiftError).category).toBe('invalid-input');
  });

  it('types a refused connection as transient', async () => {
    const nobody = new OllamaChatModel({
      host: `http://127.0.0.1:${await freePort()}`,
      model: 'qwen3:32b',
      keepAlive: '5m',
    });
    const error = await nobody.chat(ask).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LlmUnavailable);
    expect((error as Error).message).toMatch(/ECONNREFUSED/);
    await expect(nobody.checkModel()).rejects.toBeInstanceOf(LlmUnavailable);
  });

  it('types its own per-call timeout as a transient TimeoutError and frees the slot', async () => {
    fake.setScenario([{ reply: { hang: true } }]);
    const impatient = new OllamaChatModel({
      host: fake.url,
      model: 'qwen3:32b',
      keepAlive: '5m',
      timeoutMs: 200,
    });
    const error = await impatient.chat(ask).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    await expect.poll(() => fake.inFlight).toBe(0);
  });
});
