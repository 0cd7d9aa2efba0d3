// The fake Ollama against the REAL `ollama` npm client: scheduler limits, streaming, tools, faults.
import { Ollama } from 'ollama';
import { afterEach, describe, expect, it } from 'vitest';
import { waitFor } from '../wait.js';
import { type FakeOllama, OLLAMA_BUSY_MESSAGE, startFakeOllama } from './server.js';

const SYSTEM = (role: string) => ({
  role: 'system',
  content: `You are the team's ${role}.\nROLE: ${role}\n`,
});
let fake: FakeOllama | undefined;

afterEach(async () => {
  await fake?.stop();
  fake = undefined;
});

describe('fake Ollama scheduler', () => {
  it('serves numParallel at once, queues maxQueue, answers the rest 503 (real client)', async () => {
    fake = await startFakeOllama({ numParallel: 2, maxQueue: 3, latencyMs: 200 });
    const server = fake;
    // Hold every served request until all 10 have arrived, so no slot frees early on a slow machine.
    server.setScenario([
      {
        reply: async () => {
          await waitFor(() => server.records.length === 10, { what: '10 arrivals', timeoutMs: 30_000 });
          return { content: 'done', latencyMs: 200 };
        },
      },
    ]);
    const client = new Ollama({ host: server.url });
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) =>
        client.chat({
          model: 'qwen3:32b',
          messages: [SYSTEM('builder'), { role: 'user', content: `task ${i}` }],
        }),
      ),
    );

    const served = server.records.filter((r) => r.status === 200);
    const refused = server.records.filter((r) => r.status === 503);
    expect(server.maxConcurrent).toBe(2);
    expect(server.maxQueued).toBe(3);
    expect(served).toHaveLength(5);
    expect(refused).toHaveLength(5);
    expect(refused.every((r) => r.start === null)).toBe(true);
    expect(served.every((r) => r.role === 'builder')).toBe(true);
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(5);
    const errors = results.flatMap((r) =>
      r.status === 'rejected' ? [r.reason as Error & { status_code?: number }] : [],
    );
    expect(errors.map((e) => e.status_code)).toEqual([503, 503, 503, 503, 503]);
    expect(errors[0]?.message).toBe(OLLAMA_BUSY_MESSAGE);
    expect(server.inFlight).toBe(0);
  });

  it('frees the slot when a client disconnects while its request hangs', async () => {
    fake = await startFakeOllama({ numParallel: 1, scenario: [{ reply: { hang: true }, times: 1 }] });
    const hanging = new AbortController();
    const first = fetch(`${fake.url}/api/chat`, {
      method: 'POST',
      body: JSON.stringify({ model: 'qwen3:32b', messages: [{ role: 'user', content: 'hang' }] }),
      signal: hanging.signal,
    });
    const server = fake;
    await waitFor(() => server.inFlight === 1, { what: 'the hanging request to take the slot' });
    hanging.abort();
    await expect(first).rejects.toThrow();
    await waitFor(() => server.inFlight === 0, { what: 'the slot to be freed' });
    expect(server.records[0]?.aborted).toBe(true);

    const reply = await new Ollama({ host: server.url }).chat({
      model: 'qwen3:32b',
      messages: [{ role: 'user', content: 'next' }],
    });
    expect(reply.message.content).toContain('acknowledged');
  });
});

describe('fake Ollama streaming abort', () => {
  it('stops streaming and frees the slot when the real client aborts mid-stream', async () => {
    fake = await startFakeOllama({
      numParallel: 1,
      scenario: [{ reply: { content: 'one two three four five six', chunkDelayMs: 300 } }],
    });
    const server = fake;
    const client = new Ollama({ host: server.url });
    const stream = await client.chat({
      model: 'qwen3:32b',
      messages: [{ role: 'user', content: 'go' }],
      stream: true,
    });
    const seen: string[] = [];
    await expect(
      (async () => {
        for await (const chunk of stream) {
          seen.push(chunk.message.content);
          client.abort();
        }
      })(),
    ).rejects.toThrow();
    // Not the whole reply (a slow machine may read two chunks in one go before the abort lands).
    expect(seen.length).toBeLessThan(6);
    await waitFor(() => server.inFlight === 0, { what: 'the slot to be freed' });
    expect(server.records[0]).toMatchObject({ status: 200, aborted: true });
  });
});

