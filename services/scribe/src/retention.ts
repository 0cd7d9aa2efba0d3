// Retention of finished runs (issue 21 §2): the leading Scribe moves runs that ended long enough
// ago (or beyond the newest RUN_RETENTION_KEEP) out of Redis into one archive file each, and, when
// MEMORY_RETENTION_DAYS is set, deletes archives (and the run's memory folder) older than that.
//
// Why the Scribe: it already owns the run's memory folder and the phase archive, it holds a lease
// (one archiver at a time, no two processes snapshotting and deleting the same run), and it is the
// last to finish with a run (summaries fold after the end): it archives a run only once its own
// work on it is done, so nothing it writes later re-creates the keys it removed.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { RetentionConfig } from '@nightshift/config';
import {
  fold,
  isTerminal,
  parseRunEvent,
  type RunEvent,
  type RunState,
  runsToArchive,
} from '@nightshift/core';
import {
  archiveRuns,
  type Keys,
  type RedisClient,
  type RunArchive,
  RunQueues,
  type RunStore,
  type RunToArchive,
} from '@nightshift/redis';
import type { Logger } from '@nightshift/runtime';

export interface RetentionOptions {
  redis: RedisClient;
  keys: Keys;
  store: RunStore;
  archive: RunArchive;
  memoryDir: string;
  logger: Logger;
  policy: RetentionConfig;
  /** Whether the Scribe is done with an ended run (its summaries folded); default: yes. */
  ready?: (runId: string, state: RunState) => Promise<boolean>;
}

export interface RetentionPass {
  archived: string[];
  failed: string[];
  /** Runs whose archive was deleted under MEMORY_RETENTION_DAYS. */
  deleted: string[];
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

function readable(stored: { event: unknown }[]): RunEvent[] {
  return stored.flatMap((s) => {
    try {
      return [parseRunEvent(s.event)];
    } catch (error) {
      void error; // the Director skips such an event too; the fold goes on without it
      return [];
    }
  });
}

export class RunRetention {
  readonly #o: RetentionOptions;
  readonly #queues: RunQueues;

  constructor(options: RetentionOptions) {
    this.#o = options;
    this.#queues = new RunQueues(options.redis, options.keys, (err) =>
      options.logger.warn({ err: err.message }, 'retention queue connection error'),
    );
  }

  async pass(now: Date): Promise<RetentionPass> {
    const { policy, logger } = this.#o;
    const candidates: (RunToArchive & { state: RunState })[] = [];
    for (const runId of await this.#o.store.list(Number.MAX_SAFE_INTEGER)) {
      const events = readable(await this.#o.store.read(runId));
      const state = fold(events);
      const end = events.findLast((e) => e.type === 'run.finished')?.at ?? state.lastEventAt;
      candidates.push({
        runId,
        state,
        createdAt: state.createdAt,
        endedAt: isTerminal(state.status) && end ? end : null,
      });
    }
    const chosen = new Set(
      runsToArchive(
        candidates.map((c) => ({
          runId: c.runId,
          endedAt: c.endedAt === null ? null : Date.parse(c.endedAt),
        })),
        now.getTime(),
        { maxAgeMs: policy.runMaxAgeHours * HOUR_MS, keep: policy.keepRuns, batch: policy.batch },
      ),
    );
    const runs: RunToArchive[] = [];
    for (const c of candidates) {
      if (!chosen.has(c.runId)) continue;
      if (this.#o.ready && !(await this.#o.ready(c.runId, c.state))) continue;
      runs.push({ runId: c.runId, createdAt: c.createdAt, endedAt: c.endedAt });
    }
    const result = runs.length
      ? await archiveRuns({ ...this.#o, queues: this.#queues, runs, now })
      : { archived: [], failed: [] };
    for (const a of result.archived)
      logger.info(
        { runId: a.runId, file: a.file, keys: a.keys, messages: a.messages, jobs: a.jobs },
        'archived a finished run and removed it from Redis',
      );
    for (const f of result.failed)
      logger.error({ runId: f.runId, err: f.error.message }, 'could not archive a run; it stays in Redis');
    return {
      archived: result.archived.map((a) => a.runId),
      failed: result.failed.map((f) => f.runId),
      deleted: await this.#expire(now),
    };
  }

  /** MEMORY_RETENTION_DAYS: archives written longer ago than that go, with the run's memory folder. */
  async #expire(now: Date): Promise<string[]> {
    const days = this.#o.policy.memoryDays;
    if (days <= 0) return [];
    const deleted: string[] = [];
    for (const { runId, archivedAt } of await this.#o.archive.list()) {
      if (now.getTime() - archivedAt <= days * DAY_MS) continue;
      // A run back in Redis (a pass that crashed before removing it) keeps its archive for now.
      if ((await this.#o.redis.exists(this.#o.keys.runMeta(runId))) === 1) continue;
      await rm(join(this.#o.memoryDir, runId), { recursive: true, force: true });
      await rm(this.#o.archive.file(runId), { force: true });
      deleted.push(runId);
    }
    if (deleted.length > 0)
      this.#o.logger.info({ deleted, days }, 'deleted run archives past MEMORY_RETENTION_DAYS');
    return deleted;
  }

  close(): Promise<void> {
    return this.#queues.close();
  }
}
