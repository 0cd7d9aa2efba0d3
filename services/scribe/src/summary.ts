// Rolling summaries, the pure part (guide §10 "Context Window Limits": the Scribe summarises
// state rather than appending full history): how a message becomes a line, the prompt that asks
// the model to fold new lines into the summary — summarise, never append — the extractive
// fallback when no model answers, and the hard bound every stored summary obeys.
import type { ChatMessage } from '@nightshift/llm';
import { displayName, type Message } from '@nightshift/protocol';

/** guide §10 "Set max context per agent call": ~2,000 tokens ≈ 8,000 characters by default. */
export const DEFAULT_SUMMARY_TOKENS = 2000;
export const CHARS_PER_TOKEN = 4;
/** Latest key lines kept per agent for the extractive fallback. */
export const RECENT_PER_SENDER = 5;
const LINE_CONTENT_CHARS = 300;
const REASON_CHARS = 160;

/** The folded state of one summary (the run's, or one phase entry's). Plain JSON in Redis. */
export interface SummaryState {
  body: string;
  mode: 'empty' | 'model' | 'extractive';
  /** Why the last fold was extractive. */
  reason?: string;
  model?: string;
  /** Messages folded so far. */
  messages: number;
  /** Time of the newest folded message. */
  lastAt?: string;
  /** The last body a model wrote (the extractive fallback keeps it as its first part). */
  modelBody?: string;
  /** Latest key lines per sender, always kept up to date (the extractive fallback's material). */
  recent: Record<string, string[]>;
}

export const EMPTY_SUMMARY: SummaryState = Object.freeze({
  body: '',
  mode: 'empty',
  messages: 0,
  recent: {},
});

export function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= max ? flat : `${flat.slice(0, max - 1)}…`;
}

/** `- 03:45:00 Builder → Director RESPONSE: Completed the auth module…` */
export function messageLine(m: Message): string {
  const time = m.timestamp.slice(11, 19);
  return `- ${time} ${displayName(m.from)} → ${displayName(m.to)} ${m.type}: ${oneLine(m.content, LINE_CONTENT_CHARS)}`;
}

/** Key lines for the extractive fallback: not an agent's "working on it" chatter. */
export function isKeyMessage(m: Message): boolean {
  return m.type !== 'STATUS' || m.from === 'director' || m.from === 'human' || m.from === 'sentinel';
}

/** Cuts `text` to at most `max` characters, at a line end when one is near, and says so. */
export function bound(text: string, max: number): string {
  if (text.length <= max) return text;
  const marker = '\n…[cut to the summary bound]';
  const room = Math.max(0, max - marker.length);
  const head = text.slice(0, room);
  const nl = head.lastIndexOf('\n');
  return `${nl > room / 2 ? head.slice(0, nl) : head}${marker}`.slice(0, max);
}

export function summaryPrompt(
  scope: string,
  previous: string,
  lines: readonly string[],
  maxChars: number,
): ChatMessage[] {
  const system = [
    'ROLE: scribe',
    'You are the Scribe of a team of seven agents (Director, Architect, Scout, Builder, Refactorer, Inspector, Scribe) working overnight on one codebase. You keep the team memory.',
    'Summarise, never append: write ONE new summary that REPLACES the current one and covers both the current summary and the new messages.',
    'Keep what the team needs to go on: the goal, decisions and why, what each agent did and is doing, findings, blockers, trust changes, open questions. Drop chatter and repetition.',
    `Plain markdown, at most ${maxChars} characters. Answer with the summary only.`,
  ].join('\n');
  const user = [
    `Scope: ${scope}`,
    '',
    '## Current summary',
    previous.trim() === '' ? '(empty: nothing summarised yet)' : previous.trim(),
    '',
    `## New messages (${lines.length}, oldest first)`,
    ...lines,
  ].join('\n');
  return [
    { role: 'system', content: system },
    { role: 'user', content: user },
  ];
}

/** A model's answer as a summary body: thinking blocks dropped, trimmed, bounded. */
export function cleanModelText(text: string, max: number): string {
  return bound(text.replace(/<think>[\s\S]*?<\/think>/g, '').trim(), max);
}

/** The new `recent` after folding these messages: the last few key lines per sender. */
export function foldRecent(
  recent: Record<string, string[]>,
  messages: readonly Message[],
): Record<string, string[]> {
  const out: Record<string, string[]> = Object.fromEntries(
    Object.entries(recent).map(([k, v]) => [k, [...v]]),
  );
  for (const m of messages) {
    if (!isKeyMessage(m)) continue;
    const list = out[m.from] ?? [];
    list.push(messageLine(m));
    out[m.from] = list.slice(-RECENT_PER_SENDER);
  }
  return out;
}

/**
 * The extractive fallback body (no model): the last model summary (if any) cut to 40% of the
 * bound, then the latest key lines per agent, newest kept first when room runs out.
 */
export function extractiveBody(state: Pick<SummaryState, 'modelBody' | 'recent'>, max: number): string {
  const parts: string[] = [];
  let room = max;
  if (state.modelBody) {
    const kept = bound(state.modelBody, Math.floor(max * 0.4));
    const block = `## Last model summary (may be out of date)\n${kept}\n`;
    parts.push(block);
    room -= block.length + 1;
  }
  const title = '## Latest key lines per agent';
  room -= title.length + 1;
  // Newest first, one agent at a time, so every agent keeps its latest line before anyone gets two.
  const senders = Object.keys(state.recent).sort();
  const keep = new Map<string, string[]>(senders.map((s) => [s, []]));
  for (let depth = 1; depth <= RECENT_PER_SENDER && room > 0; depth++) {
    for (const s of senders) {
      const lines = state.recent[s] ?? [];
      const line = lines[lines.length - depth];
      if (line === undefined) continue;
      const header = keep.get(s)?.length === 0 ? `### ${displayName(s as Message['from'])}\n`.length : 0;
      const cost = header + line.length + 1;
      if (cost > room) continue;
      keep.get(s)?.unshift(line);
      room -= cost;
    }
  }
  const agents = senders
    .filter((s) => (keep.get(s)?.length ?? 0) > 0)
    .map((s) => `### ${displayName(s as Message['from'])}\n${keep.get(s)?.join('\n')}`);
  parts.push(`${title}\n${agents.length > 0 ? agents.join('\n') : '- (no key lines yet)'}`);
  return bound(parts.join('\n'), max);
}

/** The stored text: a title, a header that says how it was made, and the body; ≤ `max` in all. */
export function renderSummary(title: string, scope: string, s: SummaryState, max: number): string {
  const covered = `${s.messages} message${s.messages === 1 ? '' : 's'} folded${s.lastAt ? ` (latest ${s.lastAt})` : ''}`;
  const header =
    s.mode === 'extractive'
      ? `> EXTRACTIVE FALLBACK: the model was unavailable (${oneLine(s.reason ?? 'unknown', REASON_CHARS)}). Rolling summary of ${scope}, ${covered}; these are the latest key lines per agent, not a model summary.`
      : s.mode === 'model'
        ? `> Rolling summary of ${scope} by the Scribe, ${covered}; written by the model ${s.model ?? 'unknown'} (summarised, never appended).`
        : `> Rolling summary of ${scope}: nothing folded yet.`;
  const head = `# ${title}\n${header}\n\n`;
  return `${head}${bound(s.body, Math.max(0, max - head.length - 1))}\n`.slice(0, max);
}

/** Room left for the body once the title and header are in (the model is asked for this much). */
export function bodyBound(max: number): number {
  // Title and header are at most ~500 characters; a model answer is cut to what is left.
  return Math.max(200, max - 600);
}
