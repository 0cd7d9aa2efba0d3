// Anthropic provider (the real `@anthropic-ai/sdk`), used by the Director: the system prompt
// travels separately, tool calls map to `tool_use` blocks and back, SDK errors to typed errors.
import { performance } from 'node:perf_hooks';
import type Anthropic from '@anthropic-ai/sdk';
import { NightshiftError, TimeoutError } from '@nightshift/protocol';
import { abortError, LlmOutputTruncated, LlmRequestRejected, LlmUnavailable } from '../errors.js';
import type { ChatMessage, ChatModel, ChatRequest, ChatResult, ToolCall, ToolSpec } from '../types.js';

export interface AnthropicChatModelOptions {
  apiKey: string;
  /** e.g. the fake Anthropic server in tests; unset = the SDK's default. */
  baseUrl?: string;
  model: string;
  /** SDK retries on connection errors, 408/409/429/≥500 with backoff (REFERENCE: default 2). */
  maxRetries: number;
  /** Per-request timeout; keep it inside the Director's role timeout (guide §7: 120 s). */
  timeoutMs: number;
  maxTokens?: number;
  /**
   * Mark the stable prefix (tool specs, then the system prompt) for Anthropic's prompt cache
   * (default true). The Director resends the same long system prompt and guide context on every
   * call; cached, those tokens cost a tenth. Prefixes under the model's minimum (1024 tokens for
   * Sonnet) are simply not cached by the API.
   */
  promptCaching?: boolean;
}

/** Most output tokens a retry of a max_tokens-cut answer may ask for. */
const MAX_RETRY_TOKENS = 32_000;
const EPHEMERAL = { type: 'ephemeral' } as const;
/** The forced tool that carries a structured answer (request.format). */
const STRUCTURED_TOOL = 'structured_answer';

type Param = Anthropic.MessageParam;
type Block = Anthropic.ContentBlockParam;

/**
 * The SDK, loaded on first use: only the Director calls Anthropic, and importing the SDK costs
 * every other process that loads this package ~20 MB of RSS (the workers' memory target is 80 MB).
 */
type Sdk = typeof import('@anthropic-ai/sdk');
let sdk: Sdk | undefined;
async function loadSdk(): Promise<Sdk> {
  sdk ??= await import('@anthropic-ai/sdk');
  return sdk;
}

export class AnthropicChatModel implements ChatModel {
  readonly name: string;
  #client: Promise<Anthropic> | undefined;
  readonly #opts: AnthropicChatModelOptions;

  constructor(options: AnthropicChatModelOptions) {
    this.#opts = options;
    this.name = `anthropic:${options.model}`;
  }

  #sdkClient(): Promise<Anthropic> {
    const o = this.#opts;
    this.#client ??= loadSdk().then(
      ({ default: Client }) =>
        new Client({
          apiKey: o.apiKey,
          maxRetries: o.maxRetries,
          timeout: o.timeoutMs,
          ...(o.baseUrl ? { baseURL: o.baseUrl } : {}),
        }),
    );
    return this.#client;
  }

  async chat(request: ChatRequest): Promise<ChatResult> {
    const started = performance.now();
    const system = request.messages
      .filter((m) => m.role === 'system')
      .map((m) => m.content)
      .join('\n\n');
    try {
      request.signal?.throwIfAborted();
      const client = await this.#sdkClient();
      const cache = this.#opts.promptCaching !== false;
      const tools = (request.tools ?? []).map((t, i, all) => ({
        name: t.name,
        description: t.description,
        input_schema: inputSchema(t.parameters),
        // The cache breakpoint covers everything before it: tools come first in the prompt.
        ...(cache && i === all.length - 1 && !system ? { cache_control: EPHEMERAL } : {}),
      }));
      // Structured output: one tool whose input is the schema, and the model made to call it.
      const structured =
        request.format === undefined
          ? {}
          : {
              tools: [
                ...tools,
                {
                  name: STRUCTURED_TOOL,
                  description: 'Give your answer as this JSON object.',
                  input_schema: { ...request.format, type: 'object' as const },
                },
              ],
              tool_choice: { type: 'tool' as const, name: STRUCTURED_TOOL },
            };
      const params = {
        model: this.#opts.model,
        messages: toAnthropicMessages(request.messages),
        ...(system
          ? {
              system: [
                { type: 'text' as const, text: system, ...(cache ? { cache_control: EPHEMERAL } : {}) },
              ],
            }
          : {}),
        ...(tools.length > 0 ? { tools } : {}),
        ...structured,
      };
      const options = request.signal ? { signal: request.signal } : {};
      const maxTokens = this.#opts.maxTokens ?? 4096;
      let response = await client.messages.create({ ...params, max_tokens: maxTokens }, options);
      if (response.stop_reason === 'max_tokens') {
        // Cut at the limit: not a whole answer. Once more with twice the room, then a clear failure.
        const more = Math.min(maxTokens * 2, MAX_RETRY_TOKENS);
        if (more > maxTokens)
          response = await client.messages.create({ ...params, max_tokens: more }, options);
        if (response.stop_reason === 'max_tokens') {
          throw new LlmOutputTruncated(this.name, {
            numPredict: Math.max(more, maxTokens),
            limitName: 'max_tokens',
          });
        }
      }
      let text = '';
      const toolCalls: ToolCall[] = [];
      for (const block of response.content) {
        if (block.type === 'text') text += block.text;
        else if (
          block.type === 'tool_use' &&
          block.name === STRUCTURED_TOOL &&
          request.format !== undefined
        ) {
          text += JSON.stringify(block.input);
        } else if (block.type === 'tool_use') {
          const input = block.input;
          toolCalls.push({
            id: block.id,
            name: block.name,
            arguments: typeof input === 'object' && input !== null ? (input as Record<string, unknown>) : {},
          });
        }
      }
      request.onProgress?.({ text, chunks: 1 });
      return {
        text,
        toolCalls,
        usage: usageOf(response.usage),
        model: response.model,
        latencyMs: performance.now() - started,
        provider: 'anthropic',
      };
    } catch (error) {
      throw classifyAnthropicError(error, request.signal, this.#opts.timeoutMs);
    }
  }
}

