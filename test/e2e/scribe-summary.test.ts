// Issue 7 acceptance: over a 2,000-message stream the rolling summary stays within its bound
// (~2,000 tokens ≈ 8,000 characters) and the prompts the Scribe sends through the gateway to the
// (fake) Ollama do not grow with the run's length — even with a model that appends instead of
// summarising. With the gateway gone, the Scribe falls back to an extractive summary and says so.
import { stamp } from '@nightshift/core';
import { newId } from '@nightshift/protocol';
import { createRunStore } from '@nightshift/redis';
import { waitFor } from '@nightshift/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Stack, startStack, stopStack } from './scribe-stack.js';

const BOUND = 8000;
const RUN = 'run_summary_2000';
const SENDERS = ['builder', 'scout', 'inspector', 'refactorer', 'architect'] as const;
let stack: Stack;

beforeAll(async () => {
  // Only what the Scribe needs: the gateway (its model) and itself. Scribe role timeout 5 s.
  stack = await startStack({ services: ['llm-gateway', 'scribe'], env: { ROLE_TIMEOUT_SCRIBE: '5' } });
  // A badly behaved model: it answers with everything it was given (it appends, never summarises).
  stack.ollama.setScenario([
    {
      match: { role: 'scribe' },
      reply: (req) => ({ content: req.messages.map((m) => m.content).join('\n') }),
    },
  ]);
  const now = new Date().toISOString();
  const store = createRunStore(stack.bus.redis, stack.keys);
  const created = await store.append(RUN, 0, [
    stamp({ type: 'run.created', runId: RUN, task: 'A long night', title: '2,000 messages' }, now),
    stamp({ type: 'phase.started', phase: 1, iteration: 1 }, now),
  ]);
  expect(created.ok).toBe(true);
});

afterAll(async () => {
  await stopStack(stack);
});

async function say(i: number): Promise<void> {
  const from = SENDERS[i % SENDERS.length] ?? 'builder';
  await stack.bus.publish({
    id: newId('msg'),
    runId: RUN,
    from,
    to: 'director',
    type: i % 4 === 0 ? 'STATUS' : 'RESPONSE',
    priority: 'NORMAL',
    timestamp: new Date().toISOString(),
    content: `Message ${i}: ${from} reports progress on part ${i % 97}. ${'More detail. '.repeat(10 + (i % 20))}`,
  });
}

const summaryText = async () => (await stack.bus.redis.get(stack.keys.custom('run', RUN, 'summary'))) ?? '';
const folded = async () => {
  const raw = await stack.bus.redis.hget(stack.keys.custom('run', RUN, 'summary', 'state'), 'run');
  return raw ? (JSON.parse(raw) as { messages: number; mode: string }) : { messages: 0, mode: 'empty' };
};

describe('rolling summary over 2,000 messages', () => {
  it('stays within its bound, and so do the prompts at the model', async () => {
    const sizes: number[] = [];
    for (let i = 0; i < 2000; i++) {
      await say(i);
      if (i % 100 === 99) sizes.push((await summaryText()).length);
    }
    const state = await waitFor(async () => ((await folded()).messages >= 2000 ? folded() : undefined), {
      timeoutMs: 240_000,
      intervalMs: 500,
      what: `all 2,000 messages folded\n${stack.procs.map((p) => p.tail(10)).join('\n')}`,
    });
    expect(state.messages).toBe(2000);
    expect(state.mode).toBe('model');
    const text = await summaryText();
    sizes.push(text.length);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(BOUND);
    expect(text.split('\n')[1]).toMatch(
      /^> Rolling summary of run run_summary_2000 by the Scribe, 2000 messages folded .*written by the model/,
    );

    const prompts = stack.ollama.records
      .filter((r) => r.role === 'scribe' && r.status === 200)
      .map((r) => r.promptChars);
    expect(prompts.length).toBeGreaterThan(20);
    // Each prompt: the current summary (≤ bound) + one batch of new lines (≤ bound) + instructions.
    expect(Math.max(...prompts)).toBeLessThanOrEqual(2 * BOUND + 2000);
    // It does not grow with the run: the last prompts are no larger than the early ones' bound.
    expect(Math.max(...prompts.slice(-10))).toBeLessThanOrEqual(Math.max(...prompts.slice(0, 10)) + 2000);
    expect(stack.ollama.maxConcurrent).toBeLessThanOrEqual(2);
  });

  it('falls back to an extractive summary, and says so, when the gateway is gone', async () => {
    const gateway = stack.procs.find((p) => p.name === 'llm-gateway');
    gateway?.child.kill('SIGKILL');
    await gateway?.exited;
    for (let i = 2000; i < 2020; i++) await say(i);
    const text = await waitFor(
      async () => ((await summaryText()).includes('EXTRACTIVE FALLBACK') ? summaryText() : undefined),
      {
        timeoutMs: 90_000,
        intervalMs: 500,
        what: 'the extractive fallback',
      },
    );
    expect(text.length).toBeLessThanOrEqual(BOUND);
    expect(text.split('\n')[1]).toMatch(
      /^> EXTRACTIVE FALLBACK: the model was unavailable \(.+\)\. Rolling summary of run run_summary_2000, 2020 messages folded/,
    );
    expect(text).toContain('## Latest key lines per agent');
    expect(text).toContain('Message 2019: ');
  });
});
