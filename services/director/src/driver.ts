// Drives one run at a time from its events: fold → next → execute, until the workflow waits.
// Every write is a guarded append (expected version), so a restarted or duplicated Director
// re-reads and recomputes instead of applying a step twice.
import {
  type Command,
  type DecideCommand,
  fold,
  next,
  overdueSteps,
  parseRunEvent,
  type RequestCommand,
  type RunEvent,
  type RunEventDraft,
  type RunState,
  STEPS,
  type StepId,
  stamp,
  stepContext,
  type WorkflowConfig,
} from '@nightshift/core';
import {
  type Message,
  OUTPUT_INSTRUCTIONS,
  type OutputKind,
  PHASE_NAMES,
  type Priority,
  responseIdFor,
} from '@nightshift/protocol';
import type { Bus, RunStore } from '@nightshift/redis';
import type { Logger } from '@nightshift/runtime';
import type { DirectorBrain } from './brain.js';
import { parseFindings } from './outputs.js';
import { DIRECTOR_SYSTEM, framePrompt, requestContent, requestContext, truncate } from './prompts.js';
import type { Verifier } from './verify.js';

export interface DriverOptions {
  store: RunStore;
  /** `publishedAs`/`readLog` (optional) let a re-sent request pick up an answer published before. */
  bus: Pick<Bus, 'publish'> & Partial<Pick<Bus, 'publishedAs' | 'readLog'>>;
  brain: DirectorBrain;
  verifier: Verifier;
  logger: Logger;
  workflow: WorkflowConfig;
  roleTimeoutsMs: Parameters<typeof overdueSteps>[2];
  now?: () => Date;
  /** The Scribe's rolling summary of the run (markdown, bounded), or null when there is none yet. */
  summaryOf?: (runId: string) => Promise<string | null>;
  /** Cost of a Director call, USD (from the price table), when known. */
  costOf?: (model: string, usage: CallUsage) => number;
}

/** What one model call used (llm Usage): every prompt token, with the cached share if any. */
export interface CallUsage {
  inputTokens: number;
  outputTokens: number;
  cacheReadTokens?: number | undefined;
  cacheWriteTokens?: number | undefined;
}

/** A bounded number of commands per tick, so a logic error can never spin forever. */
const MAX_COMMANDS_PER_TICK = 50;

export class RunDriver {
  readonly #o: DriverOptions;
  readonly #now: () => Date;
  readonly #locks = new Map<string, Promise<void>>();
  /** Requests re-published by this process after a restart (once each is enough: job id = message id). */
  readonly #republished = new Set<string>();

  constructor(options: DriverOptions) {
    this.#o = options;
    this.#now = options.now ?? (() => new Date());
  }

  /** Runs `fn` for one run at a time within this process. */
  #serial(runId: string, fn: () => Promise<void>): Promise<void> {
    const previous = this.#locks.get(runId) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    const settled = run.catch(() => undefined);
    this.#locks.set(runId, settled);
    void settled.then(() => {
      if (this.#locks.get(runId) === settled) this.#locks.delete(runId);
    });
    return run;
  }

  async load(runId: string): Promise<{ state: RunState; version: number; events: RunEvent[] }> {
    const stored = await this.#o.store.read(runId);
    const events: RunEvent[] = [];
    for (const s of stored) {
      try {
        events.push(parseRunEvent(s.event));
      } catch (error) {
        this.#o.logger.error({ runId, version: s.version, err: error }, 'skipping an unreadable run event');
      }
    }
    return { state: fold(events), version: stored.length === 0 ? 0 : (stored.at(-1)?.version ?? 0), events };
  }

