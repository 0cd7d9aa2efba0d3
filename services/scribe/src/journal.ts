// The Scribe's hot journal: every message of a run it has heard, one JSON line each, in
// `MEMORY_DIR/<runId>/messages/phase-<n>.jsonl` (n = the phase entry the message falls in, see
// phaseOrdinalAt). It is what the rolling summaries fold from and what the archive moves; being a
// file, it also keeps a message the stream's `MAXLEN ~` trimming would otherwise drop.
//
// Idempotent: a message redelivered after a crash (handled, not yet acked) is recognised by its
// bus:log entry id and not written twice. Appends are not fsynced one by one — a killed process
// loses nothing the kernel already has; the archive fsyncs before anything is deleted (guide §10).
import { appendFile, mkdir, readdir, readFile, rm, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import type { PhaseEntry } from '@nightshift/core';
import { type Message, MessageSchema } from '@nightshift/protocol';
import type { Logger } from '@nightshift/runtime';

export interface JournalEntry {
  /** Entry id in bus:log (`<ms>-<seq>`): the total order and the dedupe key. */
  logId: string;
  message: Message;
}

/** Milliseconds of a stream entry id. */
export function logIdMs(logId: string): number {
  return Number(logId.split('-')[0]);
}

/** Compares two stream entry ids in stream order. */
export function compareLogIds(a: string, b: string): number {
  const [am = 0, as = 0] = a.split('-').map(Number);
  const [bm = 0, bs = 0] = b.split('-').map(Number);
  return am - bm || as - bs;
}

/**
 * The 1-based phase entry a moment falls in: the number of `phase.started` entries at or before
 * it (at least 1, so what precedes P1 belongs to the first phase). Phase entries, not phase
 * numbers: P2 of iteration 2 is entry 5 of a run that went 1, 2, 3, 4, 2.
 */
export function phaseOrdinalAt(phases: readonly PhaseEntry[], ms: number): number {
  let n = 0;
  for (const p of phases) if (Date.parse(p.at) <= ms) n++;
  return Math.max(1, n);
}

interface RunJournal {
  ids: Set<string>;
  /** Complete lines per phase ordinal. */
  lines: Map<number, number>;
}

const FILE_RE = /^phase-(\d+)\.jsonl$/;

export class Journal {
  readonly #memoryDir: string;
  readonly #logger: Logger;
  readonly #runs = new Map<string, Promise<RunJournal>>();

  constructor(memoryDir: string, logger: Logger) {
    this.#memoryDir = memoryDir;
    this.#logger = logger;
  }

  dir(runId: string): string {
    return join(this.#memoryDir, runId, 'messages');
  }

  file(runId: string, ordinal: number): string {
    return join(this.dir(runId), `phase-${ordinal}.jsonl`);
  }

  #open(runId: string): Promise<RunJournal> {
    let run = this.#runs.get(runId);
    if (!run) {
      run = this.#load(runId);
      this.#runs.set(runId, run);
      run.catch(() => this.#runs.delete(runId));
    }
    return run;
  }

  async #load(runId: string): Promise<RunJournal> {
    const journal: RunJournal = { ids: new Set(), lines: new Map() };
    let names: string[] = [];
    try {
      names = await readdir(this.dir(runId));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
    for (const name of names) {
      const ordinal = Number(FILE_RE.exec(name)?.[1] ?? Number.NaN);
      if (!Number.isInteger(ordinal)) continue;
      const { entries, lines } = await this.#readFile(runId, ordinal, true);
      for (const e of entries) journal.ids.add(e.logId);
      journal.lines.set(ordinal, lines);
    }
    return journal;
  }

  /**
   * Reads one phase file. A last line without its newline is a write cut short by a crash: with
   * `repair` it is cut off (and reported); its message is still pending in the consumer group
   * (it was never acked), so it comes again. A bad line in the middle is reported and skipped.
   */
  async #readFile(
    runId: string,
    ordinal: number,
    repair = false,
  ): Promise<{ entries: (JournalEntry & { line: number })[]; lines: number }> {
    const path = this.file(runId, ordinal);
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { entries: [], lines: 0 };
      throw error;
    }
    const cut = text.lastIndexOf('\n') + 1;
    if (cut < text.length && repair) {
      this.#logger.warn({ path, bytes: text.length - cut }, 'journal ends in a partial line; cutting it off');
      await truncate(path, Buffer.byteLength(text.slice(0, cut), 'utf8'));
    }
    const lines = text.slice(0, cut).split('\n').slice(0, -1);
    const entries: (JournalEntry & { line: number })[] = [];
    lines.forEach((line, index) => {
      const entry = parseLine(line);
      if (entry) entries.push({ ...entry, line: index });
      else this.#logger.warn({ path, line: index + 1 }, 'skipping an unreadable journal line');
    });
    return { entries, lines: lines.length };
  }

  /** Appends unless this log entry is already in the run's journal; false for a duplicate. */
  async append(runId: string, ordinal: number, entry: JournalEntry): Promise<boolean> {
    const journal = await this.#open(runId);
    if (journal.ids.has(entry.logId)) return false;
    await mkdir(this.dir(runId), { recursive: true });
    await appendFile(this.file(runId, ordinal), `${JSON.stringify(entry)}\n`, 'utf8');
    journal.ids.add(entry.logId);
    journal.lines.set(ordinal, (journal.lines.get(ordinal) ?? 0) + 1);
    return true;
  }

  async has(runId: string, logId: string): Promise<boolean> {
    return (await this.#open(runId)).ids.has(logId);
  }

  /** Complete lines of one phase file (the summary cursor's unit). */
  async lineCount(runId: string, ordinal: number): Promise<number> {
    return (await this.#open(runId)).lines.get(ordinal) ?? 0;
  }

  /** Phase ordinals that have a hot journal file, ascending. */
  async ordinals(runId: string): Promise<number[]> {
    return [...(await this.#open(runId)).lines.keys()].sort((a, b) => a - b);
  }

  /** Entries of one phase from line `from` (0-based) on, with their line numbers. */
  async read(runId: string, ordinal: number, from = 0): Promise<(JournalEntry & { line: number })[]> {
    await this.#open(runId);
    const { entries } = await this.#readFile(runId, ordinal);
    return entries.filter((e) => e.line >= from);
  }

  /** Drops a phase's hot file once it is archived; its ids stay known, so no late duplicate returns. */
  async remove(runId: string, ordinal: number): Promise<void> {
    const journal = await this.#open(runId);
    await rm(this.file(runId, ordinal), { force: true });
    journal.lines.delete(ordinal);
  }

  /** Forgets a run's in-memory index (a finished, archived run). */
  forget(runId: string): void {
    this.#runs.delete(runId);
  }
}

function parseLine(line: string): JournalEntry | undefined {
  try {
    const raw = JSON.parse(line) as { logId?: unknown; message?: unknown };
    const message = MessageSchema.safeParse(raw.message);
    if (typeof raw.logId !== 'string' || !message.success) return undefined;
    return { logId: raw.logId, message: message.data };
  } catch (error) {
    void error; // an unreadable line is reported by the caller
    return undefined;
  }
}
