// Direct Ollama provider (the real `ollama` npm client). Only the llm-gateway uses it in
// production, so only the gateway's limiter decides how many calls reach Ollama at once.
import { performance } from 'node:perf_hooks';
import { type ChatResponse, Ollama, type Message as OllamaMessage, type Options, type Tool } from 'ollama';
import { estimatePromptTokens } from '../context-budget.js';
import { LlmOutputTruncated, LlmUnavailable, ModelNotFound } from '../errors.js';
import type { ChatMessage, ChatModel, ChatRequest, ChatResult, ToolCall, ToolSpec } from '../types.js';
import { classifyOllamaError, type OllamaCallContext } from './ollama-errors.js';
import { promptMayBeCut, retryNumPredict, splitThinking } from './ollama-reply.js';
import { parseTextToolCalls } from './text-tool-calls.js';

/**
 * Context window sent as `options.num_ctx` on every call. Without it Ollama uses its own default
 * (2048 in most versions) and silently drops the start of longer prompts. 8192 for qwen3:32b with
 * 2 parallel slots on 24 GB: weights ≈ 19.8 GB (Q4_K_M); KV cache = 2 (K,V) × 64 layers × 8 KV heads
 * × 128 dims × 1 byte (q8_0 cache) = 128 KiB per token, × 8192 tokens × 2 slots = 2 GiB; plus ≈ 1 GB
 * of compute buffers: 22.8 GB. With the default f16 cache it is 4 GiB: use 4096 then (docs/operations.md).
 */
export const DEFAULT_NUM_CTX = 8192;
/** Room kept for the answer (`options.num_predict`): a whole file written by a tool call fits. */
export const DEFAULT_NUM_PREDICT = 2048;

/** `think` as Ollama takes it: off, on, or a level for models that have levels. */
export type ThinkSetting = boolean | 'low' | 'medium' | 'high';

export interface OllamaChatModelOptions {
  /** Normalised Ollama address, e.g. `http://127.0.0.1:11434` (config.ollama.host). */
  host: string;
  model: string;
  /** Sent as `keep_alive` on every call so the model stays loaded overnight (guide §1: 60m). */
  keepAlive: string | number;
  /** Per-call deadline; unset = none (the caller's signal still applies). */
  timeoutMs?: number;
  options?: Partial<Options>;
  /** `options.num_ctx` of every call (default DEFAULT_NUM_CTX). */
  numCtx?: number;
  /** `options.num_predict` of every call (default DEFAULT_NUM_PREDICT); one retry may double it. */
  numPredict?: number;
  /** `think` of every call (default false: qwen3 then answers without a reasoning preamble). */
  think?: ThinkSetting;
  /** Told when a prompt may have been cut to fit num_ctx (for a warning and a metric); must not throw. */
  onPromptCut?: (info: { promptEvalCount: number; numCtx: number; estimatedTokens: number }) => void;
  /** Injected transport, for tests; defaults to the global fetch. */
  fetch?: typeof fetch;
}

export class OllamaChatModel implements ChatModel {
  readonly name: string;
  readonly #opts: OllamaChatModelOptions;

  constructor(options: OllamaChatModelOptions) {
    this.#opts = options;
    this.name = `ollama:${options.model}`;
  }

  get model(): string {
    return this.#opts.model;
  }

  get host(): string {
    return this.#opts.host;
  }