describe('fake Ollama chat API', () => {
  it('streams NDJSON chunks ending with done:true and the counts', async () => {
    fake = await startFakeOllama({
      scenario: [{ match: { role: 'scout' }, reply: { content: 'alpha beta gamma delta' } }],
    });
    const client = new Ollama({ host: fake.url });
    const stream = await client.chat({
      model: 'qwen3:32b',
      messages: [SYSTEM('scout'), { role: 'user', content: 'x'.repeat(400) }],
      stream: true,
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.length).toBeGreaterThan(2);
    expect(chunks.slice(0, -1).every((c) => c.done === false)).toBe(true);
    const last = chunks.at(-1);
    expect(last?.done).toBe(true);
    expect(last?.done_reason).toBe('stop');
    expect(last?.prompt_eval_count).toBeGreaterThanOrEqual(100);
    expect(last?.eval_count).toBeGreaterThan(0);
    expect(chunks.map((c) => c.message.content).join('')).toBe('alpha beta gamma delta');
    expect(fake.records[0]).toMatchObject({ stream: true, status: 200, role: 'scout' });
  });

  it('streams by default when a raw request omits `stream`, like real Ollama', async () => {
    fake = await startFakeOllama();
    const res = await fetch(`${fake.url}/api/chat`, {
      method: 'POST',
      body: JSON.stringify({ model: 'qwen3:32b', messages: [{ role: 'user', content: 'hi there' }] }),
    });
    expect(res.headers.get('content-type')).toContain('application/x-ndjson');
    const lines = (await res.text()).trim().split('\n');
    expect(JSON.parse(lines.at(-1) ?? '{}')).toMatchObject({ done: true });
  });

  it('round-trips tool calls through the real client, picking rules by role, text and times', async () => {
    fake = await startFakeOllama({
      scenario: [
        {
          match: { role: 'builder', contains: /write/ },
          reply: { toolCalls: [{ name: 'write_file', arguments: { path: 'a.ts', content: 'x' } }] },
          times: 1,
        },
        { match: { role: 'builder' }, reply: { content: 'file written' } },
      ],
    });
    const client = new Ollama({ host: fake.url });
    const tools = [
      {
        type: 'function',
        function: {
          name: 'write_file',
          description: 'write',
          parameters: { type: 'object', properties: { path: { type: 'string' } } },
        },
      },
    ];
    const messages = [SYSTEM('builder'), { role: 'user', content: 'please write a.ts' }];
    const first = await client.chat({ model: 'qwen3:32b', messages, tools });
    expect(first.message.tool_calls).toEqual([
      { function: { name: 'write_file', arguments: { path: 'a.ts', content: 'x' } } },
    ]);
    const second = await client.chat({ model: 'qwen3:32b', messages, tools });
    expect(second.message.content).toBe('file written');
    expect(fake.records[0]?.tools).toHaveLength(1);
    expect(fake.pendingRules).toBe(0);
  });

  it('takes the role from the x-nightshift-role header over the system prompt', async () => {
    fake = await startFakeOllama();
    const client = new Ollama({ host: fake.url, headers: { 'x-nightshift-role': 'Inspector' } });
    const reply = await client.chat({ model: 'qwen3:32b', messages: [SYSTEM('builder')] });
    expect(reply.message.content).toContain('inspector');
    expect(fake.records[0]?.role).toBe('inspector');
  });

  it('answers 404 for an unknown model without taking a slot', async () => {
    fake = await startFakeOllama();
    const client = new Ollama({ host: fake.url });
    const error = await client.chat({ model: 'llama9:1b', messages: [] }).catch((e: unknown) => e);
    expect(error).toMatchObject({
      status_code: 404,
      message: 'model "llama9:1b" not found, try pulling it first',
    });
    expect(fake.records[0]).toMatchObject({ status: 404, start: null });
    expect(fake.maxConcurrent).toBe(0);
  });

  it('injects scripted HTTP errors', async () => {
    fake = await startFakeOllama({ scenario: [{ reply: { error: { status: 500 } }, times: 1 }] });
    const client = new Ollama({ host: fake.url });
    const error = await client.chat({ model: 'qwen3:32b', messages: [] }).catch((e: unknown) => e);
    expect(error).toMatchObject({ status_code: 500 });
    await expect(client.chat({ model: 'qwen3:32b', messages: [] })).resolves.toBeDefined();
  });
});

describe('fake Ollama model endpoints and faults', () => {
  it('lists, shows, reports version and loaded models', async () => {
    fake = await startFakeOllama({ models: ['qwen3:32b', 'llama3.2'] });
    const client = new Ollama({ host: fake.url });
    const list = await client.list();
    expect(list.models.map((m) => m.name)).toEqual(['qwen3:32b', 'llama3.2:latest']);
    expect((await client.version()).version).toMatch(/^\d+\.\d+\.\d+$/);
    expect((await client.ps()).models).toEqual([]);
    await client.chat({ model: 'llama3.2', messages: [] });
    expect((await client.ps()).models.map((m) => m.name)).toEqual(['llama3.2:latest']);
    expect((await client.show({ model: 'qwen3:32b' })).capabilities).toContain('tools');
    await expect(client.show({ model: 'nope' })).rejects.toMatchObject({ status_code: 404 });
  });

  it('goes down (connection refused) and comes back on the same URL', async () => {
    fake = await startFakeOllama();
    const client = new Ollama({ host: fake.url });
    await fake.down();
    expect(fake.isUp).toBe(false);
    await expect(client.chat({ model: 'qwen3:32b', messages: [] })).rejects.toThrow();
    await fake.up();
    await expect(client.chat({ model: 'qwen3:32b', messages: [] })).resolves.toMatchObject({ done: true });
  });
});
