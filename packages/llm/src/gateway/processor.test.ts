// The gateway's processor on a model that thinks (issue 20 §3): the reasoning never reaches the
// answer, is counted, and is kept for the call log only when OLLAMA_THINKING_TRACE_CHARS asks.
import type { Job } from 'bullmq';
import { describe, expect, it } from 'vitest';
import type { ChatModel, ChatResult } from '../types.js';
import type { LlmJobData, LlmJobResult } from './job.js';
import { createLlmProcessor } from './processor.js';

const REASONING = 'First I look at sum(); the loop starts at 1, so the first value is skipped.';

const thinker: ChatModel = {
  name: 'stub:thinker',
  async chat(): Promise<ChatResult> {
    return {
      text: '{"ok":true}',
      toolCalls: [],
      usage: { inputTokens: 10, outputTokens: 40 },
      model: 'qwen3:32b',
      latencyMs: 1,
      provider: 'ollama',
      thinking: REASONING,
    };
  },
};

function job(): Job<LlmJobData, LlmJobResult> {
  const now = Date.now();
  const data: LlmJobData = {
    v: 1,
    role: 'builder',
    runId: 'run_t',
    messages: [{ role: 'user', content: 'fix it' }],
    stream: false,
    deadline: now + 60_000,
    enqueuedAt: now,
  };
  return { id: 'j1', data, updateProgress: async () => undefined } as unknown as Job<
    LlmJobData,
    LlmJobResult
  >;
}

describe('thinking in the gateway result', () => {
  it('is counted but not kept by default, and never part of the answer', async () => {
    const result = await createLlmProcessor({ model: thinker })(job());
    expect(result.text).toBe('{"ok":true}');
    expect(result.thinkingChars).toBe(REASONING.length);
    expect(result.thinking).toBeUndefined();
    expect(JSON.stringify(result)).not.toContain('loop starts at 1');
  });

  it('is kept, cut at OLLAMA_THINKING_TRACE_CHARS, when asked for', async () => {
    const cut = await createLlmProcessor({ model: thinker, thinkingTraceChars: 14 })(job());
    expect(cut.thinking).toBe(REASONING.slice(0, 14));
    expect(cut.text).toBe('{"ok":true}');
    const whole = await createLlmProcessor({ model: thinker, thinkingTraceChars: 10_000 })(job());
    expect(whole.thinking).toBe(REASONING);
  });
});
