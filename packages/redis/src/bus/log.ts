// Reading `bus:log`, the total order of every message: pages for `nightshift logs`, and a plain
// XREAD tail (no group, nothing acked) for `--follow`. Bad entries come back marked, never thrown.
import type { BusContext } from './context.js';
import { toError } from './context.js';
import { decodeEntry, type RawEntry, toEntries, toStreamBatches } from './entries.js';
import type { LogEntry, ReadLogOptions, TailLogOptions } from './types.js';

export function toLogEntry(entry: RawEntry): LogEntry {
  const raw = entry.fields ?? {};
  const decoded = decodeEntry(raw);
  return decoded.ok
    ? { id: entry.id, message: decoded.message, raw }
    : { id: entry.id, raw, error: decoded.reason };
}

export async function readLog(ctx: BusContext, options: ReadLogOptions = {}): Promise<LogEntry[]> {
  const count = Math.max(1, options.count ?? 100);
  const start = options.after !== undefined ? `(${options.after}` : (options.from ?? '-');
  const end = options.to ?? '+';
  const reply = options.reverse
    ? await ctx.redis.xrevrange(ctx.keys.busLog, end, start, 'COUNT', count)
    : await ctx.redis.xrange(ctx.keys.busLog, start, end, 'COUNT', count);
  return toEntries(reply).map(toLogEntry);
}

/** Id of the newest log entry, or '0-0' for an empty log: where "from now on" starts. */
export async function lastLogId(ctx: BusContext): Promise<string> {
  const reply = await ctx.redis.xrevrange(ctx.keys.busLog, '+', '-', 'COUNT', 1);
  return toEntries(reply)[0]?.id ?? '0-0';
}

export async function tailLog(
  ctx: BusContext,
  handler: (entry: LogEntry) => void | Promise<void>,
  options: TailLogOptions = {},
): Promise<void> {
  const { signal } = options;
  if (signal?.aborted) return;
  const blockMs = Math.max(1, options.blockMs ?? 5000);
  const count = Math.max(1, options.count ?? 100);
  // '$' is resolved once to a real id: XREAD … $ repeated each round would miss entries
  // appended between two rounds.
  let last = options.from === undefined || options.from === '$' ? await lastLogId(ctx) : options.from;
  const conn = ctx.openBlocking('tail');
  const abort = () => conn.disconnect();
  signal?.addEventListener('abort', abort, { once: true });
  const stopped = () => signal?.aborted === true || ctx.closed;
  let failures = 0;
  try {
    while (!stopped()) {
      let reply: unknown;
      try {
        reply = await conn.xread('COUNT', count, 'BLOCK', blockMs, 'STREAMS', ctx.keys.busLog, last);
        failures = 0;
      } catch (error) {
        if (stopped()) break;
        ctx.onError(toError(error));
        failures++;
        await new Promise((resolve) => setTimeout(resolve, Math.min(5000, 100 * 2 ** Math.min(failures, 6))));
        continue;
      }
      for (const batch of toStreamBatches(reply)) {
        for (const entry of batch.entries) {
          last = entry.id;
          await handler(toLogEntry(entry));
        }
      }
    }
  } finally {
    signal?.removeEventListener('abort', abort);
    conn.disconnect();
    ctx.release(conn);
  }
}
