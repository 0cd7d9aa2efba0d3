// Test support (excluded from the build): a run's event log written the way the Director writes
// it — core's `next` decides, this plays the Director and the workers — one minute apart.
import {
  fold,
  next,
  type RunEvent,
  type RunEventDraft,
  type RunState,
  type Severity,
  type StepId,
  stamp,
} from '@nightshift/core';
import type { Role } from '@nightshift/protocol';

export const T0 = Date.parse('2026-01-28T01:00:00Z');

export class ScriptedRun {
  readonly events: RunEvent[] = [];
  #t: number;
  readonly #clock: (() => number) | undefined;

  /** Events are one minute apart from `start`, or stamped by `clock` (real time for service tests). */
  constructor(
    readonly runId = 'run-golden',
    options: { task?: string; title?: string; start?: number; clock?: () => number } = {},
  ) {
    this.#t = options.start ?? T0;
    this.#clock = options.clock;
    this.add({
      type: 'run.created',
      runId,
      task: options.task ?? 'Add a login form',
      ...(options.title === undefined ? {} : { title: options.title }),
    });
  }

  /** Appends drafts, each one minute after the previous (or `at` ms). */
  add(...drafts: RunEventDraft[]): this {
    for (const d of drafts) {
      this.#t = this.#clock ? Math.max(this.#clock(), this.#t + 1) : this.#t + 60_000;
      this.events.push(stamp(d, new Date(this.#t).toISOString()));
    }
    return this;
  }

  get now(): number {
    return this.#t;
  }

  get state(): RunState {
    return fold(this.events);
  }

  /** Plays the Director until the workflow waits: emits, requests (ids like the Director's), finish. */
  advance(): this {
    for (let i = 0; i < 50; i++) {
      const state = this.state;
      const commands = next(state);
      const first = commands[0];
      if (!first || first.kind === 'wait') return this;
      if (first.kind === 'emit') {
        this.add(first.event);
        continue;
      }
      if (first.kind === 'finish') {
        this.add({
          type: 'run.finished',
          outcome: first.outcome,
          summary: `${first.outcome}: ${first.reason}`,
        });
        return this;
      }
      const work = commands.filter((c) => c.kind === 'request' || c.kind === 'decide');
      this.add(
        ...work.map((c) => ({
          type: 'step.requested' as const,
          step: c.step,
          role: c.role,
          messageId: `req_${this.runId}_${c.step}_i${c.iteration}_a${c.attempt}`,
        })),
      );
      // Decide steps (frame, verify) are answered by complete()/verify(); stop here.
      return this;
    }
    throw new Error('advance did not settle');
  }

  /** The worker (or the Director) answers the step in flight. */
  complete(step: StepId, output = `${step} done`): this {
    const flying = this.state.inFlight[step];
    if (!flying) throw new Error(`${step} is not in flight`);
    return this.add({ type: 'step.completed', step, role: flying.role, messageId: flying.messageId, output });
  }

  fail(step: StepId, reason: string): this {
    const flying = this.state.inFlight[step];
    if (!flying) throw new Error(`${step} is not in flight`);
    return this.add({ type: 'step.failed', step, role: flying.role, messageId: flying.messageId, reason });
  }

  /** The Inspector's answer and its findings, in one append like the Director's. */
  inspect(findings: { severity: Severity; description: string; file?: string }[]): this {
    this.complete('inspect', JSON.stringify({ findings }));
    return this.add(
      ...findings.map((f) => ({ type: 'review.finding' as const, ...f, from: 'inspector' as const })),
    );
  }

  verify(decision: 'revise' | 'finish' | 'escalate', rationale = 'because'): this {
    return this.add({ type: 'decision.made', decision, by: 'director', rationale, step: 'verify' });
  }

  trust(role: Role, from: number, to: number, reason = 'review'): this {
    return this.add({ type: 'trust.changed', role, from, to, delta: to - from, reason });
  }
}