  /** Appends drafts at `version`; false on a conflict (someone else wrote first). */
  async #append(runId: string, version: number, drafts: readonly RunEventDraft[]): Promise<boolean> {
    const at = this.#now().toISOString();
    const events = drafts.map((d) => stamp(d, at));
    const result = await this.#o.store.append(runId, version, events, this.#now().getTime());
    if (!result.ok)
      this.#o.logger.debug({ runId, version, current: result.version }, 'append conflict, re-reading');
    return result.ok;
  }

  /** Advances the run as far as it can go now. Safe to call any number of times. */
  tick(runId: string): Promise<void> {
    return this.#serial(runId, () => this.#tick(runId));
  }

  async #tick(runId: string): Promise<void> {
    for (let n = 0; n < MAX_COMMANDS_PER_TICK; n++) {
      const { state, version } = await this.load(runId);
      if (state.runId === null) return;
      await this.#republishInFlight(state);
      if (await this.#failOverdue(state, version)) continue;
      const commands = next(state, this.#o.workflow, this.#now().getTime());
      const progressed = await this.#execute(state, version, commands);
      if (!progressed) return;
    }
    this.#o.logger.warn({ runId }, 'tick stopped at its command limit; will continue on the next tick');
  }

  /** Executes the commands; true when the log changed (so `next` must be asked again). */
  async #execute(state: RunState, version: number, commands: readonly Command[]): Promise<boolean> {
    const runId = state.runId as string;
    const first = commands[0];
    if (!first || first.kind === 'wait') return false;
    if (first.kind === 'emit') {
      const ok = await this.#append(runId, version, [first.event]);
      if (ok) await this.#announce(state, first.event);
      return true;
    }
    if (first.kind === 'finish') {
      const summary = `${first.outcome}: ${first.reason}`;
      if (await this.#append(runId, version, [{ type: 'run.finished', outcome: first.outcome, summary }])) {
        await this.#broadcast(
          state,
          'STATUS',
          first.outcome === 'success' ? 'NORMAL' : 'HIGH',
          `Run finished (${summary}).`,
        );
      }
      return true;
    }
    // Requests first, in one append, so Builder ‖ Scout of P2 start together.
    const requests = commands.filter((c): c is RequestCommand => c.kind === 'request');
    if (requests.length > 0) {
      const drafts = requests.map((c) => ({
        type: 'step.requested' as const,
        step: c.step,
        role: c.role,
        messageId: requestId(runId, c),
      }));
      if (!(await this.#append(runId, version, drafts))) return true;
      for (const c of requests) await this.#publishRequest(runId, c, requestId(runId, c));
      return true;
    }
    const decide = commands.find((c): c is DecideCommand => c.kind === 'decide');
    if (decide) return this.#decide(state, version, decide);
    return false;
  }

  async #publishRequest(runId: string, c: RequestCommand, id: string): Promise<void> {
    this.#republished.add(id);
    const summary = await this.#o.summaryOf?.(runId).catch((err: unknown) => {
      this.#o.logger.warn({ err, runId }, 'no Scribe summary; passing the raw outputs');
      return null;
    });
    await this.#o.bus.publish({
      id,
      runId,
      from: 'director',
      to: c.role,
      type: 'REQUEST',
      priority: 'NORMAL',
      timestamp: this.#now().toISOString(),
      content: requestContent(c.step, c.context),
      context: requestContext(c.context, 6000, summary ?? null, STEPS[c.step].after),
      ...expectedOutput(c.step, id),
      phase: c.phase,
      attempt: c.attempt,
    });
    await this.#answeredEarlier(runId, id);
  }

  /**
   * A request sent again (after a restart, or a crash whose AOF lost the step's event) may have
   * been answered already: the RESPONSE then reached the inbox while no step was waiting for it
   * and was ignored, and the agent will not answer twice. So look for it on the bus (its id is
   * derived from the request id) and record it as if it had just arrived.
   */
  async #answeredEarlier(runId: string, requestId: string): Promise<void> {
    const bus = this.#o.bus;
    if (!bus.publishedAs || !bus.readLog) return;
    const logId = await bus.publishedAs(responseIdFor(requestId));
    if (logId === null) return;
    const [entry] = await bus.readLog({ from: logId, to: logId, count: 1 });
    const message = entry?.message;
    if (message?.type !== 'RESPONSE' || message.inReplyTo !== requestId || message.runId !== runId) return;
    this.#o.logger.info(
      { runId, requestId, logId },
      'the request was answered before it was re-sent; using that answer',
    );
    // Not awaited: we are inside this run's serial section, and onResponse queues behind it.
    void this.onResponse(message).catch((err: unknown) =>
      this.#o.logger.error({ err, runId }, 'recording an earlier answer failed'),
    );
  }

  /**
   * Forget which in-flight requests were sent, so the next tick of each run publishes them again
   * (the bus drops those it still knows). Called when Redis comes back after a drop: an AOF that
   * lost its last second may have lost a request's job, which would otherwise wait out the
   * step's timeout before being retried.
   */
  resendInFlight(): void {
    this.#republished.clear();
  }

  /** After a restart, the requests in flight are published again; the bus drops true duplicates. */
  async #republishInFlight(state: RunState): Promise<void> {
    for (const flying of Object.values(state.inFlight)) {
      if (!flying || this.#republished.has(flying.messageId) || flying.role === 'director') continue;
      const ctx = stepContext(state, flying.step, flying.attempt);
      const phase = ctx.phase;
      const command: RequestCommand = {
        kind: 'request',
        step: flying.step,
        role: flying.role,
        phase,
        iteration: flying.iteration,
        attempt: flying.attempt,
        context: ctx,
      };
      await this.#publishRequest(state.runId as string, command, flying.messageId);
    }
  }

  /** Steps past their role's timeout fail (and `next` retries them); true if the log changed. */
  async #failOverdue(state: RunState, version: number): Promise<boolean> {
    const overdue = overdueSteps(state, this.#now().getTime(), this.#o.roleTimeoutsMs);
    if (overdue.length === 0) return false;
    const drafts = overdue.map((s) => ({
      type: 'step.failed' as const,
      step: s.step,
      role: s.role,
      messageId: s.messageId,
      reason: `timeout: no answer from ${s.role} after ${Math.round(s.ageMs / 1000)} s (limit ${Math.round(s.timeoutMs / 1000)} s)`,
    }));
    await this.#append(state.runId as string, version, drafts);
    return true;
  }

  async #decide(state: RunState, version: number, c: DecideCommand): Promise<boolean> {
    const runId = state.runId as string;
    const messageId = requestId(runId, c);
    if (c.step === 'frame') {
      const answer = await this.#o.brain.ask(DIRECTOR_SYSTEM, framePrompt(c.context), runId);
      const usage = this.#usage(answer.model, answer.usage);
      await this.#append(runId, version, [
        {
          type: 'step.completed',
          step: 'frame',
          role: 'director',
          messageId,
          output: answer.text,
          usage,
          model: answer.model,
        },
      ]);
      return true;
    }
    const result = await this.#o.verifier.verify(state, c);
    if (await this.#append(runId, version, result.drafts)) {
      await this.#o.verifier.saveTrust(result.drafts);
      const a = result.answer;
      await this.#broadcast(
        state,
        'DECISION',
        result.decision === 'escalate' || result.decision === 'abort' ? 'HIGH' : 'NORMAL',
        `Decision: ${result.decision.toUpperCase()}. ${result.rationale}`,
        `Decided by the Director on ${a.model}${a.fallback ? ` (FALLBACK: ${a.fallbackReason ?? 'primary unavailable'})` : ''}; rule: ${result.rule}; iteration ${c.iteration}.`,
      );
    }
    return true;
  }

  /** The event's usage: tokens, the prompt-cache share when Anthropic reports one, and its cost. */
  #usage(model: string, usage: CallUsage) {
    const usd = this.#o.costOf?.(model, usage) ?? 0;
    return {
      inputTokens: usage.inputTokens,
      outputTokens: usage.outputTokens,
      ...(usage.cacheReadTokens ? { cacheReadTokens: usage.cacheReadTokens } : {}),
      ...(usage.cacheWriteTokens ? { cacheWriteTokens: usage.cacheWriteTokens } : {}),
      usd,
    };
  }

  /** A worker answered: record the step (and the Inspector's findings) if it answers a request in flight. */
  onResponse(message: Message): Promise<void> {
    return this.#serial(message.runId, async () => {
      const { state, version } = await this.load(message.runId);
      const flying = Object.values(state.inFlight).find((f) => f?.messageId === message.inReplyTo);
      if (!flying) {
        this.#o.logger.debug(
          { runId: message.runId, inReplyTo: message.inReplyTo },
          'stale or unknown response ignored',
        );
        return;
      }
      const drafts: RunEventDraft[] = [];
      const usage = usageFromContext(message.context);
      drafts.push({
        type: 'step.completed',
        step: flying.step,
        role: flying.role,
        messageId: flying.messageId,
        output: truncate(message.content, 8000),
        ...(usage
          ? {
              usage: { inputTokens: usage.inputTokens, outputTokens: usage.outputTokens, usd: 0 },
              model: usage.model,
            }
          : {}),
      });
      if (flying.step === 'inspect') {
        const { findings, error } = parseFindings(message.content);
        if (error)
          this.#o.logger.warn({ runId: message.runId, error }, 'inspector reply had no findings object');
        for (const f of findings)
          drafts.push({ type: 'review.finding', ...f, from: 'inspector', messageId: message.id });
      }
      await this.#append(message.runId, version, drafts);
    }).then(() => this.#kick(message.runId));
  }

  /** A worker reported a failure of a request in flight. */
  onFailure(message: Message): Promise<void> {
    return this.#serial(message.runId, async () => {
      const { state, version } = await this.load(message.runId);
      const flying = Object.values(state.inFlight).find((f) => f?.messageId === message.inReplyTo);
      if (!flying) return;
      await this.#append(message.runId, version, [
        {
          type: 'step.failed',
          step: flying.step,
          role: flying.role,
          messageId: flying.messageId,
          reason: truncate(message.content, 2000),
        },
      ]);
    }).then(() => this.#kick(message.runId));
  }

  /** Ticks without making the caller wait: an inbox handler must never wait on a debate that needs the inbox. */
  #kick(runId: string): void {
    void this.tick(runId).catch((err: unknown) => this.#o.logger.error({ err, runId }, 'tick failed'));
  }

  async #announce(state: RunState, event: RunEventDraft): Promise<void> {
    if (event.type === 'phase.started') {
      await this.#broadcast(
        state,
        'STATUS',
        'NORMAL',
        `Phase ${event.phase} (${PHASE_NAMES[event.phase]}) started, iteration ${event.iteration}.`,
      );
    } else if (event.type === 'run.waiting-human') {
      await this.#broadcast(state, 'ALERT', 'HIGH', `ESCALATE: run waits for a human: ${event.reason}`);
    }
  }

  async #broadcast(
    state: RunState,
    type: 'STATUS' | 'DECISION' | 'ALERT',
    priority: Priority,
    content: string,
    context?: string,
  ) {
    try {
      await this.#o.bus.publish({
        id: `msg_${state.runId}_${type.toLowerCase()}_${state.version + 1}_${Date.now().toString(36)}`.slice(
          0,
          128,
        ),
        runId: state.runId as string,
        from: 'director',
        to: 'ALL',
        type,
        priority,
        timestamp: this.#now().toISOString(),
        content,
        ...(context ? { context } : {}),
        ...(state.phase ? { phase: state.phase } : {}),
      });
    } catch (error) {
      this.#o.logger.warn(
        { err: error, runId: state.runId },
        'broadcast failed (the run state is already recorded)',
      );
    }
  }
}