  async chat(request: ChatRequest): Promise<ChatResult> {
    const started = performance.now();
    const timeout =
      this.#opts.timeoutMs === undefined ? undefined : AbortSignal.timeout(this.#opts.timeoutMs);
    const signals = [request.signal, timeout].filter((s): s is AbortSignal => s !== undefined);
    const ctx: OllamaCallContext = {
      host: this.#opts.host,
      model: this.#opts.model,
      signal: request.signal,
      timeout,
      timeoutMs: this.#opts.timeoutMs,
    };
    try {
      request.signal?.throwIfAborted();
      // One light client per call: its fetch carries this call's abort signal, which the
      // client's non-streaming chat() has no parameter for.
      const client = this.#client(signals.length > 0 ? AbortSignal.any(signals) : undefined);
      const numCtx = this.#opts.numCtx ?? DEFAULT_NUM_CTX;
      const numPredict = this.#opts.numPredict ?? DEFAULT_NUM_PREDICT;
      const tools = request.tools ?? [];
      const base = {
        model: this.#opts.model,
        messages: request.messages.map(toOllamaMessage),
        keep_alive: this.#opts.keepAlive,
        // Some Ollama versions cannot combine `format` with thinking: a constrained call does not think.
        think: request.format === undefined ? (this.#opts.think ?? false) : false,
        ...(request.format === undefined ? {} : { format: request.format }),
        ...(tools.length > 0 ? { tools: tools.map(toOllamaTool) } : {}),
      };
      const send = (predict: number) => {
        const call = { ...base, options: { ...this.#opts.options, num_ctx: numCtx, num_predict: predict } };
        return request.onProgress
          ? this.#streamed(client, call, request.onProgress)
          : client.chat({ ...call, stream: false });
      };
      let response = await send(numPredict);
      let limit = numPredict;
      if (response.done_reason === 'length') {
        // Cut at num_predict: not a whole answer. Once more with the room the window has left.
        const more = retryNumPredict(numPredict, numCtx, response.prompt_eval_count ?? 0);
        if (more !== undefined) {
          limit = more;
          response = await send(more);
        }
        if (response.done_reason === 'length') {
          throw new LlmOutputTruncated(this.name, {
            numPredict: limit,
            numCtx,
            promptTokens: response.prompt_eval_count ?? 0,
          });
        }
      }
      const promptEvalCount = response.prompt_eval_count ?? 0;
      const promptCut = promptMayBeCut({ promptEvalCount, numCtx, messages: request.messages, tools });
      if (promptCut) {
        this.#opts.onPromptCut?.({
          promptEvalCount,
          numCtx,
          estimatedTokens: estimatePromptTokens(request.messages, tools),
        });
      }
      const { text, thinking } = splitThinking(response.message?.content ?? '', response.message?.thinking);
      const native = (response.message?.tool_calls ?? []).map(fromOllamaToolCall);
      const inText =
        native.length > 0
          ? { calls: [], text }
          : parseTextToolCalls(
              text,
              tools.map((t) => t.name),
            );
      return {
        text: inText.text,
        toolCalls: native.length > 0 ? native : inText.calls,
        usage: { inputTokens: promptEvalCount, outputTokens: response.eval_count ?? 0 },
        model: response.model || this.#opts.model,
        latencyMs: performance.now() - started,
        provider: 'ollama',
        ...(thinking === '' ? {} : { thinking }),
        ...(inText.calls.length > 0 ? { textToolCalls: inText.calls.length } : {}),
        ...(promptCut ? { promptCut: true } : {}),
      };
    } catch (error) {
      throw classifyOllamaError(error, ctx);
    }
  }

  /**
   * Asks `/api/tags` whether the configured model is installed. Resolves with the installed names;
   * throws ModelNotFound (fatal, with the `ollama pull` hint) or LlmUnavailable (server down).
   */
  async checkModel(signal?: AbortSignal): Promise<string[]> {
    let names: string[];
    try {
      const listed = await this.#client(signal).list();
      names = listed.models.map((m) => m.name);
    } catch (error) {
      const ctx = {
        host: this.#opts.host,
        model: this.#opts.model,
        signal,
        timeout: undefined,
        timeoutMs: undefined,
      };
      const typed = classifyOllamaError(error, ctx);
      throw typed.category === 'transient'
        ? typed
        : new LlmUnavailable(`Ollama at ${this.#opts.host}`, typed.message);
    }
    if (!names.some((n) => sameModel(n, this.#opts.model)))
      throw new ModelNotFound(this.#opts.model, this.#opts.host, names);
    return names;
  }

  async #streamed(
    client: Ollama,
    base: Parameters<Ollama['chat']>[0],
    onProgress: NonNullable<ChatRequest['onProgress']>,
  ): Promise<ChatResponse> {
    const stream = await client.chat({ ...base, stream: true });
    let text = '';
    let thinking = '';
    let chunks = 0;
    const toolCalls: NonNullable<OllamaMessage['tool_calls']> = [];
    let last: ChatResponse | undefined;
    for await (const part of stream) {
      chunks++;
      text += part.message?.content ?? '';
      thinking += part.message?.thinking ?? '';
      toolCalls.push(...(part.message?.tool_calls ?? []));
      last = part;
      onProgress({ text, chunks });
    }
    if (!last) throw new Error('stream ended without a done chunk');
    const message = { ...last.message, role: 'assistant', content: text, tool_calls: toolCalls };
    return { ...last, message: thinking === '' ? message : { ...message, thinking } };
  }

  #client(signal: AbortSignal | undefined): Ollama {
    const base = this.#opts.fetch ?? fetch;
    if (!signal) return new Ollama({ host: this.#opts.host, fetch: base });
    const withSignal: typeof fetch = (input, init) =>
      base(input, { ...init, signal: init?.signal ? AbortSignal.any([init.signal, signal]) : signal });
    return new Ollama({ host: this.#opts.host, fetch: withSignal });
  }
}

/** `qwen3` matches `qwen3:latest`; otherwise names must be equal. */
function sameModel(installed: string, wanted: string): boolean {
  if (installed === wanted) return true;
  return !wanted.includes(':') && installed === `${wanted}:latest`;
}

function toOllamaMessage(message: ChatMessage): OllamaMessage {
  const out: OllamaMessage = { role: message.role, content: message.content };
  if (message.toolCalls && message.toolCalls.length > 0) {
    out.tool_calls = message.toolCalls.map((c) => ({ function: { name: c.name, arguments: c.arguments } }));
  }
  if (message.role === 'tool' && message.toolName !== undefined) out.tool_name = message.toolName;
  return out;
}

function toOllamaTool(spec: ToolSpec): Tool {
  return {
    type: 'function',
    function: {
      name: spec.name,
      description: spec.description,
      parameters: spec.parameters as NonNullable<Tool['function']['parameters']>,
    },
  };
}

function fromOllamaToolCall(call: {
  function: { name: string; arguments: Record<string, unknown> };
}): ToolCall {
  const args = call.function.arguments;
  return { name: call.function.name, arguments: typeof args === 'object' && args !== null ? args : {} };
}

/** OLLAMA_THINK as text (`false`, `true`, `low`, `medium`, `high`) → Ollama's `think` value. */
export function thinkSetting(text: 'false' | 'true' | 'low' | 'medium' | 'high'): ThinkSetting {
  if (text === 'true') return true;
  if (text === 'false') return false;
  return text;
}
