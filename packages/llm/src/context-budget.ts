// The per-call context budget of the tool loop (guide §10.3 "set max context per agent call"):
// when a conversation grows past it, the oldest tool outputs are cut first, then the oldest
// tool-call arguments; the system prompt and the original request are never touched.
import type { ChatMessage } from './types.js';

/** Default characters per model call: roughly 6k tokens, well inside a 32B model's window. */
export const DEFAULT_CONTEXT_BUDGET_CHARS = 24_000;

/** What a truncated text says in place of what was cut, so the model knows it is not seeing it all. */
export function truncationMarker(omitted: number): string {
  return `\n[… ${omitted} chars truncated to fit the context budget …]\n`;
}

/** Room left for the marker a cut inserts, so one cut is enough when the text is long enough. */
const MARKER_ALLOWANCE = truncationMarker(10_000_000).length;

export interface FitOptions {
  /** Least characters kept of any one message's text (head + tail); default 240. */
  minKeepChars?: number;
}

export interface FitResult {
  messages: ChatMessage[];
  /** Characters of the conversation after fitting (may still exceed the budget: see `fits`). */
  chars: number;
  /** Messages shortened by this call. */
  truncated: number;
  /** False when even the shortest allowed form is over budget (the protected messages alone are). */
  fits: boolean;
}

/** Characters a message costs: its text plus the JSON of any tool calls it carries. */
export function messageChars(message: ChatMessage): number {
  let n = message.content.length;
  for (const call of message.toolCalls ?? []) n += call.name.length + JSON.stringify(call.arguments).length;
  return n;
}

export function conversationChars(messages: readonly ChatMessage[]): number {
  return messages.reduce((sum, m) => sum + messageChars(m), 0);
}

/**
 * Returns a copy of `messages` within `budgetChars` where possible (inputs are not mutated).
 * Order of sacrifice: tool outputs oldest first, then the text and long string arguments of
 * earlier assistant turns oldest first. Protected: every system message and the first user
 * message (the request being worked on). A cut keeps the head and the tail of a text (a test
 * run's verdict is usually at its end, a command's status line at its start).
 */
export function fitToBudget(
  messages: readonly ChatMessage[],
  budgetChars: number,
  options: FitOptions = {},
): FitResult {
  const minKeep = Math.max(0, options.minKeepChars ?? 240);
  const out = messages.map((m) => ({ ...m }));
  let chars = conversationChars(out);
  let truncated = 0;
  if (chars <= budgetChars) return { messages: out, chars, truncated, fits: true };

  const firstUser = out.findIndex((m) => m.role === 'user');
  const candidates = (role: ChatMessage['role']) =>
    out.flatMap((m, i) => (m.role === role && i !== firstUser ? [i] : []));

  // Pass 1: tool outputs, oldest first.
  for (const i of candidates('tool')) {
    if (chars <= budgetChars) break;
    const m = out[i] as ChatMessage;
    const shorter = shorten(m.content, m.content.length - (chars - budgetChars) - MARKER_ALLOWANCE, minKeep);
    if (shorter === m.content) continue;
    chars -= m.content.length - shorter.length;
    out[i] = { ...m, content: shorter };
    truncated++;
  }
  // Pass 2: earlier assistant turns (their text, then long string arguments of their tool calls).
  const assistants = candidates('assistant');
  for (const i of assistants) {
    if (chars <= budgetChars) break;
    const m = out[i] as ChatMessage;
    const before = messageChars(m);
    const content = shorten(m.content, m.content.length - (chars - budgetChars) - MARKER_ALLOWANCE, minKeep);
    const toolCalls = m.toolCalls?.map((c) => ({ ...c, arguments: elideLongStrings(c.arguments, minKeep) }));
    const next: ChatMessage = { ...m, content, ...(toolCalls ? { toolCalls } : {}) };
    const after = messageChars(next);
    if (after >= before) continue;
    chars -= before - after;
    out[i] = next;
    truncated++;
  }
  return { messages: out, chars, truncated, fits: chars <= budgetChars };
}

/** Cuts `text` to about `target` characters (never below `minKeep`), keeping a third head and two thirds tail. */
function shorten(text: string, target: number, minKeep: number): string {
  const keep = Math.max(minKeep, target);
  if (text.length <= keep) return text;
  // The marker costs characters too; a cut that saves less than it costs is not worth making.
  const marker = truncationMarker(text.length - keep);
  if (text.length - keep <= marker.length) return text;
  const head = Math.floor(keep / 3);
  const tail = keep - head;
  return text.slice(0, head) + marker + text.slice(text.length - tail);
}

function elideLongStrings(args: Record<string, unknown>, limit: number): Record<string, unknown> {
  const visit = (value: unknown): unknown => {
    if (typeof value === 'string')
      return value.length > limit ? `<${value.length} chars omitted (context budget)>` : value;
    if (Array.isArray(value)) return value.map(visit);
    if (typeof value === 'object' && value !== null)
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, visit(v)]));
    return value;
  };
  return visit(args) as Record<string, unknown>;
}

/**
 * Characters per token assumed when estimating a prompt: on the safe side. English prose runs at
 * about 4 characters per Qwen/Llama token, code and JSON nearer 3; assuming 3 over-counts prose,
 * so an estimate that fits really fits.
 */
export const SAFE_CHARS_PER_TOKEN = 3;
/** Tokens a chat template adds per message (role markers, separators), counted generously. */
const TEMPLATE_TOKENS_PER_MESSAGE = 8;

/** A safe-side token count of what the model will read: messages, tool calls and tool specs. */
export function estimatePromptTokens(
  messages: readonly ChatMessage[],
  tools: readonly { name: string; description: string; parameters: unknown }[] = [],
): number {
  const toolChars = tools.reduce((sum, t) => sum + JSON.stringify(t).length, 0);
  const chars = conversationChars(messages) + toolChars;
  return Math.ceil(chars / SAFE_CHARS_PER_TOKEN) + TEMPLATE_TOKENS_PER_MESSAGE * messages.length;
}

export interface TokenBudgetInput {
  /** The context window every call asks for (OLLAMA_NUM_CTX). */
  numCtx: number;
  /** Room kept for the answer (OLLAMA_NUM_PREDICT). */
  numPredict: number;
  /** The tool specs sent with every call of the loop: they are part of the prompt too. */
  tools?: readonly { name: string; description: string; parameters: unknown }[] | undefined;
  /** An operator's cap in characters (TOOLS_CONTEXT_BUDGET_CHARS), if lower. */
  capChars?: number | undefined;
}

/**
 * The tool loop's budget in characters of conversation, derived from the window in tokens:
 * (num_ctx − num_predict − tool specs − template) × the safe characters per token, never more
 * than the operator's cap. So a conversation inside the budget reaches Ollama whole.
 */
export function contextBudgetChars(input: TokenBudgetInput): number {
  const toolTokens = estimatePromptTokens([], input.tools);
  // Room for the template of a long conversation (64 turns) on top of the tool specs.
  const promptTokens = input.numCtx - input.numPredict - toolTokens - 64 * TEMPLATE_TOKENS_PER_MESSAGE;
  const derived = Math.max(0, promptTokens) * SAFE_CHARS_PER_TOKEN;
  return input.capChars === undefined ? derived : Math.min(derived, input.capChars);
}
