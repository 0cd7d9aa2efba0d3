// SIMULATED models for tests, benchmarks and `nightshift up --sim`: no LLM is called. Every
// answer says so: provider `simulated`, model/name `simulated:*`; the instant model's text also
// starts with "[simulated]".
import { performance } from 'node:perf_hooks';
import { abortError } from './errors.js';
import { sleep as pause } from './sleep.js';
import type { ChatModel, ChatRequest, ChatResult, ToolCall } from './types.js';

/** One scripted answer: text, a partial result, or an error to throw. */
export type ScriptedReply =
  | string
  | (Partial<Omit<ChatResult, 'provider' | 'latencyMs'>> & { text: string })
  | Error;

export interface ScriptedChatModelOptions {
  /** Answers in order; a function is called with the request and the 0-based call number. */
  replies:
    | readonly ScriptedReply[]
    | ((request: ChatRequest, call: number) => ScriptedReply | Promise<ScriptedReply>);
  /** After the list runs out: repeat the last reply (default) or throw. */
  whenExhausted?: 'repeat-last' | 'throw';
  /** Simulated think time per call (honours the abort signal). */
  latencyMs?: number;
}

export class ScriptedChatModel implements ChatModel {
  readonly name = 'simulated:scripted';
  /** Every request received, in order (for assertions). */
  readonly calls: ChatRequest[] = [];
  readonly #opts: ScriptedChatModelOptions;

  constructor(options: ScriptedChatModelOptions) {
    this.#opts = options;
  }

  async chat(request: ChatRequest): Promise<ChatResult> {
    const started = performance.now();
    const call = this.calls.length;
    this.calls.push(request);
    await pause(this.#opts.latencyMs ?? 0, request.signal);
    const reply = await this.#pick(request, call);
    if (reply instanceof Error) throw reply;
    const result = typeof reply === 'string' ? { text: reply } : reply;
    // Scripted text is used verbatim (tests script the guide's format, which a prefix would
    // break); the simulation is labelled by `provider` and `model` instead.
    const text = result.text;
    request.onProgress?.({ text, chunks: 1 });
    return {
      text,
      toolCalls: result.toolCalls ?? [],
      usage: result.usage ?? estimateUsage(request, text),
      model: result.model ?? this.name,
      latencyMs: performance.now() - started,
      provider: 'simulated',
      ...(result.fallback === undefined ? {} : { fallback: result.fallback }),
    };
  }

  async #pick(request: ChatRequest, call: number): Promise<ScriptedReply> {
    const { replies } = this.#opts;
    if (typeof replies === 'function') return replies(request, call);
    const reply = replies[call] ?? (this.#opts.whenExhausted === 'throw' ? undefined : replies.at(-1));
    if (reply === undefined) throw new Error(`ScriptedChatModel: no reply scripted for call ${call + 1}`);
    return reply;
  }
}

/**
 * Answers at once with an acknowledgement of the last user message. For the dispatch benchmark
 * and the agent's `NIGHTSHIFT_MODEL=instant` test mode: measures the plumbing, not a model.
 */
export class InstantChatModel implements ChatModel {
  readonly name = 'simulated:instant';
  readonly #latencyMs: number;
  readonly #toolCalls: ToolCall[];

  constructor(options: { latencyMs?: number; toolCalls?: ToolCall[] } = {}) {
    this.#latencyMs = options.latencyMs ?? 0;
    this.#toolCalls = options.toolCalls ?? [];
  }

  async chat(request: ChatRequest): Promise<ChatResult> {
    const started = performance.now();
    if (this.#latencyMs > 0) await pause(this.#latencyMs, request.signal);
    else if (request.signal?.aborted) throw abortError(request.signal);
    const last = [...request.messages].reverse().find((m) => m.role === 'user');
    const firstLine = (last?.content ?? '').split('\n').find((l) => l.trim() !== '') ?? '';
    const text = `[simulated] ${request.role} acknowledges: ${firstLine.slice(0, 200)}`;
    return {
      text,
      toolCalls: this.#toolCalls,
      usage: estimateUsage(request, text),
      model: this.name,
      latencyMs: performance.now() - started,
      provider: 'simulated',
    };
  }
}

/** About four characters per token: enough for accounting tests and dashboards in sim mode. */
function estimateUsage(request: ChatRequest, text: string): ChatResult['usage'] {
  const prompt = request.messages.reduce((n, m) => n + m.content.length, 0);
  return { inputTokens: Math.ceil(prompt / 4), outputTokens: Math.ceil(text.length / 4) };
}
