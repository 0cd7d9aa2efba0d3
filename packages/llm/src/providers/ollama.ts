// Direct Ollama provider (the real `ollama` npm client). Only the llm-gateway uses it in
// production, so only the gateway's limiter decides how many calls reach Ollama at once.
import { performance } from 'node:perf_hooks';
import { type ChatResponse, Ollama, type Message as OllamaMessage, type Options, type Tool } from 'ollama';
import { LlmUnavailable, ModelNotFound } from '../errors.js';
import type { ChatMessage, ChatModel, ChatRequest, ChatResult, ToolCall, ToolSpec } from '../types.js';
import { classifyOllamaError, type OllamaCallContext } from './ollama-errors.js';

export interface OllamaChatModelOptions {
  /** Normalised Ollama address, e.g. `http://127.0.0.1:11434` (config.ollama.host). */
  host: string;
  model: string;
  /** Sent as `keep_alive` on every call so the model stays loaded overnight (guide §1: 60m). */
  keepAlive: string | number;
  /** Per-call deadline; unset = none (the caller's signal still applies). */
  timeoutMs?: number;
  options?: Partial<Options>;
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
      const base = {
        model: this.#opts.model,
        messages: request.messages.map(toOllamaMessage),
        keep_alive: this.#opts.keepAlive,
        ...(request.tools && request.tools.length > 0 ? { tools: request.tools.map(toOllamaTool) } : {}),
        ...(this.#opts.options ? { options: this.#opts.options } : {}),
      };
      const response = request.onProgress
        ? await this.#streamed(client, base, request.onProgress)
        : await client.chat({ ...base, stream: false });
      return {
        text: response.message?.content ?? '',
        toolCalls: (response.message?.tool_calls ?? []).map(fromOllamaToolCall),
        usage: { inputTokens: response.prompt_eval_count ?? 0, outputTokens: response.eval_count ?? 0 },
        model: response.model || this.#opts.model,
        latencyMs: performance.now() - started,
        provider: 'ollama',
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
    let chunks = 0;
    const toolCalls: NonNullable<OllamaMessage['tool_calls']> = [];
    let last: ChatResponse | undefined;
    for await (const part of stream) {
      chunks++;
      text += part.message?.content ?? '';
      toolCalls.push(...(part.message?.tool_calls ?? []));
      last = part;
      onProgress({ text, chunks });
    }
    if (!last) throw new Error('stream ended without a done chunk');
    return { ...last, message: { ...last.message, role: 'assistant', content: text, tool_calls: toolCalls } };
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
