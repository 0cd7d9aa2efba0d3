// Circuit breakers per agent queue and for the LLM gateway (issue 9 §4): BullMQ job events drive
// the pure state machine in circuit.ts; opening pauses the queue (a hold), half-opening admits one
// trial job. State goes to the `circuit` hash (dashboard) and a STATUS on the bus.
import { newId } from '@nightshift/protocol';
import type { Bus, Keys, RedisClient } from '@nightshift/redis';
import type { Logger } from '@nightshift/runtime';
import { type ConnectionOptions, type Queue, QueueEvents } from 'bullmq';
import {
  type Circuit,
  type CircuitConfig,
  type CircuitEvent,
  CLOSED,
  circuitsKey,
  coolDownOf,
  parseCircuit,
  stepCircuit,
} from './circuit.js';
import { classifyFailure } from './failures.js';
import type { QueueHolds } from './holds.js';
import { DEPLOYMENT } from './planner.js';

export const CIRCUIT_HOLDER = 'circuit';

export interface CircuitBreakersOptions {
  redis: RedisClient;
  keys: Keys;
  /** For QueueEvents (blocking reads; BullMQ duplicates an ioredis instance per QueueEvents). */
  connection: ConnectionOptions;
  holds: QueueHolds;
  /** The shared Queue objects (the trial gate and job look-ups). */
  queue: (name: string) => Queue;
  bus: Pick<Bus, 'publish'>;
  logger: Logger;
  now: () => number;
  config: CircuitConfig;
  queues: readonly string[];
}

