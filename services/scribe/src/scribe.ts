// The Scribe service: hears every message (consumer group `scribe` on bus:log), keeps each run's
// team-state.md current, writes checkpoints at the guide's triggers, and answers the Director's
// checkpoint REQUESTs on queue agent.scribe. Being down only delays its files: the consumer
// group resumes where it stopped, so no message is missed.
import { join } from 'node:path';
import { fold, parseRunEvent, type RunEvent, type RunState } from '@nightshift/core';
import { type Message, MessageSchema, problemsFrom } from '@nightshift/protocol';
import {
  type Bus,
  type Consumer,
  type Keys,
  listHeartbeats,
  QUEUE_NAMES,
  type RedisClient,
  type RunStore,
} from '@nightshift/redis';
import type { Logger, Service } from '@nightshift/runtime';
import { type ConnectionOptions, type Job, UnrecoverableError, Worker } from 'bullmq';
import { listCheckpoints, writeCheckpoint } from './checkpoints.js';
import { writeFileAtomic } from './files.js';
import { renderTeamState } from './team-state.js';

export interface ScribeOptions {
  redis: RedisClient;
  connection: ConnectionOptions;
  keys: Keys;
  bus: Bus;
  store: RunStore;
  memoryDir: string;
  logger: Logger;
  debounceMs?: number;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  maxStalledCount?: number;
}

/** The guide's checkpoint triggers that a message on the bus reveals (guide §3). */
export function triggerOf(message: Message): { trigger: string; key: string } | undefined {
  if (message.type === 'RESPONSE' && message.from === 'builder') {
    return { trigger: 'Builder completed a component', key: `builder:${message.inReplyTo ?? message.id}` };
  }
  if (message.type === 'RESPONSE' && message.from === 'scout' && message.to === 'director') {
    return { trigger: 'Scout finished research', key: `scout:${message.inReplyTo ?? message.id}` };
  }
  if (message.type === 'RESPONSE' && message.from === 'inspector' && /"severity"\s*:/.test(message.content)) {
    return { trigger: 'Inspector found issues', key: `inspector:${message.inReplyTo ?? message.id}` };
  }
  if (message.type === 'STATUS' && message.from === 'director' && /^Phase \d/.test(message.content)) {
    return { trigger: `Phase transition: ${message.content}`, key: `phase:${message.content}` };
  }
  return undefined;
}

export class ScribeService implements Service {
  readonly name = 'scribe';
  readonly #o: ScribeOptions;
  #worker: Worker | undefined;
  #consumer: Consumer | undefined;
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #writing = new Map<string, Promise<void>>();
  #started: Promise<void> | undefined;
  #stopped: Promise<void> | undefined;

  constructor(options: ScribeOptions) {
    this.#o = options;
  }

  start(): Promise<void> {
    this.#started ??= this.#start();
    return this.#started;
  }

  async #start(): Promise<void> {
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
      group: 'scribe',
      handler: (message) => this.#onMessage(message),
      enforceTopology: false,
    });
    await this.#consumer.ready;
  }

  async #load(runId: string): Promise<{ state: RunState; version: number }> {
    const stored = await this.#o.store.read(runId);
    const events: RunEvent[] = [];
    for (const s of stored) {
      try {
        events.push(parseRunEvent(s.event));
      } catch (error) {
        this.#o.logger.warn({ runId, version: s.version, err: error }, 'skipping an unreadable run event');
      }
    }
    return { state: fold(events), version: stored.at(-1)?.version ?? 0 };
  }

  /** The Director's checkpoint step (P2 → Scribe checkpoint). */
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
    const { state, version } = await this.#load(request.runId);
    const cp = await writeCheckpoint(
      this.#o.redis,
      this.#o.keys,
      this.#o.memoryDir,
      state,
      version,
      'Execution milestone: Builder and Scout done (P2 checkpoint)',
      `request:${request.id}`,
    );
    const all = await listCheckpoints(this.#o.redis, this.#o.keys, request.runId);
    const latest = cp ?? all.at(-1);
    await this.#o.bus.publish({
      id: `rsp_${request.id}`.slice(0, 128),
      runId: request.runId,
      from: 'scribe',
      to: 'director',
      type: 'RESPONSE',
      priority: request.priority,
      timestamp: new Date().toISOString(),
      inReplyTo: request.id,
      content: latest
        ? `Checkpoint CP-${latest.n} written: ${latest.file} (decision: ${latest.decision}).`
        : 'No checkpoint.',
      ...(request.phase ? { phase: request.phase } : {}),
    });
    this.#schedule(request.runId);
    return { checkpoint: latest?.n ?? null };
  }

  async #onMessage(message: Message): Promise<void> {
    const trigger = triggerOf(message);
    if (trigger) {
      const { state, version } = await this.#load(message.runId);
      if (state.runId !== null) {
        const cp = await writeCheckpoint(
          this.#o.redis,
          this.#o.keys,
          this.#o.memoryDir,
          state,
          version,
          trigger.trigger,
          trigger.key,
        );
        if (cp)
          this.#o.logger.info({ runId: message.runId, n: cp.n, trigger: cp.trigger }, 'checkpoint written');
      }
    }
    this.#schedule(message.runId);
  }

  /** Debounced rewrite of the run's team-state.md. */
  #schedule(runId: string): void {
    if (this.#timers.has(runId)) return;
    const timer = setTimeout(() => {
      this.#timers.delete(runId);
      const previous = this.#writing.get(runId) ?? Promise.resolve();
      const next = previous
        .then(async () => {
          await this.writeTeamState(runId);
        })
        .catch((err: unknown) => this.#o.logger.error({ err, runId }, 'could not write team-state.md'));
      this.#writing.set(runId, next);
    }, this.#o.debounceMs ?? 200);
    this.#timers.set(runId, timer);
  }

  async writeTeamState(runId: string): Promise<string | undefined> {
    const { state } = await this.#load(runId);
    if (state.runId === null) return undefined;
    const [checkpoints, beats] = await Promise.all([
      listCheckpoints(this.#o.redis, this.#o.keys, runId),
      listHeartbeats(this.#o.redis, this.#o.keys),
    ]);
    const last = checkpoints.at(-1);
    const file = join(this.#o.memoryDir, runId, 'team-state.md');
    await writeFileAtomic(
      file,
      renderTeamState(state, {
        lastCheckpoint: last ? { n: last.n, at: last.at } : undefined,
        alive: new Set(beats.map((b) => b.role)),
      }),
    );
    return file;
  }

  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      await this.#started?.catch(() => undefined);
      for (const t of this.#timers.values()) clearTimeout(t);
      await Promise.allSettled([this.#worker?.close(), this.#consumer?.stop()]);
      await Promise.allSettled([...this.#writing.values()]);
    })();
    return this.#stopped;
  }
}
