// One line per tool call for the STATUS the agent publishes (issue 6 §3): the tool, its arguments
// with secrets redacted and long values reduced to their length, and the outcome — never file
// contents or command output, which may hold anything.
import type { ToolCallRecord } from '@nightshift/llm';
import type { ToolSession } from './tool-session.js';

const SECRET_KEY =
  /pass(word|phrase)?|secret|token|api[-_]?key|^auth|authorization|credential|private[-_]?key|cookie/i;
/** Values that look like credentials whatever their key: vendor prefixes, long opaque strings. */
const SECRET_VALUE =
  /^(sk-|sk_|pk_|rk_|ghp_|gho_|ghs_|github_pat_|glpat-|xox[abpr]-|AKIA|ASIA|AIza|eyJ)|^[A-Za-z0-9+/_=-]{32,}$/;
/** `NAME=value` where NAME sounds secret (an env assignment in an argv, a query string…). */
const SECRET_ASSIGNMENT = /^([A-Za-z0-9_.-]*(?:pass|secret|token|key|auth)[A-Za-z0-9_.-]*)=.+$/i;
const REDACTED = '[redacted]';

const MAX_STRING = 60;
const MAX_ITEMS = 8;
const MAX_ARGS_CHARS = 300;
const MAX_LINE_CHARS = 500;

/** A value as shown in a STATUS: short strings quoted, long ones as `<N chars>`, secrets redacted. */
export function summariseValue(value: unknown, key = '', depth = 0): string {
  if (SECRET_KEY.test(key) && value !== null && value !== undefined && value !== '') return `"${REDACTED}"`;
  if (typeof value === 'string') {
    // A long value shows only its length, which leaks nothing; short ones are checked for secrets.
    if (value.length > MAX_STRING) return `"<${value.length} chars>"`;
    const assignment = SECRET_ASSIGNMENT.exec(value);
    if (assignment) return JSON.stringify(`${assignment[1]}=${REDACTED}`);
    if (SECRET_VALUE.test(value)) return `"${REDACTED}"`;
    return JSON.stringify(value);
  }
  if (typeof value === 'number' || typeof value === 'boolean' || value === null) return String(value);
  if (depth >= 2) return Array.isArray(value) ? '[…]' : '{…}';
  if (Array.isArray(value)) {
    const items = value.slice(0, MAX_ITEMS).map((v) => summariseValue(v, key, depth + 1));
    if (value.length > MAX_ITEMS) items.push(`…${value.length - MAX_ITEMS} more`);
    return `[${items.join(',')}]`;
  }
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>);
    const shown = entries
      .slice(0, MAX_ITEMS)
      .map(([k, v]) => `${JSON.stringify(k)}:${summariseValue(v, k, depth + 1)}`);
    if (entries.length > MAX_ITEMS) shown.push(`…${entries.length - MAX_ITEMS} more`);
    return `{${shown.join(',')}}`;
  }
  return JSON.stringify(String(value));
}

function clip(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, max - 1)}…`;
}

/** The status line of a command's output (`exit code 0 after 12 ms`), which says what happened. */
function commandVerdict(output: string): string | undefined {
  return output
    .split('\n', 4)
    .find((l) => /^(exit code -?\d+|timed out after|killed by)/.test(l))
    ?.trim();
}

/** `tool write_file {"path":"src/sum.js","content":"<137 chars>"} → ok` */
export function describeToolCall(record: Pick<ToolCallRecord, 'call' | 'outcome'>): string {
  const { call, outcome } = record;
  const args = clip(summariseValue(call.arguments ?? {}), MAX_ARGS_CHARS);
  let result: string;
  if (outcome.ok) {
    const verdict = call.name === 'run_command' ? commandVerdict(outcome.output) : undefined;
    result = verdict ? `ok (${verdict})` : 'ok';
  } else {
    result = `error ${outcome.error.code}: ${clip(outcome.error.message, 200)}`;
  }
  return clip(`tool ${clip(call.name, 64)} ${args} → ${result}`, MAX_LINE_CHARS);
}

/**
 * One STATUS per tool call up to `limit` per request, then only a count (published once at the
 * end): a model looping on list_files must not flood the bus (issue 6 §3, bounded volume).
 */
export function toolReporter(
  session: ToolSession | undefined,
  limit: number,
  publish: (record: ToolCallRecord) => Promise<void>,
): {
  report: (record: ToolCallRecord) => Promise<void>;
  flush: (summary: () => Promise<void>) => Promise<void>;
  readonly suppressed: number;
} {
  let sent = 0;
  let suppressed = 0;
  return {
    async report(record) {
      if (session === undefined) return;
      if (sent < limit) {
        sent++;
        await publish(record);
      } else suppressed++;
    },
    async flush(summary) {
      if (suppressed > 0) await summary();
    },
    get suppressed() {
      return suppressed;
    },
  };
}
