// GatewayChatModel: a model call from any process becomes a prioritised job on queue `llm`,
// worked by the llm-gateway under one global concurrency limit (ARCHITECTURE §1).
import { performance } from 'node:perf_hooks';
import { LlmQueueFull, NightshiftError, newId, TimeoutError } from '@nightshift/protocol';
import { type ConnectionOptions, type Job, Queue, QueueEvents } from 'bullmq';
import { abortError, decodeFailure } from '../errors.js';
import type { ChatModel, ChatProgress, ChatRequest, ChatResult, LlmCaller } from '../types.js';
import {
  assertPriority,
  isLlmJobProgress,
  LLM_JOB_NAME,
  LLM_PRIORITY,
  LLM_QUEUE,
  type LlmJobData,
  type LlmJobResult,
} from './job.js';

export interface GatewayChatModelOptions {
  /** An ioredis client (made with `maxRetriesPerRequest: null`) or BullMQ connection options. */
  connection: ConnectionOptions;
  /** BullMQ `prefix` = the configured key prefix (keys.prefix), so `llm` shares the hash tag. */
  prefix: string;
  /** OLLAMA_MAX_QUEUE: refuse at once with LlmQueueFull when this many calls already wait. */
  maxQueue: number;
  queueName?: string;
  /** Per-role priority overrides (config.roles[role].bullmqPriority); defaults LLM_PRIORITY. */
  priorities?: Partial<Record<LlmCaller, number>>;
  /** Longest a call may wait + run before the caller gives up (default 15 min, Builder's timeout). */
  timeoutMs?: number;
  /** Tries the gateway makes on transient provider errors (Ollama 503/refused/timeout); default 4. */
  attempts?: number;
  /** First backoff between those tries, doubled each time, ±50% jitter (default 500 ms). */
  backoffMs?: number;
  /** The process's shared QueueEvents; when absent one is created and owned (closed by close()). */
  queueEvents?: QueueEvents;
  /** Every Queue/QueueEvents error (connection drops during a Redis restart); must not throw. */
  onError?: (error: Error) => void;
  /**
   * How often a waiting call also reads its job's state (default 2000 ms). Events are the fast
   * path; this is the safety net for an event that never arrives (a Redis restart in the wrong
   * millisecond) and for a job that vanished (an AOF that lost its last second): a finished job is
   * picked up from its state, a vanished one is added again under the same id.
   */
  watchMs?: number;
}

export class GatewayChatModel implements ChatModel {
  readonly name = 'gateway';
  readonly #queue: Queue<LlmJobData, LlmJobResult>;
  readonly #ownsEvents: boolean;
  #events: Promise<QueueEvents> | undefined;
  readonly #opts: GatewayChatModelOptions;
  readonly #progress = new Map<string, (p: ChatProgress) => void>();
  /** Serialises count→add inside this process; see #admit. */
  #admission: Promise<unknown> = Promise.resolve();
  #closed = false;

  constructor(options: GatewayChatModelOptions) {
    if (!Number.isInteger(options.maxQueue) || options.maxQueue < 1) {
      throw new RangeError(`maxQueue must be a positive integer (got ${options.maxQueue})`);
    }
    this.#opts = options;
    const onError = options.onError ?? (() => undefined);
    const name = options.queueName ?? LLM_QUEUE;
    this.#queue = new Queue(name, { connection: options.connection, prefix: options.prefix });
    this.#queue.on('error', onError);
    // job.waitUntilFinished adds one 'closing' listener per waiting call; many concurrent calls
    // are normal here, so Node's leak warning at 10 would only be noise.
    this.#queue.setMaxListeners(0);
    this.#ownsEvents = options.queueEvents === undefined;
  }

  /** Resolves once the queue and its event listener are connected (chat() waits for it too). */
  async ready(): Promise<void> {
    await this.#listening();
  }

