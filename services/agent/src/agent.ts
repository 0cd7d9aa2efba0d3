// AgentService: one generic worker specialised by ROLE (ARCHITECTURE §1). Consumes
// `agent.<role>` with the role's concurrency and crash-recovery timings from config.
import { type ChatModel, type RetryOptions, UsageRecorder, withUsage } from '@nightshift/llm';
import { isWorkerRole, NightshiftError, WORKER_ROLES, type WorkerRole } from '@nightshift/protocol';
import { type Bus, type Consumer, QUEUE_NAMES } from '@nightshift/redis';
import { Lifecycle, type Logger, type Service, throttledErrorLog } from '@nightshift/runtime';
import { type ConnectionOptions, Worker } from 'bullmq';
import { type AgentJobResult, createRequestProcessor } from './handle-request.js';
import type { AgentToolOptions } from './tool-session.js';

export interface AgentServiceOptions {
  role: WorkerRole;
  /** The bus: publish, dead-letter, and its command connection (guards, heartbeats). */
  bus: Bus;
  /** For the BullMQ Worker: an ioredis client made with `maxRetriesPerRequest: null`. */
  connection: ConnectionOptions;
  model: ChatModel;
  logger: Logger;
  /** config.roles[role]. */
  timeoutSeconds: number;
  /** subagents.runTimeoutSeconds: one task's cap across all its attempts (see handle-request). */
  runTimeoutSeconds?: number;
  concurrency: number;
  llmPriority: number;
  /** config.queues (REFERENCE: BullMQ's defaults make crash recovery take a minute). */
  lockDurationMs: number;
  stalledIntervalMs: number;
  maxStalledCount: number;
  /** config.queues.rateLimitDelayMs: how soon a worker held back by a circuit's trial gate asks again. */
  rateLimitDelayMs?: number;
  retry?: RetryOptions;
  /** The role's tools (config.tools and the role table); absent = the model only talks. */
  tools?: AgentToolOptions;
}

/** Refuses director/scribe (their own services) and anything else with a clear message. */
export function assertWorkerRole(role: string | undefined): WorkerRole {
  if (isWorkerRole(role)) return role;
  const why =
    role === undefined
      ? 'ROLE is not set'
      : role === 'director' || role === 'scribe'
        ? `ROLE=${role} runs as its own service (services/${role}), not as a generic agent`
        : `ROLE=${role} is not a worker role`;
  throw new NightshiftError('AGENT_ROLE_INVALID', `${why}; expected one of ${WORKER_ROLES.join(', ')}`, {
    category: 'fatal',
  });
}

export class AgentService implements Service {
  readonly name: string;
  readonly usage = new UsageRecorder();
  readonly #opts: AgentServiceOptions;
  readonly #life: Lifecycle;
  #worker: Worker<unknown, AgentJobResult> | undefined;
  #active = 0;
  #completed = 0;
  #failed = 0;
  #refusals = 0;
  #inbox: Consumer | undefined;
  #inboxRead = 0;
  /** The newest DECISION per run heard on the inbox (bounded: the oldest run is forgotten first). */
  readonly #decisions = new Map<string, string>();

  constructor(options: AgentServiceOptions) {
    this.#opts = { ...options, role: assertWorkerRole(options.role) };
    this.name = `agent.${options.role}`;
    this.#life = new Lifecycle(
      this.name,
      () => this.#start(),
      () => this.#stop(),
    );
  }

  start(): Promise<void> {
    return this.#life.start();
  }

  stop(): Promise<void> {
    return this.#life.stop();
  }

  /** For heartbeats and health: what this process is doing. */
  get stats(): {
    running: boolean;
    active: number;
    completed: number;
    failed: number;
    refusals: number;
    inbox: number;
  } {
    return {
      running: this.#worker?.isRunning() ?? false,
      active: this.#active,
      completed: this.#completed,
      failed: this.#failed,
      // Tool calls refused (permission or sandbox): a model testing the fences shows up here.
      refusals: this.#refusals,
      // Entries read (and acknowledged) from bus:to:<role> and bus:to:ALL.
      inbox: this.#inboxRead,
    };
  }

  /** The newest DECISION the Director broadcast for this run, as heard on the inbox. */
  latestDecision(runId: string): string | undefined {
    return this.#decisions.get(runId);
  }

  async #start(): Promise<void> {
    const o = this.#opts;
    const queueName = QUEUE_NAMES.agent(o.role);
    const processor = createRequestProcessor({
      role: o.role,
      bus: o.bus,
      model: withUsage(o.model, this.usage),
      timeoutMs: o.timeoutSeconds * 1000,
      ...(o.runTimeoutSeconds === undefined ? {} : { runTimeoutMs: o.runTimeoutSeconds * 1000 }),
      llmPriority: o.llmPriority,
      logger: o.logger,
      queueName,
      ...(o.retry ? { retry: o.retry } : {}),
      ...(o.tools ? { tools: o.tools } : {}),
      onRefusal: () => {
        this.#refusals++;
      },
    });
    const worker = new Worker<unknown, AgentJobResult>(
      queueName,
      async (job, token, signal) => {
        this.#active++;
        try {
          return await processor(job, token, signal);
        } finally {
          this.#active--;
        }
      },
      {
        connection: o.connection,
        prefix: o.bus.keys.prefix,
        concurrency: o.concurrency,
        lockDuration: o.lockDurationMs,
        stalledInterval: o.stalledIntervalMs,
        maxStalledCount: o.maxStalledCount,
        ...(o.rateLimitDelayMs === undefined ? {} : { maximumRateLimitDelay: o.rateLimitDelayMs }),
      },
    );
    worker.on('error', throttledErrorLog(o.logger, 'agent worker error'));
    worker.on('completed', () => this.#completed++);
    worker.on('failed', () => this.#failed++);
    worker.on('stalled', (jobId) =>
      o.logger.warn({ jobId }, 'job stalled (its worker died?); it runs again'),
    );
    this.#worker = worker;
    // The role's inbox and ALL: work arrives as jobs, but STATUS/DECISION/RESPONSE addressed to
    // this role land here. Reading them keeps the inbox drained (a poison entry is dead-lettered
    // by the bus, never left pending) and lets the agent know the Director's latest decision.
    this.#inbox = o.bus.consume(o.role, async (message) => {
      this.#inboxRead++;
      if (message.type === 'DECISION') {
        this.#decisions.delete(message.runId);
        this.#decisions.set(message.runId, message.content);
        if (this.#decisions.size > 100) this.#decisions.delete(this.#decisions.keys().next().value ?? '');
      }
      o.logger.debug({ from: message.from, type: message.type, runId: message.runId }, 'inbox message');
    });
    await Promise.all([worker.waitUntilReady(), this.#inbox.ready]);
    o.logger.info(
      { queue: queueName, concurrency: o.concurrency, timeoutSeconds: o.timeoutSeconds, model: o.model.name },
      'agent ready',
    );
  }

  /** worker.close() lets running jobs finish; the caller's grace timeout bounds it (runtime). */
  async #stop(): Promise<void> {
    await Promise.all([this.#worker?.close(), this.#inbox?.stop()]);
  }
}
