// What an agent does with one job of `agent.<role>`: admit it (or dead-letter it), say it is
// working, run the role's tool loop within the role timeout (guide §7), commit what changed,
// answer once, or raise an ALERT.
import {
  buildAgentPrompt,
  type ChatModel,
  contextBudgetChars,
  DEFAULT_CONTEXT_BUDGET_CHARS,
  DEFAULT_MAX_TOOL_ITERATIONS,
  type RetryOptions,
  readModelReply,
  runToolLoop,
  type ToolSpec,
} from '@nightshift/llm';
import {
  BULLMQ_PRIORITY,
  checkRoute,
  describeProblems,
  failureReason,
  type Message,
  MessageSchema,
  NightshiftError,
  OUTPUT_JSON_SCHEMAS,
  type OutputKind,
  problemsFrom,
  TimeoutError,
  type WorkerRole,
} from '@nightshift/protocol';
import { type Bus, deadLetterJobId } from '@nightshift/redis';
import type { Logger } from '@nightshift/runtime';
import type { Refusal } from '@nightshift/tools';
import { type Job, UnrecoverableError } from 'bullmq';
import {
  alertMessage,
  responseIdFor,
  responseMessage,
  statusMessage,
  toolStatusMessage,
} from './messages.js';
import { enforceOutput } from './output-check.js';
import { type AgentToolOptions, commitChanges, openToolSession } from './tool-session.js';
import { describeToolCall, toolReporter } from './tool-status.js';
import { responseContext } from './usage-line.js';

export interface RequestHandlerOptions {
  role: WorkerRole;
  bus: Pick<Bus, 'publish' | 'startTask' | 'deadLetter' | 'redis' | 'keys' | 'readLog' | 'tailLog'>;
  model: ChatModel;
  /** guide §7 role timeout, ms: the whole job, queueing at the gateway included. */
  timeoutMs: number;
  /**
   * guide §2 `subagents.runTimeoutSeconds`, ms: the longest one task may take from its first
   * start, across every restart of its job (a stalled or crashed attempt gets a fresh role
   * timeout, but not a fresh run timeout). Absent = no cap beyond the role timeout.
   */
  runTimeoutMs?: number;
  /** Priority of this role's calls on `llm` (config.roles[role].bullmqPriority). */
  llmPriority: number;
  /** Backoff for LlmQueueFull and other transient model errors, inside the role timeout. */
  retry?: RetryOptions;
  logger: Logger;
  queueName: string;
  /** The role's tools; absent = the model is offered none (it only talks). */
  tools?: AgentToolOptions | undefined;
  /** Told about every refused tool call (for counting; it is logged already). */
  onRefusal?: ((refusal: Refusal) => void) | undefined;
}

export interface AgentJobResult {
  responseId: string;
  /** False when an earlier attempt had already published this answer. */
  published: boolean;
  logId?: string;
  model?: string;
  usage?: { inputTokens: number; outputTokens: number };
  latencyMs?: number;
  /** Model calls the tool loop made, and the tool calls it ran. */
  iterations?: number;
  toolCalls?: number;
  /** The loop hit its cap: an ALERT was raised instead of a RESPONSE. */
  stoppedAtCap?: boolean;
  commit?: string;
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
      reason = `invalid message: ${describeProblems(problems)}`;
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
    const id = deadLetterJobId(options.queueName, job.id);
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

  let sandboxAlerted = false;

  async function publishQuietly(message: Message, log: Logger): Promise<void> {
    // STATUS and ALERT are reports: failing to send one must not fail (or repeat) the work.
    await bus
      .publish(message)
      .catch((error: unknown) => log.warn({ err: error, type: message.type }, 'could not publish'));
  }

  /**
   * One round trip before any work (the bus's startTask script): marks the request taken, reads
   * whether its RESPONSE was already published (the bus's guard for its derived id), keeps when
   * the task first started (set now on the first attempt, so a restarted attempt counts its run
   * timeout from the same start), and publishes the STATUS unless it was answered or is past its
   * run timeout.
   */
  function taskStart(request: Message, attempt: number) {
    const keep =
      options.runTimeoutMs === undefined
        ? {}
        : {
            keepStartMs: Math.max(options.runTimeoutMs, options.timeoutMs) * 2,
            runTimeoutMs: options.runTimeoutMs,
          };
    return bus.startTask({
      requestId: request.id,
      responseId: responseIdFor(request.id),
      status: statusMessage({ role, request, attempt }),
      now: Date.now(),
      ...keep,
    });
  }