/** Anthropic's input_tokens excludes cached tokens; ours counts every prompt token, and says which were cached. */
function usageOf(u: Anthropic.Usage): ChatResult['usage'] {
  const read = u.cache_read_input_tokens ?? 0;
  const write = u.cache_creation_input_tokens ?? 0;
  return {
    inputTokens: u.input_tokens + read + write,
    outputTokens: u.output_tokens,
    ...(read > 0 ? { cacheReadTokens: read } : {}),
    ...(write > 0 ? { cacheWriteTokens: write } : {}),
  };
}

/** The whole JSON Schema (additionalProperties, descriptions…), not just its properties. */
function inputSchema(parameters: ToolSpec['parameters']): Anthropic.Tool.InputSchema {
  const { required, ...rest } = parameters;
  return { ...rest, type: 'object', ...(required ? { required } : {}) };
}

/** Anthropic wants user/assistant turns only; tool results ride in user turns (REFERENCE). */
function toAnthropicMessages(messages: readonly ChatMessage[]): Param[] {
  const out: Param[] = [];
  const push = (role: 'user' | 'assistant', blocks: Block[]) => {
    const previous = out.at(-1);
    // Consecutive same-role turns are merged: the API expects them to alternate.
    if (previous && previous.role === role && Array.isArray(previous.content))
      previous.content.push(...blocks);
    else out.push({ role, content: blocks });
  };
  for (const m of messages) {
    if (m.role === 'system') continue;
    if (m.role === 'tool') {
      const id = m.toolCallId ?? m.toolName ?? 'tool';
      push('user', [{ type: 'tool_result', tool_use_id: id, content: m.content }]);
    } else if (m.role === 'assistant') {
      const blocks: Block[] = m.content ? [{ type: 'text', text: m.content }] : [];
      (m.toolCalls ?? []).forEach((c, i) => {
        blocks.push({ type: 'tool_use', id: c.id ?? `call_${i}`, name: c.name, input: c.arguments });
      });
      // An empty assistant turn is refused by the API ("content must be non-empty"): drop it.
      if (blocks.length > 0) push('assistant', blocks);
    } else {
      push('user', [{ type: 'text', text: m.content }]);
    }
  }
  return out;
}

export function classifyAnthropicError(
  error: unknown,
  signal: AbortSignal | undefined,
  timeoutMs: number,
): NightshiftError {
  if (error instanceof NightshiftError) return error;
  if (signal?.aborted) return abortError(signal);
  // An SDK error implies the SDK is loaded; before that, nothing here can be one of its errors.
  const Anthropic = sdk?.default;
  if (Anthropic === undefined) {
    const message = error instanceof Error ? error.message : String(error);
    return new NightshiftError('LLM_FAILED', `Anthropic: ${message}`, { category: 'fatal', cause: error });
  }
  if (error instanceof Anthropic.APIUserAbortError) {
    return new NightshiftError('LLM_ABORTED', 'Anthropic call aborted', { category: 'fatal', cause: error });
  }
  if (error instanceof Anthropic.APIConnectionTimeoutError)
    return new TimeoutError('Anthropic call', timeoutMs, { cause: error });
  if (error instanceof Anthropic.APIConnectionError)
    return new LlmUnavailable('Anthropic', error.message, { cause: error });
  if (error instanceof Anthropic.APIError) {
    const status = error.status;
    // 408/409/429/≥500 (529 overloaded too) are worth another try later (REFERENCE, SDK retries).
    if (status === 408 || status === 409 || status === 429 || (status !== undefined && status >= 500)) {
      return new LlmUnavailable('Anthropic', `HTTP ${status} ${error.message}`, {
        cause: error,
        details: { status },
      });
    }
    if (status === 401 || status === 403)
      return new LlmRequestRejected('Anthropic', status, error.message, 'fatal', error);
    return new LlmRequestRejected('Anthropic', status, error.message, 'invalid-input', error);
  }
  const message = error instanceof Error ? error.message : String(error);
  return new NightshiftError('LLM_FAILED', `Anthropic: ${message}`, { category: 'fatal', cause: error });
}
