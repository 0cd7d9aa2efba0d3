// Tool calls that arrive as text. Qwen- and Hermes-style chat templates wrap a call in
// `<tool_call>{"name": …, "arguments": …}</tool_call>`; when Ollama's template parser misses it
// (a stray prefix, a model that drifts from the template) the call lands in `content` and
// `tool_calls` is empty. Some models write the same object in a ```json fence instead. Both are
// recognised here, but only for tools the request offered: a JSON example in prose that happens to
// have a `name` field must not run anything.
import type { ToolCall } from '../types.js';

const TAGGED = /<tool_call>\s*([\s\S]*?)\s*<\/tool_call>/g;
const FENCED = /```(?:json)?\s*(\{[\s\S]*?\})\s*```/g;

export interface TextToolCalls {
  calls: ToolCall[];
  /** The content with the recognised calls removed (what is left is the model's prose). */
  text: string;
}

function asCall(json: string, offered: ReadonlySet<string>): ToolCall | undefined {
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch (error) {
    void error; // not JSON: prose that looks like a call is left as prose
    return undefined;
  }
  if (typeof value !== 'object' || value === null) return undefined;
  const v = value as Record<string, unknown>;
  // Hermes writes `arguments`; some templates write `parameters`; OpenAI-shaped text nests `function`.
  const inner =
    typeof v.function === 'object' && v.function !== null ? (v.function as Record<string, unknown>) : v;
  const name = inner.name;
  let args = inner.arguments ?? inner.parameters ?? {};
  if (typeof args === 'string') {
    try {
      args = JSON.parse(args);
    } catch (error) {
      void error;
      return undefined;
    }
  }
  if (typeof name !== 'string' || !offered.has(name)) return undefined;
  if (typeof args !== 'object' || args === null || Array.isArray(args)) return undefined;
  return { name, arguments: args as Record<string, unknown> };
}

/**
 * The tool calls written into `content`, if any. Tagged calls win: when a reply has any, fenced
 * JSON in it is taken as prose (an example), not as a call.
 */
export function parseTextToolCalls(content: string, offeredTools: readonly string[]): TextToolCalls {
  const offered = new Set(offeredTools);
  if (offered.size === 0 || content === '') return { calls: [], text: content };
  for (const pattern of [TAGGED, FENCED]) {
    const calls: ToolCall[] = [];
    const text = content.replace(pattern, (whole, json: string) => {
      const call = asCall(json, offered);
      if (call === undefined) return whole;
      calls.push(call);
      return '';
    });
    if (calls.length > 0) return { calls, text: text.trim() };
  }
  return { calls: [], text: content };
}
