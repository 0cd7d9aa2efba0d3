// Circuit breakers per agent queue and for the LLM gateway (issue 9 §4): BullMQ 'failed' and
// 'completed' events drive the pure state machine in circuit.ts; opening pauses the queue (a hold),
// half-opening lets it go. State goes to the `circuit` hash (dashboard) and a STATUS on the bus.
import { newId } from '@nightshift/protocol';
import type { Bus, Keys, RedisClient } from '@nightshift/redis';
import type { Logger } from '@nightshift/runtime';
import { type ConnectionOptions, QueueEvents } from 'bullmq';
import {
  type Circuit,
  type CircuitConfig,
  type CircuitEvent,
  CLOSED,
  parseCircuit,
  stepCircuit,
} from './circuit.js';
import type { QueueHolds } from './holds.js';
import { DEPLOYMENT } from './planner.js';

export const CIRCUIT_HOLDER = 'circuit';

export interface CircuitBreakersOptions {
  redis: RedisClient;
  keys: Keys;
  /** For QueueEvents (blocking reads; BullMQ duplicates an ioredis instance per QueueEvents). */
  connection: ConnectionOptions;
  holds: QueueHolds;
  bus: Pick<Bus, 'publish'>;
  logger: Logger;
  now: () => number;
  config: CircuitConfig;
  queues: readonly string[];
}

/** `builder` for agent.builder, `llm-gateway` for llm: how people name them. */
export function circuitLabel(queue: string): string {
  return queue === 'llm' ? 'llm-gateway' : queue.replace(/^agent\./, '');
}

export class CircuitBreakers {
  readonly #o: CircuitBreakersOptions;
  readonly #circuits = new Map<string, Circuit>();
  readonly #stalls = new Map<string, number>();
  readonly #events: QueueEvents[] = [];
  /** One event at a time per queue, in arrival order. */
  readonly #chains = new Map<string, Promise<void>>();

  constructor(options: CircuitBreakersOptions) {
    this.#o = options;
  }

  get hashKey(): string {
    return this.#o.keys.custom('circuit');
  }

  async start(): Promise<void> {
    const stored = await this.#o.redis.hgetall(this.hashKey);
    for (const queue of this.#o.queues) this.#circuits.set(queue, parseCircuit(stored[queue]));
    for (const queue of this.#o.queues) {
      const events = new QueueEvents(queue, { connection: this.#o.connection, prefix: this.#o.keys.prefix });
      events.on('error', (err) => this.#o.logger.warn({ err: err.message, queue }, 'queue events error'));
      events.on('failed', () => this.#enqueue(queue, { type: 'failure', at: this.#o.now() }));
      events.on('completed', () => this.#enqueue(queue, { type: 'success', at: this.#o.now() }));
      events.on('stalled', ({ jobId }) => {
        this.#stalls.set(queue, (this.#stalls.get(queue) ?? 0) + 1);
        this.#o.logger.warn(
          { queue, jobId },
          'job stalled (its worker died or blocked); BullMQ runs it again',
        );
      });
      this.#events.push(events);
    }
    await Promise.all(this.#events.map((e) => e.waitUntilReady()));
  }

  #enqueue(queue: string, event: CircuitEvent): void {
    const previous = this.#chains.get(queue) ?? Promise.resolve();
    const next = previous
      .then(() => this.#apply(queue, event))
      .catch((err: unknown) => this.#o.logger.error({ err, queue }, 'circuit update failed'));
    this.#chains.set(queue, next);
  }

  /** Time passes for every circuit (open ones past their cool-down half-open). */
  async tick(): Promise<void> {
    const at = this.#o.now();
    for (const queue of this.#o.queues) this.#enqueue(queue, { type: 'tick', at });
    await Promise.all(this.#chains.values());
  }

  async #apply(queue: string, event: CircuitEvent): Promise<void> {
    const current = this.#circuits.get(queue) ?? CLOSED;
    const step = stepCircuit(current, event, this.#o.config);
    if (step.circuit === current) return;
    this.#circuits.set(queue, step.circuit);
    if (step.effect === 'pause') await this.#o.holds.hold(queue, CIRCUIT_HOLDER);
    // Half-open resumes the whole queue and the first outcome decides; with several workers more
    // than one job may start in that moment. TODO(issue 9): admit exactly one (e.g. a rate limit).
    if (step.effect === 'resume') await this.#o.holds.release(queue, CIRCUIT_HOLDER);
    await this.#o.redis.hset(this.hashKey, queue, JSON.stringify({ ...step.circuit, queue }));
    if (step.from !== step.circuit.state) await this.#announce(queue, step.from, step.circuit);
  }

  async #announce(queue: string, from: string, circuit: Circuit): Promise<void> {
    const label = circuitLabel(queue);
    const { failureThreshold, coolDownMs } = this.#o.config;
    const what =
      circuit.state === 'open'
        ? `circuit open for ${label}: ${from === 'half-open' ? 'the trial job failed' : `${failureThreshold} consecutive failures`} on ${queue}; queue paused, trial in ${Math.round(coolDownMs / 1000)} s`
        : circuit.state === 'half-open'
          ? `circuit half-open for ${label}: ${queue} resumed for one trial job`
          : `circuit closed for ${label}: the trial job succeeded; ${queue} runs normally`;
    const log = circuit.state === 'open' ? 'warn' : 'info';
    this.#o.logger[log]({ queue, circuit: circuit.state, from }, what);
    await this.#o.bus.publish({
      id: newId('msg'),
      runId: DEPLOYMENT,
      from: 'sentinel',
      to: 'ALL',
      type: 'STATUS',
      priority: circuit.state === 'open' ? 'HIGH' : 'NORMAL',
      timestamp: new Date(this.#o.now()).toISOString(),
      content: what,
      context: `circuit: ${JSON.stringify({ queue, state: circuit.state, from })}`,
    });
  }

  snapshot(): Record<string, Circuit & { stalls: number }> {
    return Object.fromEntries(
      [...this.#circuits].map(([queue, c]) => [queue, { ...c, stalls: this.#stalls.get(queue) ?? 0 }]),
    );
  }

  async stop(): Promise<void> {
    await Promise.allSettled(this.#chains.values());
    await Promise.allSettled(this.#events.map((e) => e.close()));
    this.#events.length = 0;
  }
}
