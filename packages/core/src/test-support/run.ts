// Test support (excluded from the build): a run under test that stamps events and plays the Director.
import { type RunEvent, type RunEventDraft, stamp } from '../run/events.js';
import { fold } from '../run/fold.js';
import type { RunState } from '../run/state.js';
import type { StepId } from '../run/steps.js';
import { type Command, DEFAULT_WORKFLOW_CONFIG, next, type WorkflowConfig } from '../run/workflow.js';

export const T0 = Date.parse('2026-01-28T01:00:00Z');

/** A run under test: events stamped one second apart, ids per step and attempt. */
export class Run {
  readonly events: RunEvent[] = [];
  private t = T0;
  constructor(readonly cfg: WorkflowConfig = DEFAULT_WORKFLOW_CONFIG) {}
  add(...drafts: RunEventDraft[]): this {
    for (const d of drafts) {
      this.t += 1000;
      this.events.push(stamp(d, new Date(this.t).toISOString()));
    }
    return this;
  }
  get state(): RunState {
    return fold(this.events);
  }
  next(now?: number): Command[] {
    return next(this.state, this.cfg, now);
  }
  /** Append emits until the next command is not an emit; return that. */
  settle(): Command[] {
    for (let i = 0; i < 20; i++) {
      const cmds = this.next();
      const first = cmds[0];
      if (cmds.length !== 1 || first?.kind !== 'emit') return cmds;
      this.add(first.event);
    }
    throw new Error('no settle');
  }
  id(step: StepId): string {
    const s = this.state;
    return `msg-${step}-i${s.iteration}-a${(s.progress[step]?.attempts ?? 0) + 1}`;
  }
  /** Record the request (as the Director would) and return its message id. */
  request(step: StepId): string {
    const cmd = this.next().find((c) => (c.kind === 'request' || c.kind === 'decide') && c.step === step);
    if (!cmd || (cmd.kind !== 'request' && cmd.kind !== 'decide')) throw new Error(`${step} not requested`);
    const messageId = this.id(step);
    this.add({ type: 'step.requested', step, role: cmd.role, messageId });
    return messageId;
  }
  complete(step: StepId, extra: Partial<Extract<RunEventDraft, { type: 'step.completed' }>> = {}): this {
    const flying = this.state.inFlight[step];
    const messageId = flying?.messageId ?? this.request(step);
    const role = this.state.inFlight[step]?.role ?? 'director';
    return this.add({ type: 'step.completed', step, role, messageId, output: `${step} done`, ...extra });
  }
  fail(step: StepId, reason = 'boom'): this {
    const messageId = this.state.inFlight[step]?.messageId ?? this.request(step);
    const role = this.state.inFlight[step]?.role ?? 'director';
    return this.add({ type: 'step.failed', step, role, messageId, reason });
  }
  verify(decision: 'continue' | 'revise' | 'finish' | 'escalate' | 'abort', rationale = 'because'): this {
    return this.add({ type: 'decision.made', decision, by: 'director', rationale, step: 'verify' });
  }
  /** Drive P1 and P2 to the start of P3 (or of P2 when `upTo` is 2). */
  toPhase(upTo: 2 | 3 | 4): this {
    this.settle();
    if (this.state.phase === 1) this.complete('frame').complete('design').complete('research');
    this.settle();
    if (upTo === 2) return this;
    this.complete('build').complete('research-exec').complete('checkpoint');
    this.settle();
    if (upTo === 3) return this;
    this.complete('refactor').complete('inspect');
    return this;
  }
}

export const created: Extract<RunEventDraft, { type: 'run.created' }> = {
  type: 'run.created',
  runId: 'run-1',
  task: 'add login',
};

/** Commands as short strings: `emit:phase.started`, `request:build`, `finish`, `wait`. */
export function kinds(cmds: readonly Command[]): string[] {
  return cmds.map((c) =>
    c.kind === 'emit'
      ? `emit:${c.event.type}`
      : c.kind === 'request' || c.kind === 'decide'
        ? `${c.kind}:${c.step}`
        : c.kind,
  );
}
