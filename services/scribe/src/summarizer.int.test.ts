// Rolling summaries against a real Redis: bounded over 2,000 messages even with a model that
// appends instead of summarising, bounded prompts, and the extractive fallback when the model fails.
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ChatModel, type ChatRequest, ScriptedChatModel } from '@nightshift/llm';
import type { Message } from '@nightshift/protocol';
import { createKeys, createRedisClient, type RedisClient } from '@nightshift/redis';
import { createLogger } from '@nightshift/runtime';
import { startRedis, type TestRedis } from '@nightshift/testkit';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Journal } from './journal.js';
import { type RunView, Summarizer, summaryKeys } from './summarizer.js';

const logger = createLogger({ service: 'scribe-test', level: 'silent' });
let server: TestRedis;
let redis: RedisClient;
let dir: string;

beforeAll(async () => {
  server = await startRedis({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' });
  redis = createRedisClient(server.url, { onError: () => undefined });
  dir = await mkdtemp(join(tmpdir(), 'scribe-sum-'));
});

afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

const PHASES = [{ phase: 2 as const, iteration: 1, at: '2026-01-28T03:00:00.000Z' }];

function message(runId: string, i: number): Message {
  const from = (['builder', 'scout', 'inspector', 'architect', 'refactorer'] as const)[i % 5] ?? 'builder';
  return {
    id: `m-${i}`,
    runId,
    from,
    to: 'director',
    type: i % 3 === 0 ? 'STATUS' : 'RESPONSE',
    priority: 'NORMAL',
    timestamp: new Date(Date.parse('2026-01-28T03:00:01Z') + i * 1000).toISOString(),
    content: `Message ${i} from ${from}: ${'detail '.repeat(20 + (i % 30))}`,
  };
}

async function journalMany(journal: Journal, runId: string, n: number, offset = 0): Promise<void> {
  for (let i = offset; i < offset + n; i++) {
    await journal.append(runId, 1, { logId: `${1769569201000 + i}-0`, message: message(runId, i) });
  }
}

function setup(model: ScriptedChatModel | undefined, runId: string, extra: { now?: () => Date } = {}) {
  const keys = createKeys(server.prefix);
  const journal = new Journal(dir, logger);
  const summarizer = new Summarizer({
    redis,
    keys,
    memoryDir: dir,
    journal,
    logger,
    model,
    idleMs: 0,
    timeoutMs: 2000,
    ...extra,
  });
  const view = async (): Promise<RunView> => ({ runId, title: 'bounded', phases: PHASES, ended: false });
  return { keys, journal, summarizer, view };
}

describe('rolling summaries', () => {
  it('stay within the bound over 2,000 messages, and so do the prompts, even if the model appends', async () => {
    const runId = 'run-2000';
    // A badly behaved model: it appends everything it is given instead of summarising.
    const model = new ScriptedChatModel({
      replies: (request: ChatRequest) => request.messages.map((m) => m.content).join('\n'),
    });
    const { keys, journal, summarizer, view } = setup(model, runId);
    const sizes: number[] = [];
    for (let round = 0; round < 10; round++) {
      await journalMany(journal, runId, 200, round * 200);
      await summarizer.run(runId, view);
      const text = (await redis.get(summaryKeys(keys, runId).text)) ?? '';
      sizes.push(text.length);
      expect(text.length).toBeLessThanOrEqual(summarizer.maxChars);
    }
    const state = JSON.parse((await redis.hget(summaryKeys(keys, runId).state, 'run')) ?? '{}') as {
      messages: number;
      mode: string;
    };
    expect(state.messages).toBe(2000);
    expect(state.mode).toBe('model');
    expect(summarizer.maxChars).toBe(8000); // default ~2,000 tokens
    // Every prompt: the current summary (≤ bound) + one batch of new lines (≤ bound) + instructions.
    const prompts = model.calls.map((c) => c.messages.reduce((n, m) => n + m.content.length, 0));
    expect(model.calls.length).toBeGreaterThan(20);
    expect(Math.max(...prompts)).toBeLessThanOrEqual(2 * summarizer.maxChars + 2000);
    // No growth with the run's length: the last prompts are no bigger than the bound of the first.
    expect(Math.max(...prompts.slice(-10))).toBeLessThanOrEqual(Math.max(...prompts.slice(0, 10)) + 2000);
    expect(model.calls.every((c) => c.role === 'scribe')).toBe(true);
    const file = await readFile(join(dir, runId, 'summary.md'), 'utf8');
    expect(file.length).toBeLessThanOrEqual(8000);
    expect(file.split('\n')[1]).toMatch(
      /^> Rolling summary of run run-2000 by the Scribe, 2000 messages folded/,
    );
    const phase = (await redis.get(summaryKeys(keys, runId).phase(1))) ?? '';
    expect(phase.length).toBeLessThanOrEqual(8000);
    expect(await summarizer.fullyFolded(runId, 1)).toBe(true);
  });

  it('falls back to an extractive summary when the model fails, says so, and uses the model again later', async () => {
    const runId = 'run-fallback';
    let now = Date.parse('2026-01-28T04:00:00Z');
    let fail = true;
    const model = new ScriptedChatModel({
      replies: () => (fail ? new Error('gateway unavailable: connection refused') : 'The team built it.'),
    });
    const { keys, journal, summarizer, view } = setup(model, runId, { now: () => new Date(now) });
    await journalMany(journal, runId, 30);
    await summarizer.run(runId, view);
    const text = (await redis.get(summaryKeys(keys, runId).text)) ?? '';
    expect(text).toMatch(
      /^> EXTRACTIVE FALLBACK: the model was unavailable \(Error: gateway unavailable: connection refused/m,
    );
    expect(text).toContain('## Latest key lines per agent');
    expect(text).toContain('Message 29 from');
    const callsWhileDown = model.calls.length;
    // While the model is known to be down it is not asked again (no 60 s wait per fold).
    await journalMany(journal, runId, 5, 30);
    await summarizer.run(runId, view);
    expect(model.calls.length).toBe(callsWhileDown);
    // After the retry window the model is asked again and the header says so.
    fail = false;
    now += 61_000;
    await journalMany(journal, runId, 5, 35);
    await summarizer.run(runId, view);
    const after = (await redis.get(summaryKeys(keys, runId).text)) ?? '';
    expect(after).toMatch(/^> Rolling summary of run run-fallback by the Scribe, 40 messages folded/m);
    expect(after).toContain('The team built it.');
  });

  it('treats a model that does not answer within the timeout as unavailable', async () => {
    const runId = 'run-timeout';
    const model = new ScriptedChatModel({ replies: ['never in time'], latencyMs: 60_000 });
    const { keys, journal, summarizer, view } = setup(model, runId);
    await journalMany(journal, runId, 3);
    await summarizer.run(runId, view);
    const text = (await redis.get(summaryKeys(keys, runId).text)) ?? '';
    expect(text).toMatch(/EXTRACTIVE FALLBACK: the model was unavailable \(.*(abort|timeout|Timeout)/i);
  });

  it('waits for a full batch or a quiet moment in the current phase, but folds an ended phase at once', async () => {
    const runId = 'run-idle';
    const model = new ScriptedChatModel({ replies: ['summary'] });
    const keys = createKeys(server.prefix);
    const journal = new Journal(dir, logger);
    const summarizer = new Summarizer({
      redis,
      keys,
      memoryDir: dir,
      journal,
      logger,
      model,
      idleMs: 3_600_000,
    });
    summarizer.noteArrival(runId);
    await journalMany(journal, runId, 5);
    const open = async (): Promise<RunView> => ({ runId, phases: PHASES, ended: false });
    expect(await summarizer.run(runId, open)).toBe(0);
    const ended = async (): Promise<RunView> => ({
      runId,
      phases: [...PHASES, { phase: 3, iteration: 1, at: '2026-01-28T05:00:00.000Z' }],
      ended: false,
    });
    expect(await summarizer.run(runId, ended)).toBe(1);
    expect(await summarizer.fullyFolded(runId, 1)).toBe(true);
  });

  it('folds at most maxFolds runs at once: its calls waiting for the model stay bounded (issue 21)', async () => {
    // A model that answers only when the test says: the calls pile up as behind an outage.
    let open = 0;
    let most = 0;
    const waiting: (() => void)[] = [];
    const model: ChatModel = {
      name: 'gated',
      async chat() {
        open++;
        most = Math.max(most, open);
        await new Promise<void>((resolve) => waiting.push(resolve));
        open--;
        return {
          text: 'The team built it.',
          toolCalls: [],
          usage: { inputTokens: 1, outputTokens: 1 },
          model: 'gated',
          latencyMs: 1,
          provider: 'ollama',
        };
      },
    };
    const keys = createKeys(server.prefix);
    const journal = new Journal(dir, logger);
    const summarizer = new Summarizer({
      redis,
      keys,
      memoryDir: dir,
      journal,
      logger,
      model,
      idleMs: 0,
      maxFolds: 2,
    });
    const runs = ['run-cap-a', 'run-cap-b', 'run-cap-c', 'run-cap-d'];
    const view = (runId: string) => async (): Promise<RunView> => ({ runId, phases: PHASES, ended: true });
    for (const runId of runs) await journalMany(journal, runId, 5);

    const first = runs.map((runId) => summarizer.run(runId, view(runId)));
    await vi.waitFor(() => expect(waiting).toHaveLength(2));
    // Over the cap: deferred at once, nothing asked of the model.
    expect(await Promise.all([first[2], first[3]])).toEqual([0, 0]);
    expect(open).toBe(2);
    // Answers every call as it comes until `until` settles.
    const answerUntil = async <T>(until: Promise<T>): Promise<T> => {
      let done = false;
      const settled = until.finally(() => {
        done = true;
      });
      while (!done) {
        waiting.shift()?.();
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
      return settled;
    };
    expect(await answerUntil(Promise.all([first[0], first[1]]))).toEqual([1, 1]);
    // A later pass folds the deferred runs, still two at a time.
    const second = [runs[2], runs[3]].map((runId = '') => summarizer.run(runId, view(runId)));
    expect(await answerUntil(Promise.all(second))).toEqual([1, 1]);
    expect(most).toBe(2);
    for (const runId of runs) expect(await summarizer.fullyFolded(runId, 1)).toBe(true);
  });
});
