// The real server's habits that a scripted fake would otherwise hide (issue 20 §7):
//  - the context window: a prompt longer than `options.num_ctx` (2048 when the request sends none,
//    as most Ollama versions default) loses its START — the system prompt first — and the server
//    says nothing to the client; `prompt_eval_count` is what was kept;
//  - the output limit: an answer longer than `options.num_predict` stops there with
//    `done_reason: "length"` (and a tool call cut in half is no tool call);
//  - thinking: with `think` set the reasoning comes in `message.thinking`, without it inline as
//    `<think>…</think>` before the answer (qwen3's template);
//  - `format`: with a JSON Schema in `format` the answer is JSON only (constrained decoding): the
//    reply's JSON object, or `{}` when it has none — unless the rule plays a server that ignores it;
//  - tool calls as text: a reply may put `<tool_call>{…}</tool_call>` into the content with empty
//    `tool_calls`, as Qwen/Hermes templates do when the server's parser misses it.
import { jsonCandidates } from '@nightshift/protocol';
import { estimateTokens } from '../scenario.js';
import type { OllamaChatMessage, OllamaReply } from './types.js';

/** Ollama's default window when a request sends no num_ctx. */
export const OLLAMA_DEFAULT_NUM_CTX = 2048;

export interface Window {
  /** The messages as the model saw them (the start cut off when too long). */
  messages: OllamaChatMessage[];
  /** Tokens of prompt evaluated (never more than the window). */
  promptTokens: number;
  truncated: boolean;
}

function numericOption(body: Record<string, unknown>, name: string): number | undefined {
  const options = body.options;
  if (typeof options !== 'object' || options === null) return undefined;
  const value = (options as Record<string, unknown>)[name];
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? value : undefined;
}

export function numCtxOf(body: Record<string, unknown>): number {
  return numericOption(body, 'num_ctx') ?? OLLAMA_DEFAULT_NUM_CTX;
}

/** Keeps the end of the prompt that fits `numCtx` tokens (tool specs count too, and are kept). */
export function fitWindow(
  messages: readonly OllamaChatMessage[],
  toolsChars: number,
  numCtx: number,
): Window {
  const total = messages.reduce((sum, m) => sum + m.content.length, 0);
  const tokens = estimateTokens(total + toolsChars);
  if (tokens <= numCtx) return { messages: [...messages], promptTokens: tokens, truncated: false };
  // Characters to drop from the front, at the fake's 4 characters per token.
  let drop = total + toolsChars - numCtx * 4;
  const kept: OllamaChatMessage[] = [];
  for (const message of messages) {
    if (drop >= message.content.length) {
      drop -= message.content.length;
      continue;
    }
    kept.push(drop > 0 ? { ...message, content: message.content.slice(drop) } : message);
    drop = 0;
  }
  return { messages: kept, promptTokens: numCtx, truncated: true };
}

export interface ShapedReply {
  reply: OllamaReply;
  doneReason: 'stop' | 'length';
}

/** The reply as the real server would send it for this request's think / num_predict settings. */
export function shapeReply(reply: OllamaReply, body: Record<string, unknown>): ShapedReply {
  let shaped: OllamaReply = { ...reply };
  if (typeof body.format === 'object' && body.format !== null && shaped.ignoreFormat !== true) {
    shaped = { ...shaped, content: lastJsonObject(shaped.content ?? '') ?? '{}', toolCalls: [] };
  }
  if (shaped.toolCallsAsText === true && shaped.toolCalls !== undefined && shaped.toolCalls.length > 0) {
    const text = shaped.toolCalls
      .map((c) => `<tool_call>\n${JSON.stringify({ name: c.name, arguments: c.arguments })}\n</tool_call>`)
      .join('\n');
    shaped = {
      ...shaped,
      content: [shaped.content ?? '', text].filter((t) => t !== '').join('\n'),
      toolCalls: [],
    };
  }
  const think = body.think;
  if (shaped.thinking !== undefined && (think === false || think === undefined)) {
    // No `think` (or false on a model that thinks anyway): the reasoning comes inline.
    shaped = { ...shaped, content: `<think>\n${shaped.thinking}\n</think>\n\n${shaped.content ?? ''}` };
    delete shaped.thinking;
  }
  const numPredict = numericOption(body, 'num_predict');
  const content = shaped.content ?? '';
  if (
    numPredict !== undefined &&
    estimateTokens(content.length + (shaped.thinking?.length ?? 0)) > numPredict
  ) {
    const room = Math.max(0, numPredict * 4 - (shaped.thinking?.length ?? 0));
    return { reply: { ...shaped, content: content.slice(0, room), toolCalls: [] }, doneReason: 'length' };
  }
  return { reply: shaped, doneReason: 'stop' };
}

/** The last JSON object in `text` (a model's trailing answer), compact; undefined when none. */
export function lastJsonObject(text: string): string | undefined {
  for (const candidate of jsonCandidates(text).reverse()) {
    try {
      return JSON.stringify(JSON.parse(candidate));
    } catch (error) {
      void error; // balanced braces but not JSON (prose in braces): try the one before
    }
  }
  return undefined;
}