  /**
   * This attempt's deadline: the role timeout from now, capped by the run timeout from the first
   * start. The error is built only when the deadline fires (a TimeoutError with its stack trace
   * cost ≈ 50 µs per request in the dispatch profile, issue 23 §1).
   */
  function taskDeadline(
    requestId: string,
    startedAt: number,
  ): { deadline: number; timeout: () => TimeoutError } {
    const byRole = Date.now() + options.timeoutMs;
    const byRun =
      options.runTimeoutMs === undefined ? Number.POSITIVE_INFINITY : startedAt + options.runTimeoutMs;
    if (byRun >= byRole)
      return {
        deadline: byRole,
        timeout: () =>
          new TimeoutError(`${role} task ${requestId} (guide §7 role timeout)`, options.timeoutMs),
      };
    return {
      deadline: byRun,
      timeout: () =>
        new TimeoutError(
          `${role} task ${requestId} (subagents.runTimeoutSeconds, counted from its first start ${new Date(startedAt).toISOString()})`,
          options.runTimeoutMs ?? 0,
        ),
    };
  }

  return async (job, _token, workerSignal) => {
    // attemptsStarted also counts restarts after a crash (stalled recovery), which attemptsMade does not.
    const attempt = Math.max(job.attemptsStarted, job.attemptsMade + 1);
    const request = await admit(job);
    const log = logger.child({ jobId: job.id, runId: request.runId, requestId: request.id, attempt });
    // The RESPONSE id is derived from the request id and the bus publishes an id once, in the
    // same script as its log entry: an attempt after a crash (or a stall) that finds the answer
    // already published does not ask the model again, and one that races it cannot answer twice.
    const start = await taskStart(request, attempt);
    if (start.state === 'answered') {
      log.info({ logId: start.logId }, 'already answered by an earlier attempt; not asking the model again');
      return { responseId: responseIdFor(request.id), published: false, logId: start.logId };
    }
    const { deadline, timeout } = taskDeadline(request.id, start.startedAt);
    if (start.state === 'expired' || deadline <= Date.now()) {
      // Restarted past its run timeout (a crash loop): give up at once, as the last attempt would.
      const expired = timeout();
      log.error({ err: expired }, `request failed: ${expired.message}`);
      await publishQuietly(
        alertMessage({ role, request, attempt, reason: expired.message, code: expired.code }),
        log,
      );
      throw new UnrecoverableError(failureReason(expired));
    }

    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(timeout()), deadline - Date.now());
    const signal = workerSignal ? AbortSignal.any([controller.signal, workerSignal]) : controller.signal;
    try {
      const session = options.tools
        ? openToolSession({
            role,
            request,
            bus,
            tools: options.tools,
            logger: log,
            signal,
            onRefusal: options.onRefusal,
            onSandboxUnavailable: (error) => {
              // One ALERT per process, naming the fix: every later command fails the same way.
              if (sandboxAlerted) return;
              sandboxAlerted = true;
              log.error({ code: error.code }, error.message);
              void publishQuietly(
                alertMessage({ role, request, attempt, reason: error.message, code: error.code }),
                log,
              );
            },
          })
        : undefined;
      const reporter = toolReporter(session, options.tools?.maxStatusPerRequest ?? 20, (record) =>
        publishQuietly(toolStatusMessage({ role, request, attempt, line: describeToolCall(record) }), log),
      );
      const maxIterations = options.tools?.maxIterations ?? DEFAULT_MAX_TOOL_ITERATIONS;
      const chatRequest = {
        role,
        runId: request.runId,
        signal,
        deadline,
        // EMERGENCY/HIGH requests may jump ahead of the role's usual place, never behind it.
        priority: Math.min(options.llmPriority, BULLMQ_PRIORITY[request.priority]),
      };
      const budgetFor = (tools: readonly ToolSpec[]): number => {
        const cap = options.tools?.contextBudgetChars ?? DEFAULT_CONTEXT_BUDGET_CHARS;
        const window = options.tools?.window;
        return window === undefined ? cap : contextBudgetChars({ ...window, tools, capChars: cap });
      };
      const firstLoop = await runToolLoop({
        model: options.model,
        request: { ...chatRequest, messages: buildAgentPrompt(role, request) },
        tools: session?.specs ?? [],
        execute: (call) =>
          session
            ? session.execute(call)
            : Promise.resolve({
                ok: false,
                error: { code: 'TOOL_UNAVAILABLE', message: `no tools are wired for ${role}` },
              }),
        maxIterations,
        contextBudgetChars: budgetFor(session?.specs ?? []),
        onToolCall: reporter.report,
        onTruncate: (info) => log.info(info, 'conversation truncated to fit the context budget'),
        ...(options.retry ? { retry: options.retry } : {}),
      });
      // The output the REQUEST asks for (issue 5 role schemas): checked, asked for once more.
      const enforced =
        request.output === undefined || firstLoop.stoppedAtCap
          ? undefined
          : await enforceOutput(request.output, firstLoop, session?.written ?? [], (messages) =>
              runToolLoop({
                model: options.model,
                // The second ask needs no tools, so it can be constrained to the output's JSON Schema
                // (Ollama `format`; issue 20 §4). A server that ignores it is still checked below.
                request: { ...chatRequest, messages, ...structuredFormat(request.output) },
                tools: [],
                execute: () =>
                  Promise.resolve({
                    ok: false,
                    error: { code: 'TOOL_UNAVAILABLE', message: 'no tools now' },
                  }),
                maxIterations: 1,
                contextBudgetChars: budgetFor([]),
                ...(options.retry ? { retry: options.retry } : {}),
              }),
            );
      const loop = enforced?.loop ?? firstLoop;
      if (enforced?.retried)
        log.warn(
          { output: request.output, ok: enforced.verdict.ok },
          'asked the model again for the required output',
        );
      await reporter.flush(() =>
        publishQuietly(
          toolStatusMessage({
            role,
            request,
            attempt,
            line: `${reporter.suppressed} more tool calls were not reported one by one (${loop.toolCalls.length} in all)`,
          }),
          log,
        ),
      );
      const reply = readModelReply(loop.final.text);
      const commit = await commitChanges(session, role, request, loop.stoppedAtCap, reply.content, log);
      const summary = {
        model: loop.final.model,
        usage: loop.usage,
        latencyMs: loop.latencyMs,
        iterations: loop.iterations,
        toolCalls: loop.toolCalls.length,
        stoppedAtCap: loop.stoppedAtCap,
        ...(commit ? { commit } : {}),
      };
      if (loop.stoppedAtCap) {
        // Cut off, not finished: the Director must decide (guide §4 level 1), so the request
        // gets an ALERT (which fails its step) rather than a RESPONSE that looks like an answer.
        const reason = `tool loop hit its cap of ${maxIterations} iterations (${loop.toolCalls.length} tool calls run; last asked for ${loop.final.toolCalls.map((c) => c.name).join(', ')})`;
        log.warn(summary, reason);
        await publishQuietly(alertMessage({ role, request, attempt, reason, code: 'TOOL_LOOP_CAP' }), log);
        return { responseId: responseIdFor(request.id), published: false, ...summary };
      }
      if (enforced && !enforced.verdict.ok) {
        // Twice without the required output: the Director decides (the step fails, is retried or
        // escalated) rather than receiving an answer it cannot read.
        const reason = `no valid ${request.output} output: ${enforced.verdict.error}`;
        log.warn(summary, reason);
        await publishQuietly(alertMessage({ role, request, attempt, reason, code: 'OUTPUT_INVALID' }), log);
        throw new UnrecoverableError(
          failureReason({ code: 'OUTPUT_INVALID', category: 'fatal', message: reason }),
        );
      }
      const outputLine = enforced?.verdict.ok ? enforced.verdict.line : undefined;
      const response = responseMessage({
        role,
        request,
        attempt,
        reply: { ...reply, context: responseContext(reply.context, loop, commit, outputLine) },
      });
      const sent = await bus.publish(response);
      const outcome = { published: sent.duplicate !== true, logId: sent.logId };
      if (outcome.published)
        log.info(
          { responseId: response.id, to: response.to, ...summary, latencyMs: Math.round(loop.latencyMs) },
          'answered',
        );
      else log.warn({ responseId: response.id }, 'another attempt answered first; this answer is dropped');
      return { responseId: response.id, published: outcome.published, logId: outcome.logId, ...summary };
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
      const reason = failureReason(typed);
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

/** `{ format }` for an output the model writes as JSON (design, findings), else nothing. */
function structuredFormat(kind: OutputKind | undefined): { format?: Record<string, unknown> } {
  const schema = kind === undefined ? undefined : OUTPUT_JSON_SCHEMAS[kind];
  return schema === undefined ? {} : { format: schema };
}
