// The Scribe service: hears every message (consumer group `scribe` on bus:log), keeps each run's
// journal, checkpoints, team-state.md, rolling summaries and archive (keeper.ts), and answers the
// Director's checkpoint REQUESTs on queue agent.scribe. One active Scribe (lease). Being down only
// delays its files: the consumer group resumes where it stopped and a catch-up pass derives every
// checkpoint from the event log, so no message and no checkpoint is missed (issue 7 §6).
import type { RetentionConfig } from '@nightshift/config';
import { isTerminal } from '@nightshift/core';
import type { ChatModel } from '@nightshift/llm';
import { MessageSchema, problemsFrom } from '@nightshift/protocol';
import {
  type Bus,
  type Consumer,
  instanceToken,
  type Keys,
  Leadership,
  QUEUE_NAMES,
  type RedisClient,
  type RunArchive,
  type RunStore,
  thisProcess,
} from '@nightshift/redis';
import type { Logger, Service } from '@nightshift/runtime';
import { type ConnectionOptions, type Job, UnrecoverableError, Worker } from 'bullmq';
import { type KeeperOptions, RunKeeper } from './keeper.js';
import { type RetentionPass, RunRetention } from './retention.js';

export const SCRIBE_GROUP = 'scribe';

export interface ScribeOptions {
  redis: RedisClient;
  /** A connection for the BullMQ worker (maxRetriesPerRequest: null). */
  connection: ConnectionOptions;
  keys: Keys;
  bus: Bus;
  store: RunStore;
  memoryDir: string;
  logger: Logger;
  /** The gateway client for summaries (role scribe, low priority); absent = extractive only. */
  model?: ChatModel | undefined;
  summary?: KeeperOptions['summary'];
  archiveAfterMinutes?: number;
  debounceMs?: number;
  /** Catch-up pass over every open run (default 2 s): triggers no message announced, summaries. */
  sweepMs?: number;
  /** How often phases are checked for archiving (default 60 s). */
  archiveEveryMs?: number;
  now?: () => Date;
  /** Issue 21 §2: finished runs move out of Redis to this archive under this policy; absent = never. */
  retention?: { policy: RetentionConfig; archive: RunArchive } | undefined;
  leaseTtlMs?: number;
  heartbeatMs?: number;
  heartbeatTtlMs?: number;
  instance?: string;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  maxStalledCount?: number;
}

/** Errors of the memory directory's filesystem (full, read-only, no permission, broken). */
const FILESYSTEM_ERRORS = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EACCES', 'EPERM', 'EIO']);

export class ScribeService implements Service {
  readonly name = 'scribe';
  readonly #o: ScribeOptions;
  readonly keeper: RunKeeper;
  readonly #leadership: Leadership;
  #worker: Worker | undefined;
  #consumer: Consumer | undefined;
  #sweepTimer: NodeJS.Timeout | undefined;
  #sweeping: Promise<void> | undefined;
  #lastArchivePass = 0;
  #lastRetentionPass = 0;
  readonly #retention: RunRetention | undefined;
  /** Runs known to this leader; a run is dropped once it ended and every phase is archived. */
  readonly #runs = new Set<string>();
  readonly #settled = new Map<string, number>();
  readonly #ended = new Set<string>();
  #started: Promise<void> | undefined;
  #stopped: Promise<void> | undefined;

