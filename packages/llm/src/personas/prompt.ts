// Turning a bus message into a model prompt, and a model's answer back into message sections.
import { MAX_CONTENT_CHARS, type Message, parse, type Role, render } from '@nightshift/protocol';
import type { ChatMessage } from '../types.js';
import { personaFor } from './roles.js';

/** The persona as system prompt, then the request exactly as the guide renders it (§5). */
export function buildAgentPrompt(
  role: Role,
  request: Message,
  history: readonly ChatMessage[] = [],
): ChatMessage[] {
  return [
    { role: 'system', content: personaFor(role).systemPrompt },
    ...history,
    { role: 'user', content: render(request) },
  ];
}

export interface ModelReply {
  content: string;
  context?: string;
  expectedResponse?: string;
  /** False when the model ignored the format and the whole text became the content. */
  formatted: boolean;
}

const THINK_RE = /<think>[\s\S]*?<\/think>/g;
const FENCE_RE = /^```[a-z]*\n([\s\S]*?)\n```$/;
const TRUNCATED = '\n[truncated]';

/**
 * Reads a model's answer. Only the sections are taken from it: routing fields (from, to, type,
 * ids) are always set by the caller, never by model output. A reply that does not follow the
 * format is kept whole as the content rather than lost.
 */
export function readModelReply(text: string): ModelReply {
  const cleaned = text.replace(THINK_RE, '').trim();
  const unfenced = FENCE_RE.exec(cleaned)?.[1] ?? cleaned;
  // parse() reads the rendered form, whose last section ends with a newline.
  const asRendered = `${unfenced.trimEnd()}\n`;
  try {
    const parsed = parse(asRendered, {
      id: 'model-reply',
      runId: 'model-reply',
      timestamp: new Date(0).toISOString(),
    });
    const out: ModelReply = { content: clip(parsed.content), formatted: true };
    if (parsed.context !== undefined) out.context = clip(parsed.context);
    if (parsed.expectedResponse !== undefined) out.expectedResponse = clip(parsed.expectedResponse);
    return out;
  } catch {
    // Headers a model got wrong (a made-up timestamp, "TO: whoever") must not lose the answer:
    // fall back to the sections alone, then to the raw text.
    return (
      sectionsOnly(unfenced) ?? {
        content: clip(unfenced === '' ? '(empty answer)' : unfenced),
        formatted: false,
      }
    );
  }
}

const SECTION_RE = /^###\s*(Content|Context|Expected Response)\s*$/gim;

function sectionsOnly(text: string): ModelReply | undefined {
  const heads = [...text.matchAll(SECTION_RE)];
  const first = heads[0];
  if (!first || !/^content$/i.test(first[1] ?? '')) return undefined;
  const body = (n: number) => {
    const head = heads[n];
    if (!head) return '';
    const start = (head.index ?? 0) + head[0].length;
    const end = heads[n + 1]?.index ?? text.length;
    return text.slice(start, end).trim();
  };
  const out: ModelReply = { content: clip(body(0)), formatted: false };
  heads.forEach((head, n) => {
    const name = (head[1] ?? '').toLowerCase();
    if (name === 'context' && out.context === undefined) out.context = clip(body(n));
    if (name === 'expected response' && out.expectedResponse === undefined)
      out.expectedResponse = clip(body(n));
  });
  return out;
}

/** Keeps a section within the schema's limit so a long answer is published, not rejected. */
function clip(text: string): string {
  return text.length <= MAX_CONTENT_CHARS
    ? text
    : text.slice(0, MAX_CONTENT_CHARS - TRUNCATED.length) + TRUNCATED;
}