/** What a final failure tells the circuit: only the provider's failures count (failures.ts). */
export function failureEvent(jobId: string, failedReason: string | undefined, at: number): CircuitEvent {
  return classifyFailure(failedReason) === 'provider'
    ? { type: 'failure', jobId, at }
    : { type: 'inconclusive', jobId, at };
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
  /** Stood down: events still in flight from QueueEvents change nothing (the next leader decides). */
  #stopped = false;

  constructor(options: CircuitBreakersOptions) {
    this.#o = options;
  }

  get hashKey(): string {
    return circuitsKey(this.#o.keys);
  }

  async start(): Promise<void> {
    const stored = await this.#o.redis.hgetall(this.hashKey);
    for (const queue of this.#o.queues) this.#circuits.set(queue, parseCircuit(stored[queue]));
    for (const queue of this.#o.queues) {
      // Read from the events stream's last entry as of now, not from `$` at the moment the blocking
      // read first runs: on a loaded machine that read can start after jobs have already failed, and
      // those failures would never count (the circuit breaker e2e test saw exactly this).
      const [last] = await this.#o.redis.xrevrange(
        `${this.#o.keys.prefix}:${queue}:events`,
        '+',
        '-',
        'COUNT',
        1,
      );
      const events = new QueueEvents(queue, {
        connection: this.#o.connection,
        prefix: this.#o.keys.prefix,
        lastEventId: last?.[0] ?? '0-0',
      });
      events.on('error', (err) => this.#o.logger.warn({ err: err.message, queue }, 'queue events error'));
      const at = () => this.#o.now();
      events.on('active', ({ jobId }) => this.#enqueue(queue, { type: 'started', jobId, at: at() }));
      events.on('completed', ({ jobId }) => this.#enqueue(queue, { type: 'success', jobId, at: at() }));
      // Only final failures reach 'failed' (a retried attempt emits 'delayed'/'waiting').
      events.on('failed', ({ jobId, failedReason }) => {
        const event = failureEvent(jobId, failedReason, at());
        if (event.type !== 'failure')
          this.#o.logger.debug(
            { queue, jobId, failedReason },
            'job failed, not for the provider; not counted',
          );
        this.#enqueue(queue, event);
      });
      events.on('stalled', ({ jobId }) => {
        this.#stalls.set(queue, (this.#stalls.get(queue) ?? 0) + 1);
        this.#o.logger.warn(
          { queue, jobId },
          'job stalled (its worker died or blocked); BullMQ runs it again',
        );
        // A stalled trial says nothing about the provider: admit the next one (it may be this job again).
        this.#enqueue(queue, { type: 'inconclusive', jobId, at: at() });
      });
      this.#events.push(events);
    }
    await Promise.all(this.#events.map((e) => e.waitUntilReady()));
  }

  #enqueue(queue: string, event: CircuitEvent): void {
    if (this.#stopped) return;
    const previous = this.#chains.get(queue) ?? Promise.resolve();
    const next = previous
      .then(() => this.#apply(queue, event))
      .catch((err: unknown) => this.#o.logger.error({ err, queue }, 'circuit update failed'));
    this.#chains.set(queue, next);
  }

  /**
   * Time passes for every circuit (open ones past their cool-down half-open), and a half-open
   * circuit's trial is looked up, in case its outcome was not heard (a Sentinel taking over
   * mid-trial, an event lost on reconnect) or it went back to wait (a retried attempt, a stall),
   * where the gate would hold it until the trial timeout.
   */
  async tick(): Promise<void> {
    const at = this.#o.now();
    for (const queue of this.#o.queues) {
      this.#enqueue(queue, { type: 'tick', at });
      const trial = this.#circuits.get(queue)?.trialJobId;
      if (trial !== undefined) {
        const event = await this.#trialOutcome(queue, trial, at);
        if (event) this.#enqueue(queue, event);
      }
    }
    await Promise.all(this.#chains.values());
  }

  async #trialOutcome(queue: string, jobId: string, at: number): Promise<CircuitEvent | undefined> {
    const job = await this.#o.queue(queue).getJob(jobId);
    // Removed on completion (or by hand): nothing known; the next job is the trial.
    if (!job) return { type: 'inconclusive', jobId, at };
    const state = await job.getState();
    if (state === 'active') return undefined;
    if (state === 'completed') return { type: 'success', jobId, at };
    // Failed for good, or back in the queue after a failed attempt: the last attempt's reason decides.
    return failureEvent(jobId, job.failedReason, at);
  }

  /**
   * The trial gate: BullMQ's global rate limit (queue meta `max`/`duration`) at one job per trial
   * timeout. It is checked and counted inside the Lua script that moves a job to active, so any
   * number of idle workers start exactly one job between them; that is why it is used here.
   * Resuming and pausing again on the first 'active' event races them (each worker's fetch lands
   * before the Sentinel hears of the first); global concurrency 1 lets a second job start the
   * moment the trial ends, and would overwrite the gateway's slot limit on `llm`; a SET NX token
   * would need every worker to check it. Nothing else in Nightshift sets a global rate limit.
   * Cost: workers the limiter turned away re-poll after at most 30 s (BullMQ's
   * maximumRateLimitDelay), so after closing a queue may take that long to run at full speed.
   */
  async #gate(queue: string, to: 'one' | 'next' | 'off'): Promise<void> {
    const q = this.#o.queue(queue);
    if (to === 'one') await q.setGlobalRateLimit(1, this.#o.config.trialTimeoutMs);
    if (to === 'off') await q.removeGlobalRateLimit();
    // The counter of jobs started in this window: cleared, the gate admits (another) one.
    await q.removeRateLimitKey();
  }

  async #apply(queue: string, event: CircuitEvent): Promise<void> {
    const current = this.#circuits.get(queue) ?? CLOSED;
    const step = stepCircuit(current, event, this.#o.config);
    if (step.circuit === current) return;
    this.#circuits.set(queue, step.circuit);
    switch (step.effect) {
      case 'pause': // paused first, so no job starts between dropping the gate and the pause
        await this.#o.holds.hold(queue, CIRCUIT_HOLDER);
        await this.#gate(queue, 'off');
        break;
      case 'resume': // gated first, so the resumed queue starts one job only
        await this.#gate(queue, 'one');
        await this.#o.holds.release(queue, CIRCUIT_HOLDER);
        break;
      case 'admit':
        this.#o.logger.info({ queue }, 'the trial job told nothing about the provider; admitting the next');
        await this.#gate(queue, 'next');
        break;
      case 'close':
        await this.#gate(queue, 'off');
        break;
      case undefined:
        break;
    }
    await this.#o.redis.hset(this.hashKey, queue, JSON.stringify({ ...step.circuit, queue }));
    if (step.from !== step.circuit.state) await this.#announce(queue, step.from, step.circuit);
  }

  async #announce(queue: string, from: string, circuit: Circuit): Promise<void> {
    const label = circuitLabel(queue);
    const { failureThreshold } = this.#o.config;
    const coolDownMs = coolDownOf(circuit, this.#o.config);
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
    this.#stopped = true;
    await Promise.allSettled(this.#chains.values());
    await Promise.allSettled(this.#events.map((e) => e.close()));
    this.#events.length = 0;
  }
}
