// Public types of the fake Ollama server: options, scripted replies, and per-request records.
import type { MatchableRequest, ScenarioRule } from '../scenario.js';

/** A chat message as Ollama's API carries it (extra fields such as `tool_calls` kept as sent). */
export interface OllamaChatMessage {
  role: string;
  content: string;
  [field: string]: unknown;
}

/** What rules and reply functions see about one `POST /api/chat`. */
export interface OllamaRequestInfo extends MatchableRequest {
  /** Same id as the request's record. */
  id: number;
  model: string;
  messages: OllamaChatMessage[];
  /** The `tools` array as sent (empty when none). */
  tools: unknown[];
  stream: boolean;
  /** Lower-cased request headers. */
  headers: Record<string, string>;
  /** The whole parsed request body (options, keep_alive, format, think, …). */
  body: Record<string, unknown>;
  /** Characters of every message's content, system prompt included. */
  promptChars: number;
}

/** A tool call the fake model makes; sent as `{ function: { name, arguments } }`. */
export interface OllamaToolCall {
  name: string;
  arguments: Record<string, unknown>;
}

export interface OllamaReply {
  content?: string;
  /** Sent as `message.thinking` (qwen3 with `think: true`). */
  thinking?: string;
  toolCalls?: OllamaToolCall[];
  /** Play a server or model that ignores the request's `format` (the reply is sent as written). */
  ignoreFormat?: boolean;
  /** Write the tool calls into `content` as `<tool_call>{…}</tool_call>` with empty `tool_calls`. */
  toolCallsAsText?: boolean;
  /** Delay before the reply while holding the slot; overrides the server's `latencyMs`. */
  latencyMs?: number;
  /** Streaming only: pause between NDJSON chunks (lets a test abort mid-stream). */
  chunkDelayMs?: number;
  /** Answer with this HTTP status instead; `body` is sent raw (default `{"error":"fake error <status>"}`). */
  error?: { status: number; body?: string };
  /** Hold the slot and never answer, until the client disconnects or the server stops. */
  hang?: boolean;
}

export type OllamaRule = ScenarioRule<OllamaRequestInfo, OllamaReply>;

/** One `POST /api/chat`, whatever became of it. Times are `Date.now()` milliseconds. */
export interface OllamaRecord {
  id: number;
  arrival: number;
  /** When it got a slot; null if it never did (404, 503, aborted while queued). */
  start: number | null;
  /** When the response finished or the client went away; null while in flight. */
  end: number | null;
  model: string;
  role: string | null;
  promptChars: number;
  messages: OllamaChatMessage[];
  tools: unknown[];
  stream: boolean;
  /** HTTP status sent; null while waiting or when the client left before any answer. */
  status: number | null;
  /** The client closed the connection before the response was complete. */
  aborted: boolean;
  /** Characters of reply content (0 for errors). */
  replyChars: number;
  /** The window the request asked for (`options.num_ctx`, else Ollama's default 2048). */
  numCtx: number;
  /** The start of the prompt was dropped to fit the window (`messages` holds what was kept). */
  truncated: boolean;
  /** `done_reason` sent: `length` when the answer stopped at `num_predict`. */
  doneReason: 'stop' | 'length' | null;
}

export interface FakeOllamaOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** Models that "are pulled" (GET /api/tags); default `['qwen3:32b']`. */
  models?: string[];
  /** OLLAMA_NUM_PARALLEL: requests served at once (default 2). */
  numParallel?: number;
  /** OLLAMA_MAX_QUEUE: requests allowed to wait (default 100); past it, HTTP 503. */
  maxQueue?: number;
  /** Delay of every reply unless its rule says otherwise (default 0). */
  latencyMs?: number;
  /** Initial scripted replies. */
  scenario?: OllamaRule[];
  /** Reported by GET /api/version (default '0.12.6'). */
  version?: string;
}
