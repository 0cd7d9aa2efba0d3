// Public types of the fake Anthropic Messages API: options, scripted replies, request records.
import type { MatchableRequest, ScenarioRule } from '../scenario.js';

/** A message as sent to `POST /v1/messages`: content is a string or a list of blocks. */
export interface AnthropicMessage {
  role: string;
  content: string | Record<string, unknown>[];
}

/** What rules and reply functions see about one request. */
export interface AnthropicRequestInfo extends MatchableRequest {
  /** Same id as the request's record. */
  id: number;
  model: string;
  /** The `system` prompt flattened to text ('' when absent). */
  system: string;
  messages: AnthropicMessage[];
  tools: unknown[];
  maxTokens: number;
  /** Lower-cased request headers, without `x-api-key`/`authorization`. */
  headers: Record<string, string>;
  body: Record<string, unknown>;
  /** Characters of the system prompt plus every message's text. */
  promptChars: number;
}

/** A tool call the fake model makes; sent as a `tool_use` block (id generated when absent). */
export interface AnthropicToolUse {
  name: string;
  input: Record<string, unknown>;
  id?: string;
}

export interface AnthropicReplyError {
  /** 429, 500, 529, … */
  status: number;
  /** Anthropic error type; default from the status (429 rate_limit_error, 529 overloaded_error, …). */
  type?: string;
  message?: string;
  /** Seconds, sent as the `retry-after` header (the SDK honours it). */
  retryAfter?: number;
  headers?: Record<string, string>;
  /** Raw body instead of the standard `{"type":"error","error":{…}}`. */
  body?: string;
}

export interface AnthropicReply {
  content?: string;
  toolCalls?: AnthropicToolUse[];
  /** Default: 'tool_use' when toolCalls are given, else 'end_turn'. */
  stopReason?: 'end_turn' | 'tool_use' | 'max_tokens' | 'stop_sequence';
  /** Delay before answering; overrides the server's `latencyMs`. */
  latencyMs?: number;
  error?: AnthropicReplyError;
  /** Never answer, until the client gives up (its timeout) or the server stops. */
  hang?: boolean;
}

export type AnthropicRule = ScenarioRule<AnthropicRequestInfo, AnthropicReply>;

/** One `POST /v1/messages`. Times are `Date.now()` milliseconds. */
export interface AnthropicRecord {
  id: number;
  arrival: number;
  /** When the response finished or the client went away; null while in flight. */
  end: number | null;
  model: string;
  role: string | null;
  system: string;
  messages: AnthropicMessage[];
  tools: unknown[];
  promptChars: number;
  /** Whether an API key (`x-api-key` or `authorization`) was sent; its value is never kept. */
  apiKeyPresent: boolean;
  /** Lower-cased headers without the key headers. */
  headers: Record<string, string>;
  /** HTTP status sent; null while in flight or when the client left first. */
  status: number | null;
  /** Anthropic error type sent with a non-2xx status, else null. */
  errorType: string | null;
  /** The client closed the connection before the response was complete (e.g. its timeout). */
  aborted: boolean;
  replyChars: number;
}

export interface FakeAnthropicOptions {
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 0: a free port. */
  port?: number;
  /** Delay of every reply unless its rule says otherwise (default 0). */
  latencyMs?: number;
  scenario?: AnthropicRule[];
  /** When given, other model names get 404 not_found_error; default: any model is accepted. */
  models?: string[];
}
