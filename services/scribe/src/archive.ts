// Archive (guide §2/§7 `archiveAfterMinutes: 120`, §10 "Archive completed phases"): a phase entry
// that ENDED more than archiveAfterMinutes ago moves out of the hot tier — its messages to
// `MEMORY_DIR/<runId>/archive/phase-<n>.jsonl`, its rolling summary beside it — and only once that
// file is fsynced are its entries deleted from the hot stream `bus:log`.
//
// Trimming: XDEL of exactly the archived entries of this run, never XTRIM MINID. bus:log
// interleaves every run; MINID would also cut the entries of other runs (and of this run's
// still-open phases) that nobody has archived. Every step is idempotent, and the archive file
// is the union of what was archived before, the hot journal and the stream, so a crash between
// any two steps is healed by the next pass without losing or duplicating an entry.
import { open } from 'node:fs/promises';
import { join } from 'node:path';
import type { PhaseEntry } from '@nightshift/core';
import type { Keys, LogEntry, ReadLogOptions, RedisClient } from '@nightshift/redis';
import type { Logger } from '@nightshift/runtime';
import { readFileOrEmpty, writeFileAtomic } from './files.js';
import { compareLogIds, type Journal, type JournalEntry } from './journal.js';
import type { Summarizer } from './summarizer.js';

export interface ArchiveContext {
  redis: RedisClient;
  keys: Keys;
  memoryDir: string;
  journal: Journal;
  summarizer: Pick<Summarizer, 'fullyFolded' | 'phaseText'>;
  logger: Logger;
  /** bus:log pages (the bus's readLog). */
  readLog(options: ReadLogOptions): Promise<LogEntry[]>;
  /** config.subagents.archiveAfterMinutes, in ms. */
  archiveAfterMs: number;
  /** The Scribe's consumer group on bus:log (entries it has not handled are never archived). */
  group: string;
}

export interface ArchiveRun {
  runId: string;
  phases: readonly PhaseEntry[];
  /** When the run ended (run.finished), or null while it runs: the last phase ends then. */
  endedAt: string | null;
}

const XDEL_CHUNK = 500;
const SEQ_MAX = '18446744073709551615';

export function archiveFile(memoryDir: string, runId: string, n: number): string {
  return join(memoryDir, runId, 'archive', `phase-${n}.jsonl`);
}

function archivedKey(keys: Keys, runId: string): string {
  return keys.custom('run', runId, 'archived');
}

/** Phase entries of the run that are archived. */
export async function archivedPhases(redis: RedisClient, keys: Keys, runId: string): Promise<number[]> {
  return (await redis.smembers(archivedKey(keys, runId))).map(Number).sort((a, b) => a - b);
}

/**
 * Archives every phase entry that ended at least archiveAfterMs before `now`, oldest first; stops
 * at the first that is not ready (still folding, or not yet consumed). Returns the ones archived.
 */
export async function archiveDue(ctx: ArchiveContext, run: ArchiveRun, now: number): Promise<number[]> {
  const done: number[] = [];
  const archived = new Set(await archivedPhases(ctx.redis, ctx.keys, run.runId));
  const hot = new Set(await ctx.journal.ordinals(run.runId));
  for (let n = 1; n <= run.phases.length; n++) {
    const next = run.phases[n];
    const endMs = next ? Date.parse(next.at) : run.endedAt ? Date.parse(run.endedAt) : undefined;
    if (endMs === undefined || now - endMs < ctx.archiveAfterMs) break;
    if (archived.has(n) && !hot.has(n)) continue;
    // Its summary must be complete first: the archive keeps it, and nothing is folded later.
    if (!(await ctx.summarizer.fullyFolded(run.runId, n))) break;
    const last = run.phases.length === n;
    const startId = n === 1 ? '-' : `${Date.parse((run.phases[n - 1] as PhaseEntry).at)}-0`;
    // The last phase of an ended run keeps whatever came after the end (the final broadcast).
    const endId = await handledUpTo(ctx, last ? now : (endMs as number) - 1);
    if (endId === undefined) break;
    await archivePhase(ctx, run.runId, n, startId, endId);
    done.push(n);
  }
  return done;
}

