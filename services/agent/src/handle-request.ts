// What an agent does with one job of `agent.<role>`: admit it (or dead-letter it), say it is
// working, ask the model within the role timeout (guide §7), answer once, or raise an ALERT.
import {
  buildAgentPrompt,
  type ChatModel,
  type RetryOptions,
  readModelReply,
  retryingChat,
} from '@nightshift/llm';
import {
  BULLMQ_PRIORITY,
  checkRoute,
  type Message,
  MessageSchema,
  NightshiftError,
  problemsFrom,
  TimeoutError,
  type WorkerRole,
} from '@nightshift/protocol';
import type { Bus } from '@nightshift/redis';
import type { Logger } from '@nightshift/runtime';
import { type Job, UnrecoverableError } from 'bullmq';
import { alertMessage, responseIdFor, responseMessage, statusMessage } from './messages.js';
import { answeredState, publishOnce } from './publish-once.js';

export interface RequestHandlerOptions {
  role: WorkerRole;
  bus: Pick<Bus, 'publish' | 'deadLetter' | 'redis' | 'keys'>;
  model: ChatModel;
  /** guide §7 role timeout, ms: the whole job, queueing at the gateway included. */
  timeoutMs: number;
  /** Priority of this role's calls on `llm` (config.roles[role].bullmqPriority). */
  llmPriority: number;
  /** Backoff for LlmQueueFull and other transient model errors, inside the role timeout. */
  retry?: RetryOptions;
  logger: Logger;
  queueName: string;
}

export interface AgentJobResult {
  responseId: string;
  /** False when an earlier attempt had already published this answer. */
  published: boolean;
  logId?: string;
  model?: string;
  usage?: { inputTokens: number; outputTokens: number };
  latencyMs?: number;
}

export type RequestProcessor = (job: Job, token?: string, signal?: AbortSignal) => Promise<AgentJobResult>;

export function createRequestProcessor(options: RequestHandlerOptions): RequestProcessor {
  const { role, bus, logger } = options;

  /** Returns the request, or dead-letters the job with the reason and fails it for good. */
  async function admit(job: Job): Promise<Message> {
    const parsed = MessageSchema.safeParse(job.data);
    let reason: string | undefined;
    let request: Message | undefined;
    if (!parsed.success) {
      const problems = problemsFrom(parsed.error).slice(0, 10);
      reason = `invalid message: ${problems.map((p) => `${p.path || '(root)'}: ${p.expected}`).join('; ')}`;
    } else {
      request = parsed.data;
      const { from, to, type, phase } = request;
      const route = checkRoute(phase === undefined ? { from, to, type } : { from, to, type, phase });
      if (request.type !== 'REQUEST') reason = `not a REQUEST: a ${request.type} cannot be queued as work`;
      else if (request.to !== role)
        reason = `misrouted: a REQUEST to ${request.to} on queue ${options.queueName}`;
      else if (!route.ok) reason = route.error.message;
    }
    if (reason === undefined && request) return request;
    const why = reason ?? 'invalid message';
    // Idempotent id: a retried dead-lettering of the same job is a no-op.
    const id = `dl.${options.queueName}.${job.id ?? 'unknown'}`.replace(/[^A-Za-z0-9_.-]/g, '.');
    await bus.deadLetter({
      source: options.queueName,
      reason: why,
      payload: job.data,
      deliveries: job.attemptsStarted,
      id,
    });
    logger.warn({ jobId: job.id, reason: why }, 'dead-lettered a job');
    throw new UnrecoverableError(why);
  }

  async function publishQuietly(message: Message, log: Logger): Promise<void> {
    // STATUS and ALERT are reports: failing to send one must not fail (or repeat) the work.
    await bus
      .publish(message)
      .catch((error: unknown) => log.warn({ err: error, type: message.type }, 'could not publish'));
  }

  return async (job, _token, workerSignal) => {
    // attemptsStarted also counts restarts after a crash (stalled recovery), which attemptsMade does not.
    const attempt = Math.max(job.attemptsStarted, job.attemptsMade + 1);
    const request = await admit(job);
    const log = logger.child({ jobId: job.id, runId: request.runId, requestId: request.id, attempt });
    const guard = bus.keys.custom('answered', request.id);
    if ((await answeredState(bus.redis, guard)) === 'done') {
      log.info('already answered by an earlier attempt; not asking the model again');
      return { responseId: responseIdFor(request.id), published: false };
    }
    await publishQuietly(statusMessage({ role, request, attempt }), log);

    const deadline = Date.now() + options.timeoutMs;
    const controller = new AbortController();
    const timer = setTimeout(
      () =>
        controller.abort(
          new TimeoutError(`${role} task ${request.id} (guide §7 role timeout)`, options.timeoutMs),
        ),
      options.timeoutMs,
    );
    const signal = workerSignal ? AbortSignal.any([controller.signal, workerSignal]) : controller.signal;
    try {
      const result = await retryingChat(
        options.model,
        {
          messages: buildAgentPrompt(role, request),
          role,
          runId: request.runId,
          signal,
          deadline,
          // EMERGENCY/HIGH requests may jump ahead of the role's usual place, never behind it.
          priority: Math.min(options.llmPriority, BULLMQ_PRIORITY[request.priority]),
        },
        options.retry,
      );
      const response = responseMessage({ role, request, attempt, reply: readModelReply(result.text) });
      const outcome = await publishOnce(bus.redis, guard, () => bus.publish(response), { signal });
      if (outcome.published)
        log.info(
          { responseId: response.id, to: response.to, latencyMs: Math.round(result.latencyMs) },
          'answered',
        );
      else log.warn({ responseId: response.id }, 'another attempt answered first; this answer is dropped');
      return {
        responseId: response.id,
        published: outcome.published,
        logId: outcome.logId,
        model: result.model,
        usage: result.usage,
        latencyMs: result.latencyMs,
      };
    } catch (error) {
      const typed = toTyped(error, signal);
      const lastTry = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      const final =
        lastTry ||
        typed.category !== 'transient' ||
        typed instanceof TimeoutError ||
        typed.code === 'TIMEOUT';
      log.error({ err: typed, final }, `request failed: ${typed.message}`);
      if (final)
        await publishQuietly(
          alertMessage({ role, request, attempt, reason: typed.message, code: typed.code }),
          log,
        );
      const reason = `[${typed.code}/${typed.category}] ${typed.message}`;
      throw final ? new UnrecoverableError(reason) : new Error(reason);
    } finally {
      clearTimeout(timer);
    }
  };
}

function toTyped(error: unknown, signal: AbortSignal): NightshiftError {
  if (signal.aborted && signal.reason instanceof NightshiftError) return signal.reason;
  if (error instanceof NightshiftError) return error;
  return new NightshiftError('AGENT_FAILED', error instanceof Error ? error.message : String(error), {
    category: 'transient',
    cause: error,
  });
}
