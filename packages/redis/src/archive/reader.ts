// Reading archived runs: the folder of archive files (`<memoryDir>/archive/<runId>.jsonl.gz`) and
// one run's archive seen the way its Redis keys were (events, checkpoint records, LLM call log,
// messages), so the run store and the report read an archived run as they read a live one.
import { readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type Message, NightshiftError } from '@nightshift/protocol';
import { fieldsToRecord } from '../bus/entries.js';
import type { LogEntry } from '../bus/types.js';
import type { Keys } from '../keys.js';
import { type ArchiveContent, type ArchivedKey, readArchiveFile } from './format.js';
import { archivedMessage, relativeKey } from './snapshot.js';

const SUFFIX = '.jsonl.gz';
/** Run ids as IdSchema allows them: never a path separator, never a leading dot. */
const RUN_ID_RE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$/;
/** Archives are written once and never change: a few parsed ones are kept for repeated reads. */
const CACHED = 8;

/** The folder of run archives under a memory directory. */
export function runArchiveDir(memoryDir: string): string {
  return join(memoryDir, 'archive');
}

/** One archived run, read through the key names it had in Redis. */
export class ArchivedRun {
  readonly content: ArchiveContent;
  readonly file: string;
  readonly #keys: Keys;
  readonly #byName: Map<string, ArchivedKey>;

  constructor(content: ArchiveContent, file: string, keys: Keys) {
    this.content = content;
    this.file = file;
    this.#keys = keys;
    this.#byName = new Map(content.keys.map((k) => [k.key, k]));
  }

  get runId(): string {
    return this.content.header.runId;
  }

  /** An archived key by its full name under the current prefix. */
  key(name: string): ArchivedKey | undefined {
    return this.#byName.get(relativeKey(this.#keys, name));
  }

  /** A stream key's entries as XRANGE returns them (empty when it had none). */
  stream(name: string): [string, string[]][] {
    const k = this.key(name);
    return k?.type === 'stream' ? k.value : [];
  }

  /** A list key's items as LRANGE 0 -1 returns them. */
  list(name: string): string[] {
    const k = this.key(name);
    return k?.type === 'list' ? k.value : [];
  }

  /** A hash field. */
  field(name: string, field: string): string | undefined {
    const k = this.key(name);
    if (k?.type !== 'hash') return undefined;
    for (let i = 0; i + 1 < k.value.length; i += 2) if (k.value[i] === field) return k.value[i + 1];
    return undefined;
  }

  /** The run's bus:log entries as readLog gives them, in log order. */
  logEntries(): LogEntry[] {
    return this.content.messages.map((m) => {
      const message = archivedMessage(m);
      return { id: m.logId, raw: fieldsToRecord(m.fields) ?? {}, ...(message ? { message } : {}) };
    });
  }

  /** The run's bus:log messages, in log order. */
  messages(): Message[] {
    return this.content.messages.flatMap((m) => archivedMessage(m) ?? []);
  }
}

export interface RunArchive {
  readonly dir: string;
  file(runId: string): string;
  /** The archived run, undefined when it has no archive; a damaged file throws RunArchiveError. */
  read(runId: string): Promise<ArchivedRun | undefined>;
  /** Archived run ids with when each file was written, oldest first. */
  list(): Promise<{ runId: string; archivedAt: number }[]>;
}

export function openRunArchive(dir: string, keys: Keys): RunArchive {
  const cache = new Map<string, ArchivedRun>();
  const file = (runId: string) => {
    if (!RUN_ID_RE.test(runId))
      throw new NightshiftError(
        'INVALID_RUN_ID',
        `runId: expected a run id like run_abc123, got ${JSON.stringify(runId)}`,
        {
          category: 'invalid-input',
        },
      );
    return join(dir, `${runId}${SUFFIX}`);
  };
  return {
    dir,
    file,
    async read(runId) {
      const hit = cache.get(runId);
      if (hit) return hit;
      if (!RUN_ID_RE.test(runId)) return undefined; // no file can hold it
      let content: ArchiveContent;
      try {
        content = await readArchiveFile(file(runId));
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
        throw error;
      }
      const run = new ArchivedRun(content, file(runId), keys);
      cache.set(runId, run);
      if (cache.size > CACHED) cache.delete(cache.keys().next().value as string);
      return run;
    },
    async list() {
      let names: string[];
      try {
        names = await readdir(dir);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
        throw error;
      }
      const out: { runId: string; archivedAt: number }[] = [];
      for (const name of names) {
        if (!name.endsWith(SUFFIX) || name.startsWith('.')) continue;
        const info = await stat(join(dir, name)).catch(() => undefined);
        if (info) out.push({ runId: name.slice(0, -SUFFIX.length), archivedAt: info.mtimeMs });
      }
      return out.sort((a, b) => a.archivedAt - b.archivedAt || a.runId.localeCompare(b.runId));
    },
  };
}
