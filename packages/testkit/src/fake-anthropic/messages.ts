// Anthropic Messages API shapes: request parsing/validation, the message object, error bodies.
import { randomBytes } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { plainHeaders } from '../http.js';
import { estimateTokens, extractRole } from '../scenario.js';
import type { CacheUsage } from './cache.js';
import type { AnthropicMessage, AnthropicReply, AnthropicReplyError, AnthropicRequestInfo } from './types.js';

const ERROR_TYPES: Record<number, string> = {
  400: 'invalid_request_error',
  401: 'authentication_error',
  403: 'permission_error',
  404: 'not_found_error',
  413: 'request_too_large',
  429: 'rate_limit_error',
  500: 'api_error',
  529: 'overloaded_error',
};

const ERROR_MESSAGES: Record<string, string> = {
  rate_limit_error: 'Number of request tokens has exceeded your per-minute rate limit',
  api_error: 'Internal server error',
  overloaded_error: 'Overloaded',
};

/** A request the real API would refuse with 400; `message` uses the API's wording style. */
export class InvalidRequest extends Error {}

export function newId(prefix: string): string {
  return `${prefix}_01${randomBytes(12).toString('base64url').replace(/[-_]/g, 'x')}`;
}

export function errorTypeFor(status: number): string {
  return ERROR_TYPES[status] ?? (status >= 500 ? 'api_error' : 'invalid_request_error');
}

/** The standard error envelope, plus headers (retry-after) for a scripted failure. */
export function errorResponse(error: AnthropicReplyError): {
  type: string;
  body: string;
  headers: Record<string, string>;
} {
  const type = error.type ?? errorTypeFor(error.status);
  const message = error.message ?? ERROR_MESSAGES[type] ?? `fake error ${error.status}`;
  const headers: Record<string, string> = { 'request-id': newId('req') };
  if (error.retryAfter !== undefined) headers['retry-after'] = String(error.retryAfter);
  Object.assign(headers, error.headers);
  const body = error.body ?? JSON.stringify({ type: 'error', error: { type, message } });
  return { type, body, headers };
}

/** Text of a content field (string or blocks): text, tool results and tool inputs all count. */
export function contentText(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((block: unknown) => {
      if (typeof block !== 'object' || block === null) return '';
      const b = block as Record<string, unknown>;
      if (typeof b.text === 'string') return b.text;
      if (b.type === 'tool_result') return contentText(b.content);
      if (b.type === 'tool_use') return JSON.stringify(b.input ?? {});
      return '';
    })
    .join('\n');
}

/** Validates what the real API requires and builds the rule-matching view of the request. */
export function parseRequest(
  id: number,
  body: Record<string, unknown>,
  req: IncomingMessage,
): AnthropicRequestInfo {
  if (typeof body.model !== 'string' || body.model === '') throw new InvalidRequest('model: Field required');
  if (typeof body.max_tokens !== 'number') throw new InvalidRequest('max_tokens: Field required');
  if (!Array.isArray(body.messages)) throw new InvalidRequest('messages: Field required');
  if (body.stream === true) {
    // UNFINISHED: SSE streaming is not implemented by the fake; Nightshift's Director does not stream.
    throw new InvalidRequest('stream: the fake Anthropic server does not implement streaming');
  }
  const messages = body.messages.map((value: unknown, index: number): AnthropicMessage => {
    const m = (typeof value === 'object' && value !== null ? value : {}) as Record<string, unknown>;
    if (m.role !== 'user' && m.role !== 'assistant') {
      throw new InvalidRequest(`messages.${index}.role: Input should be 'user' or 'assistant'`);
    }
    const content = typeof m.content === 'string' || Array.isArray(m.content) ? m.content : '';
    return { role: m.role, content: content as AnthropicMessage['content'] };
  });
  const system = contentText(body.system);
  const texts = messages.map((m) => contentText(m.content));
  return {
    id,
    model: body.model,
    system,
    messages,
    tools: Array.isArray(body.tools) ? body.tools : [],
    maxTokens: body.max_tokens,
    headers: plainHeaders(req, ['x-api-key', 'authorization']),
    body,
    promptChars: system.length + texts.reduce((sum, t) => sum + t.length, 0),
    role: extractRole(req.headers['x-nightshift-role'], system),
    text: texts.join('\n'),
  };
}

export function defaultReply(req: AnthropicRequestInfo): AnthropicReply {
  return {
    content: `[fake-anthropic] ${req.role ?? 'assistant'}: acknowledged (${req.messages.length} messages).`,
  };
}

export function replyChars(reply: AnthropicReply): number {
  const tools = (reply.toolCalls ?? []).reduce(
    (n, t) => n + t.name.length + JSON.stringify(t.input).length,
    0,
  );
  return (reply.content ?? '').length + tools;
}

/** The Message object `messages.create()` resolves with. */
export function messageResponse(
  req: AnthropicRequestInfo,
  reply: AnthropicReply,
  cache: CacheUsage = {
    input_tokens: estimateTokens(req.promptChars),
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
  },
): Record<string, unknown> {
  const content: Record<string, unknown>[] = [];
  if (reply.content !== undefined && reply.content !== '')
    content.push({ type: 'text', text: reply.content });
  for (const call of reply.toolCalls ?? []) {
    content.push({ type: 'tool_use', id: call.id ?? newId('toolu'), name: call.name, input: call.input });
  }
  const hasTools = (reply.toolCalls ?? []).length > 0;
  return {
    id: newId('msg'),
    type: 'message',
    role: 'assistant',
    model: req.model,
    content,
    stop_reason: reply.stopReason ?? (hasTools ? 'tool_use' : 'end_turn'),
    stop_sequence: null,
    usage: { ...cache, output_tokens: estimateTokens(replyChars(reply)) },
  };
}
