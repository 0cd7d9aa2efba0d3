// The run event store: each run's events in one stream, appended only through the guarded
// script, so the state folded from it (packages/core) is the single source of truth. Given the
// run archive (issue 21 §2), it is also the one place a run moved out of Redis is read back from:
// a run whose meta is gone from Redis is read from its archive file, transparently.
import { type ArchivedRun, openRunArchive, type RunArchive, runArchiveDir } from '../archive/reader.js';
import type { RedisClient } from '../connection.js';
import type { Keys } from '../keys.js';
import { runScript } from '../scripts.js';

export interface StoredEvent {
  /** 1-based position in the run's log. */
  version: number;
  streamId: string;
  event: unknown;
}

export type AppendResult = { ok: true; version: number } | { ok: false; version: number };

export interface RunStore {
  /** Appends if the log is at `expectedVersion`; otherwise reports the current version. */
  append(
    runId: string,
    expectedVersion: number,
    events: readonly unknown[],
    now?: number,
  ): Promise<AppendResult>;
  read(runId: string, afterVersion?: number): Promise<StoredEvent[]>;
  version(runId: string): Promise<number>;
  /** Run ids in Redis, oldest first (archived runs: RunArchive.list). */
  list(limit?: number): Promise<string[]>;
  /** In Redis, or (with an archive) archived. */
  exists(runId: string): Promise<boolean>;
  /** The run's archive when it has left Redis; undefined while it is in Redis or unknown. */
  archived(runId: string): Promise<ArchivedRun | undefined>;
  /** Blocks up to `blockMs` for events after the given stream id ('$' = only new ones). */
  follow(runId: string, afterStreamId: string, blockMs: number, client?: RedisClient): Promise<StoredEvent[]>;
}

export interface RunStoreOptions {
  /** Where archived runs are read from (openRunArchive); absent = Redis only. */
  archive?: RunArchive | undefined;
}

/**
 * The run store of a deployment whose finished runs are archived under MEMORY_DIR (issue 21 §2):
 * a run still in Redis is read there, one archived out of it from `MEMORY_DIR/archive`. The
 * archive is returned too, for callers that list it or name its folder.
 */
export function createArchivedRunStore(
  redis: RedisClient,
  keys: Keys,
  memoryDir: string,
): { store: RunStore; archive: RunArchive } {
  const archive = openRunArchive(runArchiveDir(memoryDir), keys);
  return { store: createRunStore(redis, keys, { archive }), archive };
}

export function createRunStore(redis: RedisClient, keys: Keys, options: RunStoreOptions = {}): RunStore {
  const { archive } = options;
  const archived = async (runId: string): Promise<ArchivedRun | undefined> => {
    if (!archive || (await redis.exists(keys.runMeta(runId))) === 1) return undefined;
    return archive.read(runId);
  };
  const decode = (entries: [string, string[]][]): StoredEvent[] =>
    entries.map(([streamId, fields]) => {
      const map = new Map<string, string>();
      for (let i = 0; i + 1 < fields.length; i += 2) map.set(fields[i] as string, fields[i + 1] as string);
      const raw = map.get('event') ?? 'null';
      let event: unknown;
      try {
        event = JSON.parse(raw);
      } catch (error) {
        event = { type: 'corrupt', raw, error: String(error) };
      }
      return { version: Number(map.get('v') ?? 0), streamId, event };
    });

  return {
    async append(runId, expectedVersion, events, now = Date.now()) {
      if (events.length === 0) return { ok: true, version: await this.version(runId) };
      const [ok, version] = (await runScript(
        redis,
        'appendRunEvents-3',
        [keys.runEvents(runId), keys.runMeta(runId), keys.runsIndex],
        [expectedVersion, runId, now, ...events.map((e) => JSON.stringify(e))],
      )) as [number, number];
      return { ok: ok === 1, version: Number(version) } as AppendResult;
    },
    async read(runId, afterVersion = 0) {
      const old = await archived(runId);
      const all = decode(
        old
          ? old.stream(keys.runEvents(runId))
          : ((await redis.xrange(keys.runEvents(runId), '-', '+')) as [string, string[]][]),
      );
      return afterVersion > 0 ? all.filter((e) => e.version > afterVersion) : all;
    },
    async version(runId) {
      const old = await archived(runId);
      const version = old
        ? old.field(keys.runMeta(runId), 'version')
        : await redis.hget(keys.runMeta(runId), 'version');
      return Number(version ?? 0);
    },
    async list(limit = 1000) {
      return redis.zrange(keys.runsIndex, 0, limit - 1);
    },
    async exists(runId) {
      return (await redis.exists(keys.runMeta(runId))) === 1 || (await archived(runId)) !== undefined;
    },
    archived,
    async follow(runId, afterStreamId, blockMs, client = redis) {
      const reply = (await client.xread('BLOCK', blockMs, 'STREAMS', keys.runEvents(runId), afterStreamId)) as
        | [string, [string, string[]][]][]
        | null;
      return reply?.[0] ? decode(reply[0][1]) : [];
    },
  };
}