/** Deterministic request ids: the same step, iteration and attempt always get the same id. */
export function requestId(runId: string, c: { step: string; iteration: number; attempt: number }): string {
  return `req_${runId}_${c.step}_i${c.iteration}_a${c.attempt}`;
}

/** Agents end their RESPONSE context with `model <name> · tokens in <n> / out <m>` (last line only). */
export function usageFromContext(
  context: string | undefined,
): { inputTokens: number; outputTokens: number; model?: string } | undefined {
  if (!context) return undefined;
  const match = /(?:^|\n)model (\S+) · tokens in (\d+) \/ out (\d+)\s*$/.exec(context);
  if (!match) return undefined;
  return { inputTokens: Number(match[2]), outputTokens: Number(match[3]), model: match[1] as string };
}

/** The structured output each step asks for (protocol outputs.ts); the agent enforces it. */
const STEP_OUTPUT: Partial<Record<StepId, OutputKind>> = {
  design: 'design',
  build: 'changes',
  refactor: 'changes',
  inspect: 'findings',
};

function expectedOutput(step: StepId, id: string): { expectedResponse: string; output?: OutputKind } {
  const base = `A RESPONSE to the Director with in-reply-to ${id}.`;
  const output = STEP_OUTPUT[step];
  return output === undefined
    ? { expectedResponse: base }
    : { expectedResponse: `${base} ${OUTPUT_INSTRUCTIONS[output]}`, output };
}
