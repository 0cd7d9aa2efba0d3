// LlmGatewayService: the one caller of Ollama. Works queue `llm` under a BullMQ global
// concurrency of OLLAMA_NUM_PARALLEL, so the limit holds however many gateways run (ARCHITECTURE §1).

import type { ChatModel } from '@nightshift/llm';
import {
  createLlmProcessor,
  LLM_QUEUE,
  type LlmJobData,
  type LlmJobResult,
  ModelNotFound,
  UsageRecorder,
  withUsage,
} from '@nightshift/llm';
import { NightshiftError } from '@nightshift/protocol';
import { type DeadLetterQueue, deadLetterJobId, openDeadLetterQueue } from '@nightshift/redis';
import type { Logger, Service } from '@nightshift/runtime';
import { Lifecycle, throttledErrorLog } from '@nightshift/runtime';
import { type ConnectionOptions, Queue, Worker } from 'bullmq';

/** The provider the gateway calls; `checkModel` (Ollama's /api/tags) is asked once at start. */
export interface GatewayModel extends ChatModel {
  checkModel?(signal?: AbortSignal): Promise<string[]>;
}

export interface LlmGatewayOptions {
  /** ioredis client made with `maxRetriesPerRequest: null` (Workers block); owned by the caller. */
  connection: ConnectionOptions;
  /** BullMQ prefix = keys.prefix. */
  prefix: string;
  model: GatewayModel;
  /** OLLAMA_NUM_PARALLEL: the global limit, and this worker's own concurrency. */
  numParallel: number;
  logger: Logger;
  /** config.queues: how fast a job held by a dead gateway is taken over. */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  maxStalledCount?: number;
  /** config.queues.rateLimitDelayMs: how soon a worker held back by a circuit's trial gate asks again. */
  rateLimitDelayMs?: number;
  queueName?: string;
  /**
   * Called once per finished call (the run's LLM call log, read by the morning report for slot
   * occupancy, waits and latency per role). Must not throw; failures only cost the log entry.
   */
  recordCall?: (call: LlmCallRecord) => Promise<void>;
  /** OLLAMA_THINKING_TRACE_CHARS: how much of each call's reasoning reaches the call log (0 = none). */
  thinkingTraceChars?: number;
}

/** One finished model call, as the morning report charts it. */
export interface LlmCallRecord {
  runId: string;
  /** The `llm` job that made the call: the run archive (issue 21 §2) finds the run's jobs by it. */
  jobId?: string;
  role: string;
  enqueuedAt: number;
  startedAt: number;
  endedAt: number;
  inputTokens: number;
  outputTokens: number;
  model: string;
  /** The prompt may have been cut to fit num_ctx (the report and the Sentinel count these). */
  promptCut?: boolean;
  /** Tool calls the model wrote as text instead of native calls. */
  textToolCalls?: number;
  /** The model's reasoning, only with OLLAMA_THINKING_TRACE_CHARS > 0 (cut at that length). */
  thinking?: string;
}

/** What the gateway has seen of the model's habits since it started (heartbeat info). */
export interface ModelHabits {
  calls: number;
  promptCuts: number;
  textToolCalls: number;
  thinkingChars: number;
}

export type ModelStatus =
  | { state: 'unchecked' }
  | { state: 'present'; models: string[] }
  | { state: 'missing'; message: string }
  | { state: 'unreachable'; message: string };

export class LlmGatewayService implements Service {
  readonly name = 'llm-gateway';
  /** Tokens and latency per caller role and run, for metrics. */
  readonly usage = new UsageRecorder();
  readonly #opts: LlmGatewayOptions;
  readonly #life: Lifecycle;
  #queue: Queue<LlmJobData, LlmJobResult> | undefined;
  #worker: Worker<LlmJobData, LlmJobResult> | undefined;
  #dead: DeadLetterQueue | undefined;
  #modelStatus: ModelStatus = { state: 'unchecked' };
  readonly #habits: ModelHabits = { calls: 0, promptCuts: 0, textToolCalls: 0, thinkingChars: 0 };

