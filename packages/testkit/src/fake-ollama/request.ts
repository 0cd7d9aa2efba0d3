// Turns a parsed `POST /api/chat` body into what scenario rules and records see.
import type { IncomingMessage } from 'node:http';
import { BadRequest, plainHeaders } from '../http.js';
import { extractRole } from '../scenario.js';
import type { OllamaChatMessage, OllamaRequestInfo } from './types.js';

export function requestInfo(
  id: number,
  body: Record<string, unknown>,
  req: IncomingMessage,
): OllamaRequestInfo {
  const messages = (Array.isArray(body.messages) ? body.messages : []).map(toMessage);
  const system = messages.find((m) => m.role === 'system');
  return {
    id,
    model: String(body.model),
    messages,
    tools: Array.isArray(body.tools) ? body.tools : [],
    // Ollama streams unless told not to.
    stream: body.stream !== false,
    headers: plainHeaders(req),
    body,
    promptChars: messages.reduce((sum, m) => sum + m.content.length, 0),
    role: extractRole(req.headers['x-nightshift-role'], system?.content),
    text: messages
      .filter((m) => m.role !== 'system')
      .map((m) => m.content)
      .join('\n'),
  };
}

function toMessage(value: unknown): OllamaChatMessage {
  if (typeof value !== 'object' || value === null) throw new BadRequest('each message must be an object');
  const message = value as Record<string, unknown>;
  if (typeof message.role !== 'string') throw new BadRequest('message.role is required');
  return {
    ...message,
    role: message.role,
    content: typeof message.content === 'string' ? message.content : '',
  };
}