  constructor(options: ScribeOptions) {
    this.#o = options;
    this.keeper = new RunKeeper({ ...options, group: SCRIBE_GROUP });
    const retention = options.retention;
    this.#retention = retention
      ? new RunRetention({
          ...options,
          ...retention,
          // Only once the Scribe is done with the run: every phase's summary folded.
          ready: async (runId, state) => {
            for (let n = 1; n <= state.phases.length; n++)
              if (!(await this.keeper.summarizer.fullyFolded(runId, n))) return false;
            return true;
          },
        })
      : undefined;
    this.#leadership = new Leadership({
      redis: options.redis,
      keys: options.keys,
      logger: options.logger,
      name: 'scribe',
      token: options.instance ?? instanceToken(),
      // Take over at once from a holder on this host that is known dead (a kill -9, a restart).
      local: thisProcess(),
      ttlMs: options.leaseTtlMs ?? 10_000,
      heartbeatMs: options.heartbeatMs ?? 5000,
      heartbeatTtlMs: options.heartbeatTtlMs ?? 15_000,
      lead: () => this.#lead(),
      standDown: () => this.#standDown(),
    });
  }

  get isLeader(): boolean {
    return this.#leadership.isLeader;
  }

  start(): Promise<void> {
    this.#started ??= this.#leadership.start();
    return this.#started;
  }

  async #lead(): Promise<void> {
    const { keys, bus, logger } = this.#o;
    this.#worker = new Worker(QUEUE_NAMES.agent('scribe'), (job) => this.#onRequest(job), {
      connection: this.#o.connection,
      prefix: keys.prefix,
      concurrency: 1,
      ...(this.#o.lockDurationMs ? { lockDuration: this.#o.lockDurationMs } : {}),
      ...(this.#o.stalledIntervalMs ? { stalledInterval: this.#o.stalledIntervalMs } : {}),
      ...(this.#o.maxStalledCount !== undefined ? { maxStalledCount: this.#o.maxStalledCount } : {}),
    });
    this.#worker.on('error', (err) => logger.warn({ err: err.message }, 'scribe worker error'));
    this.#consumer = bus.consumeStream({
      stream: keys.busLog,
      group: SCRIBE_GROUP,
      handler: async (message, meta) => {
        // A late message of a run already archived (issue 21 §2) is not kept: keeping it would
        // re-create the run's keys in Redis. It stays in bus:log until MAXLEN trims it.
        if (this.#retention && (await this.#o.store.archived(message.runId))) return;
        this.#runs.add(message.runId);
        await this.keeper.onMessage(message, meta.entryId);
      },
      enforceTopology: false,
    });
    for (const runId of await this.#o.store.list(10_000)) this.#runs.add(runId);
    this.#sweepTimer = setInterval(() => void this.sweep(), this.#o.sweepMs ?? 2000);
    await this.#consumer.ready;
    void this.sweep();
  }

  async #standDown(): Promise<void> {
    if (this.#sweepTimer) clearInterval(this.#sweepTimer);
    this.#sweepTimer = undefined;
    const worker = this.#worker;
    const consumer = this.#consumer;
    this.#worker = undefined;
    this.#consumer = undefined;
    await Promise.allSettled([worker?.close(), consumer?.stop(), this.#sweeping]);
  }

  /**
   * The catch-up pass: every known run whose log moved since the last pass gets its checkpoints
   * and files brought up to date; pending summary lines are folded; every archiveEveryMs (or when
   * `archive` is set) due phases are archived. Public so tests can drive it with a fake clock.
   * Does nothing unless this process leads.
   */
  sweep(options: { archive?: boolean } = {}): Promise<void> {
    if (!this.#leadership.isLeader) return Promise.resolve();
    this.#sweeping ??= this.#sweep(options.archive === true).finally(() => {
      this.#sweeping = undefined;
    });
    return this.#sweeping;
  }

  async #sweep(forceArchive: boolean): Promise<void> {
    const now = (this.#o.now?.() ?? new Date()).getTime();
    const archivePass = forceArchive || now - this.#lastArchivePass >= (this.#o.archiveEveryMs ?? 60_000);
    if (archivePass) this.#lastArchivePass = now;
    for (const runId of [...this.#runs]) {
      try {
        // A run moved to the archive (by this or an earlier leader) is done: nothing more to write.
        if (this.#retention && (await this.#o.store.archived(runId))) {
          this.#drop(runId);
          continue;
        }
        const version = await this.#o.store.version(runId);
        if (this.#settled.get(runId) !== version) {
          const run = await this.keeper.settle(runId);
          if (run && isTerminal(run.state.status)) this.#ended.add(runId);
          this.#settled.set(runId, version);
        } else if (this.#ended.has(runId)) {
          this.keeper.foldSummaries(runId);
        } else {
          // Heartbeats change the table (offline agents) even when the log does not.
          this.keeper.refresh(runId);
        }
        if (archivePass) {
          await this.keeper.archive(runId);
          const hot = await this.keeper.journal.ordinals(runId);
          if (this.#ended.has(runId) && hot.length === 0) this.#drop(runId);
        }
      } catch (error) {
        this.#o.logger.warn({ runId, err: error }, 'catch-up pass failed for a run; next pass retries');
      }
    }
    const everyMs = (this.#o.retention?.policy.checkSeconds ?? 60) * 1000;
    if (this.#retention && (forceArchive || now - this.#lastRetentionPass >= everyMs)) {
      this.#lastRetentionPass = now;
      await this.retain(new Date(now));
    }
  }

  /** One retention pass (issue 21 §2); the archived runs are forgotten here. Public for tests. */
  async retain(now: Date): Promise<RetentionPass | undefined> {
    if (!this.#retention || !this.#leadership.isLeader) return undefined;
    try {
      const pass = await this.#retention.pass(now);
      for (const runId of pass.archived) this.#drop(runId);
      return pass;
    } catch (error) {
      this.#o.logger.warn({ err: error }, 'retention pass failed; the next one retries');
      return undefined;
    }
  }

  #drop(runId: string): void {
    this.#runs.delete(runId);
    this.#ended.delete(runId);
    this.#settled.delete(runId);
    this.keeper.forget(runId);
  }

  /** The Director's checkpoint step (P2 → Scribe checkpoint): answer with the checkpoint written. */
  async #onRequest(job: Job): Promise<{ checkpoint: number | null }> {
    const parsed = MessageSchema.safeParse(job.data);
    if (!parsed.success) {
      const reason = problemsFrom(parsed.error)
        .map((p) => `${p.path}: ${p.expected}`)
        .join('; ');
      await this.#o.bus.deadLetter({ source: QUEUE_NAMES.agent('scribe'), reason, payload: job.data });
      throw new UnrecoverableError(`invalid checkpoint request: ${reason}`);
    }
    const request = parsed.data;
    // Taken: a re-publish of this request (a Director restarting) no longer queues it again, even
    // after its finished job was removed (the bus logs a REQUEST before adding its job).
    await this.#o.bus.markTaken(request.id);
    this.#runs.add(request.runId);
    let outcome: { record?: { n: number } | undefined; note: string };
    try {
      outcome = await this.keeper.checkpointFor(request.runId, request.id);
    } catch (error) {
      // A full or read-only memory disk must not stop the team (issue 13 chaos "disk full"): say
      // so loudly (an ALERT, not tied to the request, so the step is not retried), and answer the
      // step so the run goes on; the checkpoint is written at the next trigger once there is room.
      const code = (error as NodeJS.ErrnoException).code ?? '';
      if (!FILESYSTEM_ERRORS.has(code)) throw error;
      const reason = `the Scribe cannot write to MEMORY_DIR (${code}): ${(error as Error).message}`;
      this.#o.logger.error({ runId: request.runId, code }, reason);
      await this.#o.bus
        .publish({
          id: `alert_${request.id}`.slice(0, 128),
          runId: request.runId,
          from: 'scribe',
          to: 'director',
          type: 'ALERT',
          priority: 'HIGH',
          timestamp: new Date().toISOString(),
          content: `${reason}. The team goes on without this checkpoint; free space in the memory directory.`,
          ...(request.phase ? { phase: request.phase } : {}),
        })
        .catch((err: unknown) => this.#o.logger.warn({ err }, 'could not publish the disk ALERT'));
      outcome = { note: `Checkpoint NOT written: ${reason}.` };
    }
    const { record, note } = outcome;
    await this.#o.bus.publish({
      id: `rsp_${request.id}`.slice(0, 128),
      runId: request.runId,
      from: 'scribe',
      to: 'director',
      type: 'RESPONSE',
      priority: request.priority,
      timestamp: new Date().toISOString(),
      inReplyTo: request.id,
      content: note,
      ...(request.phase ? { phase: request.phase } : {}),
    });
    this.keeper.refresh(request.runId);
    return { checkpoint: record?.n ?? null };
  }

  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      await this.#started?.catch(() => undefined);
      this.keeper.summarizer.abort();
      await this.#leadership.stop();
      await this.keeper.close();
      await this.#retention?.close();
    })();
    return this.#stopped;
  }
}
