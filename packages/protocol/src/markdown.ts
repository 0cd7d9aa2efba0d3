// The guide's markdown message form (§5 "Message Format Standard") and its exact inverse.
// Header lines beyond the guide's five (ID, RUN, IN-REPLY-TO, PHASE, ATTEMPT, OUTPUT) carry the wire
// fields a human-facing rendering would otherwise lose, so parse(render(m)) equals m.
import { MessageParseError, NightshiftError } from './errors.js';
import { type Message, MessageSchema } from './message.js';
import { displayName, recipientFromDisplay, senderFromDisplay } from './roles.js';

const SECTIONS = [
  ['content', 'Content'],
  ['context', 'Context'],
  ['expectedResponse', 'Expected Response'],
] as const;
type SectionKey = (typeof SECTIONS)[number][0];
const SECTION_BY_HEADING = new Map<string, SectionKey>(SECTIONS.map(([key, title]) => [`### ${title}`, key]));

const HEADERS = [
  'FROM',
  'TO',
  'TYPE',
  'PRIORITY',
  'TIMESTAMP',
  'ID',
  'RUN',
  'IN-REPLY-TO',
  'PHASE',
  'ATTEMPT',
  'OUTPUT',
] as const;
type Header = (typeof HEADERS)[number];

/**
 * Body lines that could be mistaken for a section heading are escaped with a leading backslash
 * (and so are lines that already start with one), which makes the rendering unambiguous.
 */
function escapeBody(text: string): string {
  return text
    .split('\n')
    .map((line) => (line.startsWith('###') || line.startsWith('\\') ? `\\${line}` : line))
    .join('\n');
}

function unescapeBody(lines: readonly string[]): string {
  return lines.map((line) => (line.startsWith('\\') ? line.slice(1) : line)).join('\n');
}

export function render(message: Message): string {
  const head: string[] = [
    `FROM: ${displayName(message.from)}`,
    `TO: ${displayName(message.to)}`,
    `TYPE: ${message.type}`,
    `PRIORITY: ${message.priority}`,
    `TIMESTAMP: ${message.timestamp}`,
    `ID: ${message.id}`,
    `RUN: ${message.runId}`,
  ];
  if (message.inReplyTo !== undefined) head.push(`IN-REPLY-TO: ${message.inReplyTo}`);
  if (message.phase !== undefined) head.push(`PHASE: ${message.phase}`);
  if (message.attempt !== undefined) head.push(`ATTEMPT: ${message.attempt}`);
  if (message.output !== undefined) head.push(`OUTPUT: ${message.output}`);
  let out = `${head.join('\n')}\n`;
  for (const [key, title] of SECTIONS) {
    const body = message[key];
    if (body === undefined) continue;
    out += `\n### ${title}\n${escapeBody(body)}\n`;
  }
  return out;
}

export interface ParseDefaults {
  id?: string;
  runId?: string;
  timestamp?: string;
}

/**
 * Parses the guide's markdown form. Model output is parsed with this too, so `defaults` can supply
 * the wire fields a model does not write (id, run, timestamp). Throws only MessageParseError.
 */
export function parse(markdown: string, defaults: ParseDefaults = {}): Message {
  try {
    return parseUnsafe(markdown, defaults);
  } catch (error) {
    if (error instanceof MessageParseError) throw error;
    const reason = error instanceof NightshiftError ? error.message : 'unreadable message';
    throw new MessageParseError(1, reason, { cause: error });
  }
}

