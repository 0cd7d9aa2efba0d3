// Anthropic's prompt cache and output limit, as the fake plays them (issue 20 §6, §7).
// The cache: a `cache_control` breakpoint on a tool or a system block caches everything up to it
// (tools first, then system); a prefix under the model's minimum (1024 tokens for Sonnet and Opus)
// is not cached. The first request writes the prefix (`cache_creation_input_tokens`), later ones
// within the lifetime read it (`cache_read_input_tokens`); `input_tokens` counts only the rest.
import { createHash } from 'node:crypto';
import { lastJsonObject } from '../fake-ollama/habits.js';
import { estimateTokens } from '../scenario.js';
import type { AnthropicReply, AnthropicRequestInfo } from './types.js';

export const MIN_CACHEABLE_TOKENS = 1024;

export interface CacheUsage {
  input_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
}

function hasBreakpoint(value: unknown): boolean {
  return (
    Array.isArray(value) && value.some((b) => typeof b === 'object' && b !== null && 'cache_control' in b)
  );
}

/** The text of the cached prefix (tools, then system), or undefined when the request marks none. */
function cachedPrefix(body: Record<string, unknown>): string | undefined {
  const tools = Array.isArray(body.tools) ? body.tools : [];
  if (hasBreakpoint(body.system)) return JSON.stringify(tools) + JSON.stringify(body.system);
  if (hasBreakpoint(tools)) return JSON.stringify(tools);
  return undefined;
}

export class PromptCache {
  readonly #written = new Set<string>();

  usage(req: AnthropicRequestInfo): CacheUsage {
    const toolsChars = req.tools.length > 0 ? JSON.stringify(req.tools).length : 0;
    const total = estimateTokens(req.promptChars + toolsChars);
    const prefix = cachedPrefix(req.body);
    const prefixTokens = prefix === undefined ? 0 : Math.min(total, estimateTokens(prefix.length));
    if (prefix === undefined || prefixTokens < MIN_CACHEABLE_TOKENS) {
      return { input_tokens: total, cache_creation_input_tokens: 0, cache_read_input_tokens: 0 };
    }
    const key = createHash('sha256').update(`${req.model}\n${prefix}`).digest('hex');
    const hit = this.#written.has(key);
    this.#written.add(key);
    return {
      input_tokens: total - prefixTokens,
      cache_creation_input_tokens: hit ? 0 : prefixTokens,
      cache_read_input_tokens: hit ? prefixTokens : 0,
    };
  }

  clear(): void {
    this.#written.clear();
  }
}

/** An answer longer than `max_tokens` stops there, with stop_reason `max_tokens` (no tool call survives). */
export function limitReply(reply: AnthropicReply, maxTokens: number): AnthropicReply {
  const content = reply.content ?? '';
  if (estimateTokens(content.length) <= maxTokens) return reply;
  return { ...reply, content: content.slice(0, maxTokens * 4), toolCalls: [], stopReason: 'max_tokens' };
}

/**
 * `tool_choice: {type: "tool", name}` forces that tool: the answer is a tool_use block whose input
 * is the reply's JSON object (`{}` when it has none), as a model made to answer through a schema.
 */
export function forceTool(reply: AnthropicReply, body: Record<string, unknown>): AnthropicReply {
  const choice = body.tool_choice as { type?: unknown; name?: unknown } | undefined;
  if (choice?.type !== 'tool' || typeof choice.name !== 'string') return reply;
  if ((reply.toolCalls ?? []).some((c) => c.name === choice.name)) return reply;
  const input = JSON.parse(lastJsonObject(reply.content ?? '') ?? '{}') as Record<string, unknown>;
  return { ...reply, content: '', toolCalls: [{ name: choice.name, input }], stopReason: 'tool_use' };
}
