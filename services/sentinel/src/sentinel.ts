// The Sentinel service: an independent watchdog, one active per deployment (the `sentinel` lease,
// through the same Leadership as the Director and the Scribe), so it still works when the Director
// is the one that is stuck (issue 9). The leader reads bus:log (consumer group `sentinel`), runs
// the circuit breakers, and judges the deployment every `intervalMs`.
import { freemem, totalmem } from 'node:os';
import {
  DEFAULT_DETECTION_THRESHOLDS,
  type DetectionThresholds,
  type EscalationConfig,
  type RunPhase,
} from '@nightshift/core';
import {
  type AlertStore,
  type Bus,
  type Consumer,
  createAlertStore,
  instanceToken,
  type Keys,
  Leadership,
  QUEUE_NAMES,
  type RedisClient,
  type RunStore,
  thisProcess,
} from '@nightshift/redis';
import type { Logger, Service } from '@nightshift/runtime';
import { type ConnectionOptions, Queue } from 'bullmq';
import type { WebhookConfig } from './act.js';
import { AgentWindow } from './agents.js';
import { type CircuitConfig, DEFAULT_CIRCUIT_CONFIG } from './circuit.js';
import { CircuitBreakers } from './circuits.js';
import { Engine, type RoundReport } from './engine.js';
import { Gatherer, type MemoryInfo } from './gather.js';
import { QueueHolds } from './holds.js';
import { WORKER_QUEUES } from './planner.js';
import { RunCache } from './runs.js';

export interface SentinelServiceOptions {
  /** Command connection (non-blocking). */
  redis: RedisClient;
  /** For BullMQ QueueEvents (blocking): an ioredis client with `maxRetriesPerRequest: null`. */
  connection: ConnectionOptions;
  keys: Keys;
  bus: Bus;
  store: RunStore;
  alerts?: AlertStore;
  logger: Logger;
  memoryDir: string;
  thresholds?: Partial<DetectionThresholds>;
  /** BullMQ priority of background calls on `llm` (config.roles.scribe.bullmqPriority); see gather.ts. */
  backgroundPriority?: number;
  escalation?: EscalationConfig;
  phaseExpectedMs?: Readonly<Record<RunPhase, number>>;
  webhook?: WebhookConfig;
  /** How often the deployment is judged (default 2000 ms). */
  intervalMs?: number;
  /** The clock (ms); tests fake it to make an LLM call or a phase look slow. */
  now?: () => number;
  /** Host memory; default os.totalmem/freemem. `null` = do not watch memory. */
  memory?: (() => MemoryInfo) | null;
  circuit?: Partial<CircuitConfig>;
  l2GraceMs?: number;
  leaseTtlMs?: number;
  heartbeatMs?: number;
  heartbeatTtlMs?: number;
  instance?: string;
  /** bus:log entries replayed at takeover to rebuild the agents' recent calls (default 2000). */
  replayEntries?: number;
}

export class SentinelService implements Service {
  readonly name = 'sentinel';
  readonly alerts: AlertStore;
  readonly holds: QueueHolds;
  readonly #o: SentinelServiceOptions;
  readonly #token: string;
  readonly #leadership: Leadership;
  readonly #now: () => number;
  readonly #queues = new Map<string, Queue>();
  readonly #window = new AgentWindow();
  readonly #engine: Engine;
  #circuits: CircuitBreakers | undefined;
  #consumer: Consumer | undefined;
  /** Following the log and the queues' events (set up once per leadership). */
  #watching: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #started: Promise<void> | undefined;
  #stopped: Promise<void> | undefined;
  #inFlight: Promise<RoundReport | undefined> | undefined;
  #stopping = false;
  #rounds = 0;
  #last: RoundReport | undefined;