function parseUnsafe(markdown: string, defaults: ParseDefaults): Message {
  if (typeof markdown !== 'string') throw new MessageParseError(1, 'expected a markdown string');
  // No CRLF normalisation: bodies must round-trip byte for byte; headings and headers tolerate a trailing \r.
  const lines = markdown.split('\n');
  const fields: Partial<Record<Header, { value: string; line: number }>> = {};
  let i = 0;
  // Tolerate a preamble a model may write (blank lines, a "## Agent Message" title).
  while (i < lines.length && (lines[i]?.trim() === '' || lines[i]?.startsWith('## '))) i++;
  for (; i < lines.length; i++) {
    const line = lines[i] ?? '';
    if (line === '' || line === '\r') break;
    const match = /^([A-Z][A-Z-]*):[ \t]?([^\n]*)$/.exec(line);
    if (!match)
      throw new MessageParseError(i + 1, `expected a header line "NAME: value", got ${quote(line)}`);
    const name = match[1] as Header;
    if (!(HEADERS as readonly string[]).includes(name)) {
      throw new MessageParseError(
        i + 1,
        `unknown header ${quote(name)}; expected one of ${HEADERS.join(', ')}`,
      );
    }
    if (fields[name]) throw new MessageParseError(i + 1, `header ${name} appears twice`);
    const value = (match[2] ?? '').trim();
    if (name === 'PHASE' || name === 'ATTEMPT') toInt(value, name, i + 1);
    fields[name] = { value, line: i + 1 };
  }
  const sections = readSections(lines, i);
  const draft: Record<string, unknown> = {};
  const need = (h: Header, fallback?: string): string => {
    const value = fields[h]?.value ?? fallback;
    if (value === undefined || value === '') throw new MessageParseError(i + 1, `missing header ${h}`);
    return value;
  };
  const from = senderFromDisplay(need('FROM'));
  if (!from)
    throw new MessageParseError(fields.FROM?.line ?? 1, `FROM: unknown sender ${quote(need('FROM'))}`);
  const to = recipientFromDisplay(need('TO'));
  if (!to) throw new MessageParseError(fields.TO?.line ?? 1, `TO: unknown recipient ${quote(need('TO'))}`);
  draft.id = need('ID', defaults.id);
  draft.runId = need('RUN', defaults.runId);
  draft.from = from;
  draft.to = to;
  draft.type = need('TYPE').toUpperCase();
  draft.priority = need('PRIORITY').toUpperCase();
  draft.timestamp = need('TIMESTAMP', defaults.timestamp);
  if (fields['IN-REPLY-TO']) draft.inReplyTo = fields['IN-REPLY-TO'].value;
  if (fields.PHASE) draft.phase = toInt(fields.PHASE.value, 'PHASE', fields.PHASE.line);
  if (fields.ATTEMPT) draft.attempt = toInt(fields.ATTEMPT.value, 'ATTEMPT', fields.ATTEMPT.line);
  if (fields.OUTPUT) draft.output = fields.OUTPUT.value;
  if (sections.content === undefined)
    throw new MessageParseError(lines.length, 'missing section "### Content"');
  Object.assign(draft, sections);

  const result = MessageSchema.safeParse(draft);
  if (result.success) return result.data;
  const issue = result.error.issues[0];
  const field = String(issue?.path[0] ?? '');
  const header = headerOf(field);
  const line = (header && fields[header]?.line) || 1;
  throw new MessageParseError(line, `${header ?? field}: ${issue?.message ?? 'invalid'}`);
}

function readSections(lines: readonly string[], start: number): Partial<Record<SectionKey, string>> {
  const out: Partial<Record<SectionKey, string>> = {};
  const heads: { key: SectionKey; at: number }[] = [];
  for (let j = start; j < lines.length; j++) {
    const key = SECTION_BY_HEADING.get((lines[j] ?? '').replace(/\r$/, ''));
    if (key) {
      if (out[key] !== undefined || heads.some((h) => h.key === key)) {
        throw new MessageParseError(j + 1, `section ${quote(lines[j] ?? '')} appears twice`);
      }
      heads.push({ key, at: j });
    } else if (heads.length === 0 && (lines[j] ?? '').trim() !== '') {
      throw new MessageParseError(j + 1, `expected a "### Content" section, got ${quote(lines[j] ?? '')}`);
    }
  }
  heads.forEach((h, n) => {
    const next = heads[n + 1];
    // Rendered form: body, then one blank line before the next heading, or a final newline.
    const end = next ? next.at - 1 : lines.length - 1;
    const body = lines.slice(h.at + 1, Math.max(h.at + 1, end));
    out[h.key] = unescapeBody(body);
  });
  return out;
}

function toInt(value: string, name: string, line: number): number {
  if (!/^-?\d+$/.test(value))
    throw new MessageParseError(line, `${name}: expected an integer, got ${quote(value)}`);
  return Number.parseInt(value, 10);
}

function headerOf(field: string): Header | undefined {
  const map: Record<string, Header> = {
    id: 'ID',
    runId: 'RUN',
    from: 'FROM',
    to: 'TO',
    type: 'TYPE',
    priority: 'PRIORITY',
    timestamp: 'TIMESTAMP',
    inReplyTo: 'IN-REPLY-TO',
    phase: 'PHASE',
    attempt: 'ATTEMPT',
    output: 'OUTPUT',
  };
  return map[field];
}

function quote(text: string): string {
  return JSON.stringify(text.length > 60 ? `${text.slice(0, 57)}...` : text);
}
