// Past messages of one run from bus:log, for the run page and a reconnecting stream: read in
// pages, filtered by run, bounded so a long log never makes a page slow.
import { type Message, render } from '@nightshift/protocol';
import type { Bus, LogEntry } from '@nightshift/redis';

export type LogReader = Pick<Bus, 'readLog' | 'tailLog'>;

const PAGE = 500;
/** Most log entries scanned for one page or reconnect. */
const SCAN_LIMIT = 20_000;

export interface StreamPayload {
  logId: string;
  text: string;
  type?: Message['type'];
  from?: Message['from'];
  to?: Message['to'];
  timestamp?: string;
}

export function matchesRun(entry: LogEntry, runId: string | undefined): boolean {
  if (runId === undefined) return true;
  return entry.message?.runId === runId;
}

/** The guide's markdown form of an entry; an unreadable one is shown as what it is. */
export function toPayload(entry: LogEntry): StreamPayload {
  const m = entry.message;
  if (!m)
    return { logId: entry.id, text: `[unreadable entry ${entry.id}: ${entry.error ?? 'unknown problem'}]` };
  return { logId: entry.id, text: render(m), type: m.type, from: m.from, to: m.to, timestamp: m.timestamp };
}

/** The newest `limit` entries of the run, oldest first, and the log head they were read up to. */
export async function recentForRun(
  bus: LogReader,
  runId: string | undefined,
  limit: number,
): Promise<{ entries: LogEntry[]; head: string }> {
  const head = (await bus.readLog({ reverse: true, count: 1 }))[0]?.id ?? '0-0';
  if (head === '0-0') return { entries: [], head };
  const found: LogEntry[] = [];
  let to = head;
  let first = true;
  for (let scanned = 0; found.length < limit && scanned < SCAN_LIMIT; ) {
    const page = await bus.readLog({ reverse: true, to: first ? to : `(${to}`, count: PAGE });
    first = false;
    scanned += page.length;
    for (const entry of page) if (matchesRun(entry, runId) && found.length < limit) found.push(entry);
    const last = page.at(-1);
    if (!last || page.length < PAGE) break;
    to = last.id;
  }
  return { entries: found.reverse(), head };
}

/** Entries of the run after `after` up to the head (a reconnect's catch-up), and that head. */
export async function sinceForRun(
  bus: LogReader,
  runId: string | undefined,
  after: string,
): Promise<{ entries: LogEntry[]; head: string }> {
  const head = (await bus.readLog({ reverse: true, count: 1 }))[0]?.id ?? '0-0';
  const found: LogEntry[] = [];
  let from = after;
  for (let scanned = 0; scanned < SCAN_LIMIT; ) {
    const page = await bus.readLog({ after: from, to: head, count: PAGE });
    scanned += page.length;
    for (const entry of page) if (matchesRun(entry, runId)) found.push(entry);
    const last = page.at(-1);
    if (!last || page.length < PAGE) break;
    from = last.id;
  }
  // Tail from whichever is later: the head, or the client's own position (a head trimmed away).
  return { entries: found, head: maxId(head, after) };
}

function maxId(a: string, b: string): string {
  const [am, as] = a.split('-').map(Number);
  const [bm, bs] = b.split('-').map(Number);
  if ((am ?? 0) !== (bm ?? 0)) return (am ?? 0) > (bm ?? 0) ? a : b;
  return (as ?? 0) >= (bs ?? 0) ? a : b;
}