  constructor(options: SentinelServiceOptions) {
    this.#o = options;
    this.#token = options.instance ?? instanceToken();
    this.#leadership = new Leadership({
      redis: options.redis,
      keys: options.keys,
      logger: options.logger,
      name: 'sentinel',
      token: this.#token,
      // Take over at once from a holder on this host that is known dead (a kill -9, a restart).
      local: thisProcess(),
      ttlMs: options.leaseTtlMs ?? 10_000,
      heartbeatMs: options.heartbeatMs ?? 5000,
      heartbeatTtlMs: options.heartbeatTtlMs ?? 15_000,
      // A new leader judges at once rather than one interval later. Not awaited: Leadership
      // renews no lease while lead() runs, and a round may wait on a slow webhook.
      lead: async () => void this.tick(),
      standDown: () => this.#standDown(),
      // The team view and the e2e suite read the leader's progress from its heartbeat.
      info: () => ({ rounds: this.#rounds, raised: this.#last?.raised.length ?? 0 }),
    });
    this.#now = options.now ?? Date.now;
    this.alerts = options.alerts ?? createAlertStore(options.redis, options.keys);
    const queue = (name: string) => this.#queue(name);
    this.holds = new QueueHolds(options.redis, options.keys, queue);
    const memory =
      options.memory === null
        ? undefined
        : (options.memory ?? (() => ({ total: totalmem(), free: freemem() })));
    const runs = new RunCache(options.store, options.logger);
    this.#engine = new Engine({
      redis: options.redis,
      keys: options.keys,
      bus: options.bus,
      runStore: options.store,
      holds: this.holds,
      logger: options.logger,
      memoryDir: options.memoryDir,
      now: this.#now,
      alerts: this.alerts,
      runs,
      window: this.#window,
      thresholds: { ...DEFAULT_DETECTION_THRESHOLDS, ...options.thresholds },
      gatherer: new Gatherer({
        redis: options.redis,
        keys: options.keys,
        runs,
        queue,
        agentQueues: WORKER_QUEUES,
        llmQueue: QUEUE_NAMES.llm,
        ...(options.backgroundPriority === undefined
          ? {}
          : { backgroundPriority: options.backgroundPriority }),
        ...(memory === undefined ? {} : { memory }),
      }),
      circuits: () => this.#circuits?.snapshot() ?? {},
      ...(options.webhook === undefined ? {} : { webhook: options.webhook }),
      ...(options.escalation === undefined ? {} : { escalation: options.escalation }),
      ...(options.phaseExpectedMs === undefined ? {} : { phaseExpectedMs: options.phaseExpectedMs }),
      ...(options.l2GraceMs === undefined ? {} : { l2GraceMs: options.l2GraceMs }),
    });
  }

  get isLeader(): boolean {
    return this.#leadership.isLeader;
  }

  /** Completed rounds (tests wait for a few to pass). */
  get rounds(): number {
    return this.#rounds;
  }

  get lastRound(): RoundReport | undefined {
    return this.#last;
  }

  #queue(name: string): Queue {
    let queue = this.#queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.#o.redis, prefix: this.#o.keys.prefix });
      queue.on('error', (err) => this.#o.logger.warn({ err: err.message, queue: name }, 'queue error'));
      this.#queues.set(name, queue);
    }
    return queue;
  }

  start(): Promise<void> {
    this.#started ??= this.#start();
    return this.#started;
  }

  async #start(): Promise<void> {
    await this.#leadership.start();
    // tick() logs its own failures; the timer skips a beat instead of queueing rounds.
    this.#timer = setInterval(() => {
      if (!this.#inFlight) void this.tick();
    }, this.#o.intervalMs ?? 2000);
  }

  /** Follows the log and the queues' events; a failed start is undone and tried again next round. */
  #watch(): Promise<void> {
    this.#watching ??= this.#startWatching().catch(async (error: unknown) => {
      await this.#unwatch();
      throw error;
    });
    return this.#watching;
  }

  async #startWatching(): Promise<void> {
    const { bus, keys, logger } = this.#o;
    // Rebuild the agents' recent calls from the log's tail, then follow it with the group.
    const tail = await bus.readLog({ reverse: true, count: this.#o.replayEntries ?? 2000 });
    for (const entry of tail.reverse()) if (entry.message) this.#window.record(entry.id, entry.message);
    this.#consumer = bus.consumeStream({
      stream: keys.busLog,
      group: 'sentinel',
      // A new group starts right after the replayed tail (nothing missed in between); an existing
      // one continues where the last Sentinel left it (the window skips what it already has).
      startId: tail.at(-1)?.id ?? '0',
      handler: async (message, meta) => {
        this.#window.record(meta.entryId, message);
        await this.#engine.onMessage(message);
      },
    });
    this.#circuits = new CircuitBreakers({
      redis: this.#o.redis,
      keys,
      connection: this.#o.connection,
      holds: this.holds,
      queue: (name) => this.#queue(name),
      bus,
      logger,
      now: this.#now,
      config: { ...DEFAULT_CIRCUIT_CONFIG, ...this.#o.circuit },
      queues: [...WORKER_QUEUES, QUEUE_NAMES.llm],
    });
    await Promise.all([this.#consumer.ready, this.#circuits.start()]);
  }

  async #unwatch(): Promise<void> {
    const consumer = this.#consumer;
    const circuits = this.#circuits;
    this.#consumer = undefined;
    this.#circuits = undefined;
    this.#watching = undefined;
    await Promise.allSettled([consumer?.stop(), circuits?.stop()]);
  }

  /**
   * One round now, after the one in flight (if any). Undefined when not leading or the round
   * failed (it is logged; the next round tries again). The timer skips a beat instead of queueing.
   */
  async tick(): Promise<RoundReport | undefined> {
    while (this.#inFlight) await this.#inFlight;
    if (!this.isLeader || this.#stopping) return undefined;
    const round = this.#round().finally(() => {
      this.#inFlight = undefined;
    });
    this.#inFlight = round;
    return round;
  }

  async #round(): Promise<RoundReport | undefined> {
    try {
      await this.#watch();
      await this.#circuits?.tick();
      this.#last = await this.#engine.round();
      this.#rounds++;
    } catch (error) {
      this.#o.logger.error({ err: error }, 'sentinel round failed; trying again next round');
      return undefined;
    }
    await this.#beat();
    return this.#last;
  }

  /** Beats at once after a round, so its progress shows without waiting for the interval. */
  async #beat(): Promise<void> {
    if (!this.isLeader) return;
    await this.#leadership.beat().catch((err: unknown) => this.#o.logger.warn({ err }, 'heartbeat failed'));
  }

  /** Lost (or gave up) the lease: the round in flight finishes, then nothing is watched. */
  async #standDown(): Promise<void> {
    await this.#inFlight;
    await this.#unwatch();
  }

  stop(): Promise<void> {
    this.#stopped ??= (async () => {
      await this.#started?.catch(() => undefined);
      this.#stopping = true;
      clearInterval(this.#timer);
      await this.#inFlight;
      // Stands down (nothing watched any more), releases the lease, clears the heartbeat.
      await this.#leadership.stop();
      await Promise.allSettled([...this.#queues.values()].map((q) => q.close()));
    })();
    return this.#stopped;
  }
}
