// The Director service: one active per deployment (an ownership-checked lease); spares wait and
// take over within a lease TTL if the leader dies. The leader works queue `runs`, listens on its
// inbox, and ticks every open run so timeouts and human answers are noticed without a message.
import type { Message } from '@nightshift/protocol';
import {
  type Bus,
  type Consumer,
  inboxCheck,
  instanceToken,
  type Keys,
  Leadership,
  QUEUE_NAMES,
  type RedisClient,
  type RunStore,
  thisProcess,
} from '@nightshift/redis';
import type { Logger, Service } from '@nightshift/runtime';
import { type ConnectionOptions, Worker } from 'bullmq';
import type { InboxAwaiter } from './debate.js';
import type { RunDriver } from './driver.js';
import { createIntake, type IntakeOptions } from './intake.js';

export interface DirectorServiceOptions {
  redis: RedisClient;
  /** A connection for the BullMQ worker (maxRetriesPerRequest: null). */
  connection: ConnectionOptions;
  keys: Keys;
  bus: Bus;
  store: RunStore;
  driver: RunDriver;
  /** Delivers debate votes to the debate waiting for them. */
  awaiter?: InboxAwaiter;
  logger: Logger;
  /** Issue 18: the run's checkout, prepared when the Director takes the run (intake). */
  prepareCheckout?: IntakeOptions['prepareCheckout'];
  leaseTtlMs?: number;
  tickMs?: number;
  heartbeatMs?: number;
  heartbeatTtlMs?: number;
  instance?: string;
}

export class DirectorService implements Service {
  readonly name = 'director';
  readonly #o: DirectorServiceOptions;
  readonly #leaseTtl: number;
  readonly #leadership: Leadership;
  #worker: Worker | undefined;
  #consumer: Consumer | undefined;
  #timers: NodeJS.Timeout[] = [];
  #started: Promise<void> | undefined;
  #stopped: Promise<void> | undefined;
  #closed = new Set<string>();
  /** Runs whose timer tick is in progress; the store listing in progress. */
  readonly #ticking = new Set<string>();
  #listing = false;

  constructor(options: DirectorServiceOptions) {
    this.#o = options;
    this.#leaseTtl = options.leaseTtlMs ?? 10_000;
    this.#leadership = new Leadership({
      redis: options.redis,
      keys: options.keys,
      logger: options.logger,
      name: 'director',
      token: options.instance ?? instanceToken(),
      // Take over at once from a holder on this host that is known dead (a kill -9, a restart).
      local: thisProcess(),
      ttlMs: this.#leaseTtl,
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
    this.#started ??= this.#start();
    return this.#started;
  }

  async #start(): Promise<void> {
    const every = (ms: number, fn: () => Promise<void>) => {
      const timer = setInterval(
        () => void fn().catch((err: unknown) => this.#o.logger.error({ err }, 'director timer failed')),
        ms,
      );
      this.#timers.push(timer);
    };
    await this.#leadership.start();
    every(this.#o.tickMs ?? 1000, () => this.#tickAll());
  }

  async #lead(): Promise<void> {
    const { keys, driver, bus, logger } = this.#o;
    const intake = createIntake({
      store: this.#o.store,
      trust: async () => {
        const raw = await this.#o.redis.hgetall(keys.trust);
        return Object.fromEntries(Object.entries(raw).map(([k, v]) => [k, Number(v)]));
      },
      deadLetter: (input) => bus.deadLetter(input),
      ...(this.#o.prepareCheckout ? { prepareCheckout: this.#o.prepareCheckout } : {}),
      onCreated: (runId) =>
        void driver.tick(runId).catch((err: unknown) => logger.error({ err, runId }, 'tick failed')),
    });
    this.#worker = new Worker(QUEUE_NAMES.runs, intake, {
      connection: this.#o.connection,
      prefix: keys.prefix,
      concurrency: 4,
    });
    this.#worker.on('error', (err) => logger.error({ err }, 'runs worker error'));
    this.#worker.on('failed', (job, err) =>
      logger.warn({ jobId: job?.id, err: err.message }, 'run job refused'),
    );
    // Only the lease holder consumes, so whatever a dead leader left pending belongs to us: claim
    // it after one lease TTL instead of the bus's default idle time (a minute) — takeover in seconds.
    this.#consumer = bus.consumeStream({
      stream: [keys.busTo('director'), keys.busTo('ALL')],
      group: 'director',
      handler: (message) => this.#onMessage(message),
      claimIdleMs: this.#leaseTtl,
      // A message to another role written straight into our inbox is dead-lettered, not acted on.
      accept: inboxCheck(keys, 'director'),
    });
    await this.#tickAll();
  }

  /**
   * Redis came back after a drop. A crash with `appendfsync everysec` can lose the last second of
   * writes — a run's `run.finished` among them — while ioredis re-sends what was in flight, so
   * Redis may now hold a run this process remembers as over. Forget what it remembers: the next
   * tick reads every open run from the log again, and a run whose end was lost is driven on
   * (seen in the chaos redis-restart scenario: the run stayed "running" with nobody ticking it).
   */
  redisReconnected(): void {
    this.#closed.clear();
  }

  async #onMessage(message: Message): Promise<void> {
    if (message.from === 'director') return; // our own broadcasts
    const { driver } = this.#o;
    // Votes of a review debate are awaited by the debate itself, not recorded as steps.
    if (message.type === 'RESPONSE' && this.#o.awaiter?.deliver(message)) return;
    if (message.type === 'RESPONSE' && message.inReplyTo) return driver.onResponse(message);
    if (message.type === 'ALERT' && message.inReplyTo) return driver.onFailure(message);
    if (message.type === 'DECISION' || message.type === 'ALERT') {
      this.#closed.delete(message.runId);
      // Not awaited: a tick may be in a debate that waits for this very inbox.
      void driver.tick(message.runId).catch((err: unknown) => this.#o.logger.error({ err }, 'tick failed'));
    }
  }

  /**
   * Ticks every run that is not over; finished runs are remembered and skipped. Runs advance
   * independently: a run whose tick is still going (a long debate, a slow model) is skipped this
   * round, and does not hold up the others' next rounds.
   */
  async #tickAll(): Promise<void> {
    if (!this.#leadership.isLeader || this.#listing) return;
    this.#listing = true;
    let open: string[];
    try {
      open = (await this.#o.store.list(10_000)).filter((runId) => !this.#closed.has(runId));
    } finally {
      this.#listing = false;
    }
    await Promise.allSettled(
      open.filter((runId) => !this.#ticking.has(runId)).map((runId) => this.#tickOne(runId)),
    );
  }

  async #tickOne(runId: string): Promise<void> {
    this.#ticking.add(runId);
    try {
      await this.#o.driver.tick(runId);
      const { state } = await this.#o.driver.load(runId);
      if (['finished', 'aborted', 'failed'].includes(state.status)) this.#closed.add(runId);
    } finally {
      this.#ticking.delete(runId);
    }
  }

  async #standDown(): Promise<void> {
    const worker = this.#worker;
    const consumer = this.#consumer;
    this.#worker = undefined;
    this.#consumer = undefined;
    await Promise.allSettled([worker?.close(), consumer?.stop()]);
  }

  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      await this.#started?.catch(() => undefined);
      for (const t of this.#timers) clearInterval(t);
      await this.#leadership.stop();
    })();
    return this.#stopped;
  }
}
