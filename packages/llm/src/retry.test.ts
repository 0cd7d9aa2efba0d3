// retryingChat: which errors are retried, how long it backs off, and that an abort stops it.
import { LlmQueueFull, NightshiftError, ValidationError } from '@nightshift/protocol';
import { describe, expect, it } from 'vitest';
import { backoffDelay, retryingChat } from './retry.js';
import { ScriptedChatModel } from './simulated.js';

const request = { role: 'builder' as const, messages: [{ role: 'user' as const, content: 'hi' }] };

describe('backoffDelay', () => {
  it('doubles per attempt, stays within [step/2, step] and under the cap', () => {
    expect(backoffDelay(1, 100, 10_000, () => 0)).toBe(50);
    expect(backoffDelay(1, 100, 10_000, () => 0.999999)).toBe(100);
    expect(backoffDelay(3, 100, 10_000, () => 0)).toBe(200);
    expect(backoffDelay(30, 100, 1000, () => 0.999999)).toBe(1000);
  });
});

describe('retryingChat', () => {
  it('retries LlmQueueFull until the call is admitted', async () => {
    const model = new ScriptedChatModel({
      replies: [new LlmQueueFull(10, 10), new LlmQueueFull(10, 10), 'answer'],
    });
    const retries: number[] = [];
    const result = await retryingChat(model, request, {
      baseMs: 1,
      onRetry: (_e, attempt) => retries.push(attempt),
    });
    expect(result.text).toContain('answer');
    expect(retries).toEqual([1, 2]);
    expect(model.calls).toHaveLength(3);
  });

  it('does not retry errors that cannot succeed later', async () => {
    const model = new ScriptedChatModel({
      replies: [new ValidationError('request', [{ path: 'x', expected: 'y' }]), 'never'],
    });
    await expect(retryingChat(model, request, { baseMs: 1 })).rejects.toBeInstanceOf(ValidationError);
    expect(model.calls).toHaveLength(1);
  });

  it('gives up after the last attempt with the last error', async () => {
    const model = new ScriptedChatModel({ replies: [new LlmQueueFull(5, 5)] });
    const error = await retryingChat(model, request, { attempts: 3, baseMs: 1 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(LlmQueueFull);
    expect(model.calls).toHaveLength(3);
  });

  it('stops backing off when the caller aborts', async () => {
    const controller = new AbortController();
    const model = new ScriptedChatModel({ replies: [new LlmQueueFull(5, 5)] });
    const pending = retryingChat(model, { ...request, signal: controller.signal }, { baseMs: 60_000 });
    controller.abort();
    const error = await pending.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NightshiftError);
    expect((error as NightshiftError).code).toBe('LLM_ABORTED');
  });
});
