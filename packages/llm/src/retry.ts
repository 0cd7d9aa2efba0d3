// retryingChat: the caller-side half of backpressure. Transient failures (LlmQueueFull, Ollama
// busy, timeouts) are retried with capped exponential backoff and jitter; nothing else is.
import { NightshiftError } from '@nightshift/protocol';
import { abortError } from './errors.js';
import { sleep } from './sleep.js';
import type { ChatModel, ChatRequest, ChatResult } from './types.js';

export interface RetryOptions {
  /** Total tries including the first (default 8). */
  attempts?: number;
  /** First backoff (default 200 ms). */
  baseMs?: number;
  /** Backoff cap (default 10 s). */
  maxMs?: number;
  /** Told before each wait; for logs and tests. */
  onRetry?: (error: NightshiftError, attempt: number, delayMs: number) => void;
  /** Injected randomness in [0, 1), for tests. */
  random?: () => number;
}

/**
 * "Equal jitter": half the exponential step is fixed, half random. The fixed half keeps a
 * thundering herd of refused callers from all coming back at once; the cap bounds the wait.
 */
export function backoffDelay(
  attempt: number,
  baseMs: number,
  maxMs: number,
  random: () => number = Math.random,
): number {
  const step = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(step / 2 + random() * (step / 2));
}

export async function retryingChat(
  model: ChatModel,
  request: ChatRequest,
  options: RetryOptions = {},
): Promise<ChatResult> {
  const attempts = options.attempts ?? 8;
  const baseMs = options.baseMs ?? 200;
  const maxMs = options.maxMs ?? 10_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await model.chat(request);
    } catch (error) {
      // The caller gave up meanwhile: report that, not the error that happened to be last.
      if (request.signal?.aborted) throw abortError(request.signal);
      const retryable = error instanceof NightshiftError && error.retryable;
      if (!retryable || attempt >= attempts) throw error;
      const delay = backoffDelay(attempt, baseMs, maxMs, options.random);
      options.onRetry?.(error, attempt, delay);
      await sleep(delay, request.signal);
    }
  }
}
