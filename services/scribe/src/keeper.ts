// What the Scribe keeps per run: the journal, checkpoints, team-state.md, the rolling summaries
// and the archive — each step idempotent, and all writes of one run serialised in this process.
import { join } from 'node:path';
import { isTerminal } from '@nightshift/core';
import type { ChatModel } from '@nightshift/llm';
import type { Message } from '@nightshift/protocol';
import { type Bus, type Keys, listHeartbeats, type RedisClient, type RunStore } from '@nightshift/redis';
import type { Logger } from '@nightshift/runtime';
import { archiveDue } from './archive.js';
import {
  type CheckpointRecord,
  lastGoodCheckpoint,
  readCheckpoints,
  reconcileCheckpoints,
} from './checkpoints.js';
import { writeFileAtomic } from './files.js';
import { Journal, logIdMs, phaseOrdinalAt } from './journal.js';
import { type LoadedRun, loadRun } from './run-log.js';
import { Summarizer, type SummarizerOptions } from './summarizer.js';
import { renderTeamState } from './team-state.js';
import { checkpointTriggers } from './triggers.js';

export interface KeeperOptions {
  redis: RedisClient;
  keys: Keys;
  bus: Pick<Bus, 'readLog'>;
  store: RunStore;
  memoryDir: string;
  logger: Logger;
  model?: ChatModel | undefined;
  summary?:
    | Pick<
        SummarizerOptions,
        'maxTokens' | 'batchChars' | 'batchMessages' | 'idleMs' | 'timeoutMs' | 'modelRetryMs' | 'maxFolds'
      >
    | undefined;
  /** config.subagents.archiveAfterMinutes (guide §2/§7: 120). */
  archiveAfterMinutes?: number;
  /** team-state.md is rewritten at most this often per run (default 200 ms). */
  debounceMs?: number;
  /** The clock for archive ages and summary idleness (tests inject a fake one). */
  now?: () => Date;
  /** The Scribe's consumer group on bus:log. */
  group: string;
}

export class RunKeeper {
  readonly #o: KeeperOptions;
  readonly journal: Journal;
  readonly summarizer: Summarizer;
  readonly #locks = new Map<string, Promise<unknown>>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #rendered = new Map<string, string>();
  readonly #reported = new Set<string>();
  readonly #background = new Set<Promise<unknown>>();
  #closed = false;

  constructor(options: KeeperOptions) {
    this.#o = options;
    this.journal = new Journal(options.memoryDir, options.logger);
    this.summarizer = new Summarizer({
      ...options.summary,
      redis: options.redis,
      keys: options.keys,
      memoryDir: options.memoryDir,
      journal: this.journal,
      logger: options.logger,
      model: options.model,
      ...(options.now ? { now: options.now } : {}),
    });
  }