/**
 * The last bus:log id the Scribe's group has handled, capped at `ms`; undefined while an entry up
 * to there is still pending (delivered, not acked): archiving it could delete it mid-handling.
 */
async function handledUpTo(ctx: ArchiveContext, ms: number): Promise<string | undefined> {
  const cap = `${ms}-${SEQ_MAX}`;
  const groups = (await ctx.redis.xinfo('GROUPS', ctx.keys.busLog)) as unknown[];
  let delivered: string | undefined;
  for (const g of groups) {
    const fields = Array.isArray(g) ? g : [];
    const name = fields[fields.indexOf('name') + 1];
    if (name === ctx.group) delivered = String(fields[fields.indexOf('last-delivered-id') + 1]);
  }
  if (delivered === undefined) return undefined;
  const end = compareLogIds(delivered, cap) < 0 ? delivered : cap;
  const pending = (await ctx.redis.xpending(ctx.keys.busLog, ctx.group, '-', end, 1)) as unknown[];
  return pending.length === 0 ? end : undefined;
}

async function archivePhase(ctx: ArchiveContext, runId: string, n: number, startId: string, endId: string) {
  const file = archiveFile(ctx.memoryDir, runId, n);
  const byId = new Map<string, JournalEntry>();
  for (const e of await readArchive(file, ctx.logger)) byId.set(e.logId, e);
  for (const e of await ctx.journal.read(runId, n)) byId.set(e.logId, { logId: e.logId, message: e.message });
  const inStream: string[] = [];
  for await (const e of streamEntries(ctx, runId, startId, endId)) {
    inStream.push(e.logId);
    if (!byId.has(e.logId)) byId.set(e.logId, e);
  }
  const entries = [...byId.values()].sort((a, b) => compareLogIds(a.logId, b.logId));
  await writeFileAtomic(
    file,
    entries.map((e) => JSON.stringify(e)).join('\n') + (entries.length ? '\n' : ''),
  );
  await fsyncDir(join(ctx.memoryDir, runId, 'archive'));
  const summary =
    (await ctx.summarizer.phaseText(runId, n)) ?? `# Phase ${n}\n(no messages were summarised)\n`;
  await writeFileAtomic(join(ctx.memoryDir, runId, 'archive', `phase-${n}.summary.md`), summary);
  await ctx.redis.sadd(archivedKey(ctx.keys, runId), String(n));
  // Only now, with the archive on disk, leave the hot stream. Every id in the union was handled
  // (journaled, archived before, or read up to the handled cap), so deleting it loses nothing.
  const remove = entries.map((e) => e.logId);
  for (let i = 0; i < remove.length; i += XDEL_CHUNK) {
    await ctx.redis.xdel(ctx.keys.busLog, ...remove.slice(i, i + XDEL_CHUNK));
  }
  await ctx.journal.remove(runId, n);
  ctx.logger.info(
    { runId, phase: n, entries: entries.length, fromStream: inStream.length, file },
    'archived a phase and removed its entries from bus:log',
  );
}

/** This run's valid entries of bus:log between two ids, page by page. */
async function* streamEntries(ctx: ArchiveContext, runId: string, startId: string, endId: string) {
  let from = startId;
  let first = true;
  for (;;) {
    const page = await ctx.readLog(
      first ? { from, to: endId, count: 1000 } : { after: from, to: endId, count: 1000 },
    );
    first = false;
    for (const entry of page) {
      if (entry.message?.runId === runId) yield { logId: entry.id, message: entry.message };
    }
    const last = page.at(-1);
    if (!last || page.length < 1000) return;
    from = last.id;
  }
}

async function readArchive(file: string, logger: Logger): Promise<JournalEntry[]> {
  const out: JournalEntry[] = [];
  for (const line of (await readFileOrEmpty(file)).split('\n')) {
    if (line.trim() === '') continue;
    try {
      const e = JSON.parse(line) as JournalEntry;
      if (typeof e.logId === 'string' && e.message) out.push(e);
    } catch (error) {
      logger.warn({ file, err: String(error) }, 'skipping an unreadable archive line');
    }
  }
  return out;
}

/** A rename is durable only once its directory is fsynced too. */
async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
