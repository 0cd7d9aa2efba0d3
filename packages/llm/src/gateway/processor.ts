// What a gateway worker does with one `llm` job: validate, honour the caller's deadline, call
// the provider, stream progress, and fail with a typed, retry-aware reason.
import { performance } from 'node:perf_hooks';
import { NightshiftError, problemsFrom, TimeoutError, ValidationError } from '@nightshift/protocol';
import { type Job, UnrecoverableError } from 'bullmq';
import { encodeFailure } from '../errors.js';
import type { ChatModel, ChatRequest } from '../types.js';
import { type LlmJobData, LlmJobDataSchema, type LlmJobResult } from './job.js';

export interface LlmProcessorOptions {
  model: ChatModel;
  /** Least time between two `job.updateProgress` writes (default 250 ms): progress is a hint, not a log. */
  progressEveryMs?: number;
  /** Told about every failed call (for logs/metrics); must not throw. */
  onFailure?: (job: Job, error: NightshiftError) => void;
  /** A job whose data can never be a call (the gateway dead-letters it); awaited, errors ignored. */
  onInvalid?: (job: Job, error: ValidationError) => Promise<unknown>;
  /** OLLAMA_THINKING_TRACE_CHARS: keep up to this much of the reasoning in the result (0/unset = none). */
  thinkingTraceChars?: number;
  now?: () => number;
}

export type LlmProcessor = (
  job: Job<LlmJobData, LlmJobResult>,
  token?: string,
  signal?: AbortSignal,
) => Promise<LlmJobResult>;

/**
 * Retry policy lives in the job options the caller sets (attempts + exponential backoff with
 * jitter): a transient failure is thrown as a plain Error, so BullMQ moves the job to `delayed`,
 * which frees the global-concurrency slot during the backoff instead of sleeping on it. Anything
 * else becomes UnrecoverableError, so BullMQ fails it at once.
 */
export function createLlmProcessor(options: LlmProcessorOptions): LlmProcessor {
  const now = options.now ?? Date.now;
  const every = options.progressEveryMs ?? 250;
  const keepThinking = options.thinkingTraceChars ?? 0;
  return async (job, _token, workerSignal) => {
    // Set once the caller's deadline has passed: such a call cannot succeed later either.
    let callerGone = false;
    try {
      const parsed = LlmJobDataSchema.safeParse(job.data);
      if (!parsed.success) {
        const invalid = new ValidationError('llm job data', problemsFrom(parsed.error));
        await options.onInvalid?.(job, invalid).catch(() => undefined);
        throw invalid;
      }
      const data = parsed.data;
      const started = now();
      const remaining = data.deadline - started;
      if (remaining <= 0) {
        callerGone = true;
        throw new TimeoutError(
          `LLM call for ${data.role} (waited ${started - data.enqueuedAt} ms in queue)`,
          started - data.enqueuedAt,
        );
      }
      const deadline = AbortSignal.timeout(remaining);
      const signal = workerSignal ? AbortSignal.any([workerSignal, deadline]) : deadline;
      let lastProgress = 0;
      const request: ChatRequest = {
        messages: data.messages,
        role: data.role,
        signal,
        ...(data.tools ? { tools: data.tools } : {}),
        ...(data.format ? { format: data.format } : {}),
        ...(data.runId ? { runId: data.runId } : {}),
        ...(data.stream
          ? {
              onProgress: (p) => {
                const t = performance.now();
                if (t - lastProgress < every) return;
                lastProgress = t;
                job.updateProgress({ text: p.text, chunks: p.chunks }).catch(() => undefined);
              },
            }
          : {}),
      };
      const t0 = performance.now();
      const result = await options.model.chat(request).catch((error: unknown) => {
        // The deadline firing is the caller having given up: say so rather than "aborted".
        if (deadline.aborted && !workerSignal?.aborted) {
          callerGone = true;
          throw new TimeoutError(`LLM call for ${data.role}`, remaining, { cause: error });
        }
        throw error;
      });
      return {
        text: result.text,
        toolCalls: result.toolCalls,
        usage: result.usage,
        model: result.model,
        provider: result.provider,
        serviceMs: performance.now() - t0,
        waitedMs: started - data.enqueuedAt,
        ...(result.textToolCalls ? { textToolCalls: result.textToolCalls } : {}),
        ...(result.promptCut ? { promptCut: true } : {}),
        ...(result.thinking ? { thinkingChars: result.thinking.length } : {}),
        ...(result.thinking && keepThinking > 0 ? { thinking: result.thinking.slice(0, keepThinking) } : {}),
      };
    } catch (error) {
      const typed =
        error instanceof NightshiftError
          ? error
          : new NightshiftError('LLM_FAILED', error instanceof Error ? error.message : String(error), {
              category: 'transient',
              cause: error,
            });
      options.onFailure?.(job, typed);
      const reason = encodeFailure(typed);
      if (typed.category !== 'transient' || callerGone) throw new UnrecoverableError(reason);
      throw new Error(reason);
    }
  };
}