  /** Runs `fn` for one run at a time within this process. */
  serial<T>(runId: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.#locks.get(runId) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const settled = run.catch(() => undefined);
    this.#locks.set(runId, settled);
    void settled.then(() => {
      if (this.#locks.get(runId) === settled) this.#locks.delete(runId);
    });
    return run;
  }

  load(runId: string): Promise<LoadedRun | undefined> {
    return loadRun(this.#o.store, runId, this.#o.logger);
  }

  /** One bus:log entry: journal it, write the checkpoints it completes, refresh the files. */
  async onMessage(message: Message, logId: string): Promise<void> {
    const known = await this.serial(message.runId, async () => {
      const run = await this.load(message.runId);
      if (!run) return false; // not a run (yet): nothing of ours to keep
      const ordinal = phaseOrdinalAt(run.state.phases, logIdMs(logId));
      if (await this.journal.append(run.runId, ordinal, { logId, message })) {
        this.summarizer.noteArrival(run.runId);
      }
      await this.#checkpoints(run);
      return true;
    });
    if (known) this.refresh(message.runId);
  }

  /** Derives the run's triggers and writes every checkpoint still missing (caller holds the lock). */
  async #checkpoints(run: LoadedRun): Promise<CheckpointRecord[]> {
    const { redis, keys, memoryDir, logger } = this.#o;
    const triggers = checkpointTriggers(run.events, run.versions);
    const written = await reconcileCheckpoints(
      { redis, keys, memoryDir, ...(this.#o.now ? { now: this.#o.now } : {}) },
      run.runId,
      triggers,
    );
    for (const cp of written)
      logger.info({ runId: run.runId, n: cp.n, trigger: cp.trigger }, 'checkpoint written');
    return written;
  }

  /** Catch-up pass for one run: checkpoints (also for triggers no message announced), files. */
  async settle(runId: string): Promise<LoadedRun | undefined> {
    const run = await this.serial(runId, async () => {
      const loaded = await this.load(runId);
      if (loaded) await this.#checkpoints(loaded);
      return loaded;
    });
    if (run) this.refresh(runId);
    return run;
  }

  /** The Director's checkpoint step: the checkpoint for this request (written if missing). */
  async checkpointFor(
    runId: string,
    requestId: string,
  ): Promise<{ record?: CheckpointRecord; note: string }> {
    return this.serial(runId, async () => {
      const run = await this.load(runId);
      if (!run) return { note: `run ${runId} does not exist` };
      await this.#checkpoints(run);
      const trigger = checkpointTriggers(run.events, run.versions).find((t) =>
        t.requestIds?.includes(requestId),
      );
      const { records } = await readCheckpoints(this.#o.redis, this.#o.keys, runId);
      const record = trigger ? records.find((r) => r.key === trigger.key) : undefined;
      if (record)
        return {
          record,
          note: `Checkpoint CP-${record.n} written: ${record.file} (decision: ${record.decision}).`,
        };
      const latest = (await lastGoodCheckpoint(this.#o.redis, this.#o.keys, runId)).checkpoint;
      const why = `request ${requestId} is not a checkpoint step of this run's log`;
      return latest
        ? {
            record: latest,
            note: `No new checkpoint (${why}); the latest is CP-${latest.n}: ${latest.file}.`,
          }
        : { note: `No checkpoint (${why}).` };
    });
  }

  /** Folds the run's pending journal lines into its summaries, in the background. */
  foldSummaries(runId: string): void {
    if (this.#closed) return;
    this.#track(
      this.summarizer.run(runId, () => this.#view(runId)),
      runId,
      'summary fold failed',
    );
  }

  /** Schedules the debounced team-state.md rewrite and a summary fold check. */
  refresh(runId: string): void {
    if (this.#closed) return;
    this.foldSummaries(runId);
    if (this.#timers.has(runId)) return;
    const timer = setTimeout(() => {
      this.#timers.delete(runId);
      this.#track(
        this.serial(runId, () => this.writeTeamState(runId)),
        runId,
        'could not write team-state.md',
      );
    }, this.#o.debounceMs ?? 200);
    this.#timers.set(runId, timer);
  }

  #track(work: Promise<unknown>, runId: string, what: string): void {
    const tracked = work.catch((err: unknown) => this.#o.logger.error({ err, runId }, what));
    this.#background.add(tracked);
    void tracked.finally(() => this.#background.delete(tracked));
  }

  async #view(runId: string) {
    const run = await this.load(runId);
    if (!run) return undefined;
    return { runId, title: run.state.title, phases: run.state.phases, ended: isTerminal(run.state.status) };
  }

  /**
   * Renders team-state.md from the event log (skips the write when nothing changed). The caller
   * holds the run's lock. The checkpoints the loaded log calls for are written first, so the file
   * never shows a phase (or the run's end) together with an older checkpoint than that phase made.
   */
  async writeTeamState(runId: string): Promise<string | undefined> {
    const { redis, keys, memoryDir, logger } = this.#o;
    const run = await this.load(runId);
    if (!run) return undefined;
    await this.#checkpoints(run);
    const [{ checkpoint, problems }, beats] = await Promise.all([
      lastGoodCheckpoint(redis, keys, runId),
      listHeartbeats(redis, keys),
    ]);
    for (const p of problems) {
      if (this.#reported.has(p.where)) continue;
      this.#reported.add(p.where);
      logger.warn(
        { runId, where: p.where, reason: p.reason },
        'skipping a bad checkpoint; using the previous good one',
      );
    }
    const file = join(memoryDir, runId, 'team-state.md');
    const text = renderTeamState(run.state, {
      heading: file,
      lastCheckpoint: checkpoint ? { n: checkpoint.n, at: checkpoint.at } : undefined,
      alive: new Set(beats.map((b) => b.role)),
      summaryFile: join(memoryDir, runId, 'summary.md'),
    });
    if (this.#rendered.get(runId) === text) return file;
    await writeFileAtomic(file, text);
    this.#rendered.set(runId, text);
    return file;
  }

  /** Archives the run's phases that ended archiveAfterMinutes ago (see archive.ts). */
  async archive(runId: string): Promise<number[]> {
    return this.serial(runId, async () => {
      const run = await this.load(runId);
      if (!run) return [];
      // The last phase ends with the run (later accounting events do not move that).
      const ended = run.events.findLast((e) => e.type === 'run.finished')?.at ?? null;
      return archiveDue(
        {
          redis: this.#o.redis,
          keys: this.#o.keys,
          memoryDir: this.#o.memoryDir,
          journal: this.journal,
          summarizer: this.summarizer,
          logger: this.#o.logger,
          readLog: (options) => this.#o.bus.readLog(options),
          archiveAfterMs: (this.#o.archiveAfterMinutes ?? 120) * 60_000,
          group: this.#o.group,
        },
        { runId, phases: run.state.phases, endedAt: ended },
        (this.#o.now?.() ?? new Date()).getTime(),
      );
    });
  }

  /** Drops what this process remembers of a run that ended and is fully archived. */
  forget(runId: string): void {
    this.journal.forget(runId);
    this.#rendered.delete(runId);
  }

  /** Waits for the work in flight (debounced writes are cancelled); no new work is started. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    await Promise.allSettled([...this.#background, ...this.#locks.values()]);
  }
}
