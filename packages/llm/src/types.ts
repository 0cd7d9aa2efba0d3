// (Optional fields also admit `undefined` so zod-parsed gateway job data fits them as is.)
// The provider-neutral chat contract every model implementation (Ollama, Anthropic, gateway,
// simulated) speaks, so callers never know which one answers.
import type { Role } from '@nightshift/protocol';

/** Who is calling the model: an agent role, or the runtime itself (summaries, checks). */
export type LlmCaller = Role | 'system';

export type ChatRole = 'system' | 'user' | 'assistant' | 'tool';

/** One call a model asked for: a tool name and its JSON arguments. */
export interface ToolCall {
  /** Provider's id for the call (Anthropic `tool_use.id`); Ollama has none. */
  id?: string | undefined;
  name: string;
  arguments: Record<string, unknown>;
}

export interface ChatMessage {
  role: ChatRole;
  content: string;
  /** On an assistant turn: the tool calls the model made. */
  toolCalls?: ToolCall[] | undefined;
  /** On a tool turn: which call this is the result of (its id, else its name). */
  toolCallId?: string | undefined;
  toolName?: string | undefined;
}

/** A tool the model may call: name, description and a JSON Schema object for its arguments. */
export interface ToolSpec {
  name: string;
  description: string;
  parameters: {
    type: 'object';
    properties: Record<string, unknown>;
    required?: string[] | undefined;
  };
}

export interface ChatRequest {
  messages: ChatMessage[];
  tools?: ToolSpec[];
  /** The caller's role; the gateway derives the BullMQ priority from it (guide §7). */
  role: LlmCaller;
  runId?: string;
  /** Aborts the call (role timeout, shutdown). */
  signal?: AbortSignal;
  /** Explicit BullMQ priority (1 = first); overrides the role's. Never 0 (REFERENCE: 0 jumps the line). */
  priority?: number;
  /**
   * Epoch ms after which the answer is useless (the caller's role timeout). The gateway passes it
   * on, so a call still queued or running then is dropped instead of holding an Ollama slot.
   */
  deadline?: number;
  /**
   * A JSON Schema the answer must follow (issue 20 §4): Ollama constrains its output to it
   * (`format`), Anthropic is made to answer through one forced tool whose input is the schema.
   * The answer's text is then the JSON. Servers that ignore it still answer; the caller checks.
   */
  format?: Record<string, unknown> | undefined;
  /** Streamed progress (text so far). Providers that cannot stream simply never call it. */
  onProgress?: (progress: ChatProgress) => void;
}

export interface ChatProgress {
  /** Text generated so far. */
  text: string;
  /** Streamed chunks received so far. */
  chunks: number;
}

export interface Usage {
  /** Every prompt token, cached or not (Anthropic's input_tokens + cache reads + cache writes). */
  inputTokens: number;
  outputTokens: number;
  /** Prompt tokens read from Anthropic's prompt cache (billed at 0.1× input). */
  cacheReadTokens?: number | undefined;
  /** Prompt tokens written to Anthropic's prompt cache (billed at 1.25× input). */
  cacheWriteTokens?: number | undefined;
}

export type ProviderName = 'ollama' | 'anthropic' | 'gateway' | 'simulated';

export interface ChatResult {
  text: string;
  toolCalls: ToolCall[];
  usage: Usage;
  model: string;
  /** Wall time of the call as the caller saw it (queueing included for the gateway). */
  latencyMs: number;
  provider: ProviderName;
  /** True when an answer came from a fallback provider (e.g. Director on Ollama instead of Claude). */
  fallback?: boolean;
  /** The model's reasoning (Ollama `message.thinking` or inline `<think>`), never part of `text`. */
  thinking?: string | undefined;
  /** Tool calls that came as text in the content (`<tool_call>…`), not as native calls. */
  textToolCalls?: number | undefined;
  /** The prompt may have been cut to fit the context window (see promptMayBeCut). */
  promptCut?: boolean | undefined;
}

export interface ChatModel {
  /** Short label for logs and metrics: `ollama:qwen3:32b`, `gateway`, `simulated:instant`. */
  readonly name: string;
  chat(request: ChatRequest): Promise<ChatResult>;
}