  /**
   * The QueueEvents this client waits on, started at a concrete stream id. With BullMQ's default
   * (`$`) the events between "connected" and its first XREAD are lost, so a call finishing in that
   * gap would wait until its timeout. Reading the newest id first closes the gap.
   */
  #listening(): Promise<QueueEvents> {
    this.#events ??= (async () => {
      const { connection, prefix } = this.#opts;
      let events = this.#opts.queueEvents;
      if (!events) {
        const client = await this.#queue.client;
        const newest = (await client.runCommand('xrevrange', [
          this.#queue.keys.events,
          '+',
          '-',
          'COUNT',
          '1',
        ])) as [string, string[]][] | null;
        const lastEventId = newest?.[0]?.[0] ?? '0-0';
        events = new QueueEvents(this.#queue.name, { connection, prefix, lastEventId });
        events.on('error', this.#opts.onError ?? (() => undefined));
      }
      events.on('progress', ({ jobId, data }) => {
        const listener = this.#progress.get(jobId);
        if (listener && isLlmJobProgress(data)) listener({ text: data.text, chunks: data.chunks });
      });
      await Promise.all([this.#queue.waitUntilReady(), events.waitUntilReady()]);
      return events;
    })();
    // A failed start (Redis down) must not stick: the next call tries again.
    this.#events.catch(() => {
      this.#events = undefined;
    });
    return this.#events;
  }

  async chat(request: ChatRequest): Promise<ChatResult> {
    if (this.#closed)
      throw new NightshiftError('LLM_CLIENT_CLOSED', 'the gateway client is closed', { category: 'fatal' });
    const started = performance.now();
    const signal = request.signal;
    if (signal?.aborted) throw abortError(signal);
    const priority = assertPriority(
      request.priority ?? this.#opts.priorities?.[request.role] ?? LLM_PRIORITY[request.role],
    );
    const now = Date.now();
    const ownLimit = this.#opts.timeoutMs ?? 15 * 60_000;
    const timeoutMs = Math.max(1, Math.min(ownLimit, (request.deadline ?? Number.POSITIVE_INFINITY) - now));
    const data: LlmJobData = {
      v: 1,
      role: request.role,
      messages: request.messages,
      stream: request.onProgress !== undefined,
      deadline: now + timeoutMs,
      enqueuedAt: now,
      ...(request.runId ? { runId: request.runId } : {}),
      ...(request.tools ? { tools: request.tools } : {}),
      ...(request.format ? { format: request.format } : {}),
    };
    const jobId = newId('llm');
    if (request.onProgress) this.#progress.set(jobId, request.onProgress);
    try {
      const events = await this.#listening();
      const job = await this.#admit(() => this.#add(jobId, data, priority));
      const result = await this.#await(events, job, timeoutMs, signal);
      return {
        text: result.text,
        toolCalls: result.toolCalls,
        usage: result.usage,
        model: result.model,
        latencyMs: performance.now() - started,
        provider: 'gateway',
        ...(result.textToolCalls ? { textToolCalls: result.textToolCalls } : {}),
        ...(result.promptCut ? { promptCut: true } : {}),
      };
    } finally {
      this.#progress.delete(jobId);
    }
  }

  /** Waiting calls right now (waiting + prioritised + paused): the backpressure measure. */
  async waiting(): Promise<number> {
    const counts = await this.#queue.getJobCounts('waiting', 'prioritized');
    return Object.values(counts).reduce((sum, n) => sum + n, 0);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#queue.close();
    const events = await this.#events?.catch(() => undefined);
    if (this.#ownsEvents) await events?.close();
  }

  /**
   * Backpressure check then add. BullMQ's add is its own Lua script, so the count and the add
   * cannot be one atomic step. Inside a process the pair is serialised (a promise chain), so
   * concurrent calls of one process never overshoot; across P processes each has at most one
   * count→add in flight, so the queue can exceed maxQueue by at most P−1 jobs. That bound is
   * fine: maxQueue limits latency, while the Ollama slot limit is enforced by global concurrency.
   */
  #admit<T>(step: () => Promise<T>): Promise<T> {
    const run = this.#admission.then(step, step);
    this.#admission = run.catch(() => undefined);
    return run;
  }

  async #add(jobId: string, data: LlmJobData, priority: number): Promise<Job<LlmJobData, LlmJobResult>> {
    const waiting = await this.waiting();
    if (waiting >= this.#opts.maxQueue) throw new LlmQueueFull(waiting, this.#opts.maxQueue);
    return this.#queue.add(LLM_JOB_NAME, data, {
      jobId,
      // Explicit, never 0 (REFERENCE: an unprioritised job jumps ahead of every prioritised one).
      priority,
      attempts: this.#opts.attempts ?? 4,
      backoff: { type: 'exponential', delay: this.#opts.backoffMs ?? 500, jitter: 0.5 },
      // Kept a while so a late waitUntilFinished still finds the result; then trimmed.
      removeOnComplete: { age: 600, count: 10_000 },
      removeOnFail: { age: 24 * 3600, count: 10_000 },
    });
  }

  async #await(
    events: QueueEvents,
    job: Job<LlmJobData, LlmJobResult>,
    timeoutMs: number,
    signal: AbortSignal | undefined,
  ): Promise<LlmJobResult> {
    const stopWatching = new AbortController();
    const finished = Promise.race([
      job.waitUntilFinished(events, timeoutMs),
      this.#watch(job, stopWatching.signal),
    ]).then(
      (value: LlmJobResult) => value,
      (error: unknown) => {
        const reason = error instanceof Error ? error.message : String(error);
        if (/timed out before finishing/.test(reason)) {
          // Nobody waits any more: take it off the queue if it has not started (best effort).
          job.remove().catch(() => undefined);
          throw new TimeoutError(`LLM call ${job.id}`, timeoutMs, { cause: error });
        }
        throw decodeFailure(reason, { jobId: job.id, queue: this.#queue.name });
      },
    );
    finished.then(
      () => stopWatching.abort(),
      () => stopWatching.abort(),
    );
    if (!signal) return finished;
    let onAbort: () => void = () => undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => {
        // Best effort: a job still waiting is removed; an active one finishes unseen (its
        // deadline makes the gateway drop it if it has not started yet).
        job.remove().catch(() => undefined);
        reject(abortError(signal));
      };
      if (signal.aborted) onAbort();
      else signal.addEventListener('abort', onAbort, { once: true });
    });
    finished.catch(() => undefined);
    try {
      return await Promise.race([finished, aborted]);
    } finally {
      signal.removeEventListener('abort', onAbort);
    }
  }

  /**
   * Reads the job's state every `watchMs` until `stop`: resolves with a completed job's value,
   * rejects with a failed job's reason, and adds a vanished job again (same id and data, so a
   * job that is in fact still there is not duplicated). Redis errors are skipped: the next round
   * tries again, and the caller's timeout bounds the whole wait.
   */
  #watch(job: Job<LlmJobData, LlmJobResult>, stop: AbortSignal): Promise<LlmJobResult> {
    const everyMs = this.#opts.watchMs ?? 2000;
    const id = job.id as string;
    return new Promise<LlmJobResult>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const round = async (): Promise<void> => {
        if (stop.aborted || this.#closed) return;
        try {
          const state = await this.#queue.getJobState(id);
          if (state === 'completed' || state === 'failed') {
            const current = await this.#queue.getJob(id);
            if (current && state === 'completed') return resolve(current.returnvalue);
            if (current) return reject(new Error(current.failedReason || 'failed'));
          } else if (state === 'unknown') {
            this.#opts.onError?.(new Error(`LLM job ${id} vanished from Redis; adding it again`));
            await this.#queue.add(job.name, job.data, { ...job.opts, jobId: id });
          }
        } catch (error) {
          this.#opts.onError?.(error instanceof Error ? error : new Error(String(error)));
        }
        if (!stop.aborted) timer = setTimeout(() => void round(), everyMs);
      };
      timer = setTimeout(() => void round(), everyMs);
      stop.addEventListener('abort', () => clearTimeout(timer), { once: true });
    });
  }
}