  constructor(options: LlmGatewayOptions) {
    if (!Number.isInteger(options.numParallel) || options.numParallel < 1) {
      throw new RangeError(`numParallel must be a positive integer (got ${options.numParallel})`);
    }
    this.#opts = options;
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

  get habits(): Readonly<ModelHabits> {
    return this.#habits;
  }

  get modelStatus(): ModelStatus {
    return this.#modelStatus;
  }

  /** For health checks: the worker is running and connected. */
  get running(): boolean {
    return this.#worker?.isRunning() ?? false;
  }

  async #start(): Promise<void> {
    const { connection, prefix, logger } = this.#opts;
    const name = this.#opts.queueName ?? LLM_QUEUE;
    const queue = new Queue<LlmJobData, LlmJobResult>(name, { connection, prefix });
    queue.on('error', throttledErrorLog(logger, 'llm queue connection error'));
    this.#queue = queue;
    // REFERENCE (BullMQ global concurrency): caps active jobs of `llm` across every worker of
    // every process. Each gateway sets it at start; with mixed settings the last start wins.
    await queue.setGlobalConcurrency(this.#opts.numParallel);
    logger.info({ queue: name, globalConcurrency: this.#opts.numParallel }, 'llm global concurrency set');
    await this.#checkModel();

    const model = withUsage(this.#opts.model, this.usage);
    const dead = openDeadLetterQueue(connection, prefix);
    this.#dead = dead;
    const processor = createLlmProcessor({
      model,
      ...(this.#opts.thinkingTraceChars ? { thinkingTraceChars: this.#opts.thinkingTraceChars } : {}),
      // A job that can never be a call fails for good and is kept in `dead-letter` with the reason.
      onInvalid: async (job, error) => {
        await dead.deadLetter({
          source: name,
          reason: error.message,
          payload: job.data,
          deliveries: job.attemptsStarted,
          id: deadLetterJobId(name, job.id),
        });
        logger.warn({ jobId: job.id, reason: error.message }, 'dead-lettered an llm job');
      },
      onFailure: (job, error) =>
        logger.warn(
          {
            jobId: job.id,
            role: job.data?.role,
            runId: job.data?.runId,
            code: error.code,
            category: error.category,
            attempt: job.attemptsMade + 1,
          },
          `llm call failed: ${error.message}`,
        ),
    });
    const worker = new Worker<LlmJobData, LlmJobResult>(name, processor, {
      connection,
      prefix,
      // Never above the global value anyway (REFERENCE); equal so one gateway can fill every slot.
      concurrency: this.#opts.numParallel,
      ...(this.#opts.lockDurationMs === undefined ? {} : { lockDuration: this.#opts.lockDurationMs }),
      ...(this.#opts.stalledIntervalMs === undefined
        ? {}
        : { stalledInterval: this.#opts.stalledIntervalMs }),
      ...(this.#opts.maxStalledCount === undefined ? {} : { maxStalledCount: this.#opts.maxStalledCount }),
      ...(this.#opts.rateLimitDelayMs === undefined
        ? {}
        : { maximumRateLimitDelay: this.#opts.rateLimitDelayMs }),
    });
    worker.on('error', throttledErrorLog(logger, 'llm worker error'));
    worker.on('failed', (job, error) => {
      if (job && job.attemptsMade >= (job.opts.attempts ?? 1)) {
        logger.error({ jobId: job.id, role: job.data?.role, reason: error.message }, 'llm call gave up');
      }
    });
    worker.on('completed', (job, result) => {
      if (!result) return;
      this.#habits.calls++;
      this.#habits.textToolCalls += result.textToolCalls ?? 0;
      this.#habits.thinkingChars += result.thinkingChars ?? 0;
      if (result.promptCut) {
        this.#habits.promptCuts++;
        // Never silence (issue 20): a cut prompt means the model answered without its instructions.
        logger.warn(
          {
            jobId: job.id,
            role: job.data?.role,
            runId: job.data?.runId,
            inputTokens: result.usage.inputTokens,
          },
          'the prompt may have been cut to fit the context window (num_ctx): raise OLLAMA_NUM_CTX or lower TOOLS_CONTEXT_BUDGET_CHARS',
        );
      }
    });
    const record = this.#opts.recordCall;
    if (record) {
      worker.on('completed', (job, result) => {
        if (!job.data?.runId || !result) return;
        const endedAt = job.finishedOn ?? Date.now();
        void record({
          runId: job.data.runId,
          ...(job.id ? { jobId: job.id } : {}),
          role: job.data.role,
          enqueuedAt: job.timestamp,
          startedAt: endedAt - result.serviceMs,
          endedAt,
          inputTokens: result.usage.inputTokens,
          outputTokens: result.usage.outputTokens,
          model: result.model,
          ...(result.promptCut ? { promptCut: true } : {}),
          ...(result.textToolCalls ? { textToolCalls: result.textToolCalls } : {}),
          ...(result.thinking ? { thinking: result.thinking } : {}),
        }).catch((err: unknown) => logger.debug({ err }, 'could not record the llm call'));
      });
    }
    this.#worker = worker;
    await worker.waitUntilReady();
    logger.info(
      { queue: name, concurrency: this.#opts.numParallel, model: this.#opts.model.name },
      'llm gateway ready',
    );
  }

  /**
   * guide §8 pre-flight "Model loaded". A missing model is logged loudly but does not stop the
   * gateway: every call then fails fast with the same `ollama pull` hint, and pulling the model
   * fixes things without a restart. An unreachable Ollama is only a warning: calls retry.
   */
  async #checkModel(): Promise<void> {
    const { model, logger } = this.#opts;
    if (!model.checkModel) return;
    try {
      const models = await model.checkModel(AbortSignal.timeout(10_000));
      this.#modelStatus = { state: 'present', models };
      logger.info({ model: model.name, installed: models }, 'model present on Ollama');
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (error instanceof ModelNotFound) {
        this.#modelStatus = { state: 'missing', message };
        logger.error({ err: error }, `MODEL MISSING: ${message}`);
      } else {
        this.#modelStatus = { state: 'unreachable', message };
        const transient = error instanceof NightshiftError && error.retryable;
        logger.warn(
          { err: error },
          `cannot check the model now${transient ? ' (Ollama unreachable; calls will retry)' : ''}: ${message}`,
        );
      }
    }
  }

  /** Workers first (the running call finishes, bounded by the caller's grace), then the queue. */
  async #stop(): Promise<void> {
    await this.#worker?.close();
    await Promise.all([this.#queue?.close(), this.#dead?.close()]);
  }
}
