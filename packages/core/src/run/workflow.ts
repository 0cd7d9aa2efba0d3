// The phase workflow as a pure transition function: given a run's state, what the Director does next.
//
// Steps (guide §2 "Phase-Based Hybrid Execution", §4; roles in steps.ts):
//   P1 Planning, sequential:   frame (director, decide) → design (architect) → research (scout)
//   P2 Execution:              build (builder) ‖ research-exec (scout), then checkpoint (scribe)
//   P3 Review, sequential:     refactor (refactorer) → inspect (inspector) → verify (director, decide)
//   P4 Iterate:                no step; acts on the verify decision (the "verdict")
//
// Edges (each is one `emit` command; the Director appends it and calls `next` again):
//   start                      → P1                       phase.started {1, iteration 1}
//   P1 all done                → P2                       phase.started {2, i}
//   P2 all done                → P3                       phase.started {3, i}
//   P3 verify decided          → P4                       phase.started {4, i}
//   P4 continue|revise, i < cap→ P2 (findings in context) phase.started {2, i + 1}
//   P4 continue|revise, i ≥ cap→ waiting-human            run.waiting-human {cause max-iterations}
//   P4 finish                  → finished                 finish {success}
//   any escalate / alert L3    → waiting-human            run.waiting-human {cause escalated|alert}
//   new work while over budget → waiting-human            run.waiting-human {cause budget}
//   step failed, retries left  → the same step again      request {attempt + 1}
//   step failed maxStepAttempts→ waiting-human            run.waiting-human {cause step-failed}
//   waiting-human + human.decided continue|revise → back where it stopped; finish → finished;
//   abort (Director, human) anywhere → aborted; alert L4 → failed; run.paused ⇄ run.resumed.
//
// `next` is idempotent: it derives everything from the state, and a step with a request in
// flight is never requested again, so a restarted Director may call it any number of times.
// The Director appends `step.requested` before it publishes the REQUEST (job id = message id);
// after a restart it may re-publish what is in flight (BullMQ drops the duplicate job) or let
// `overdueSteps` time it out into a `step.failed`, which `next` retries.

import type { Role } from '@nightshift/protocol';
import { budgetOverruns, describeOverruns } from '../budget.js';
import { deepFreeze } from '../freeze.js';
import type { Instant } from '../time.js';
import { type StepContext, stepContext } from './context.js';
import type { RunEventDraft, RunOutcome, WaitCause } from './events.js';
import { isTerminal, type RunState } from './state.js';
import { type DecideStepId, PHASE_STEPS, type RunPhase, STEPS, type StepId } from './steps.js';

/** guide §4/issue 5: a hard cap on P4 loops so no run loops forever. */
export const DEFAULT_MAX_ITERATIONS = 5;
/** guide §9 "Emergency Threshold: 3 failures, then escalate". */
export const DEFAULT_MAX_STEP_ATTEMPTS = 3;

export interface WorkflowConfig {
  readonly maxIterations: number;
  /** Failures of one step in one iteration before a human is asked. */
  readonly maxStepAttempts: number;
}
export const DEFAULT_WORKFLOW_CONFIG: WorkflowConfig = deepFreeze({
  maxIterations: DEFAULT_MAX_ITERATIONS,
  maxStepAttempts: DEFAULT_MAX_STEP_ATTEMPTS,
});

/** Send a REQUEST to `agent.<role>`: append `step.requested` with a new message id, then publish. */
export interface RequestCommand {
  readonly kind: 'request';
  readonly step: StepId;
  readonly role: Role;
  readonly phase: RunPhase;
  readonly iteration: number;
  readonly attempt: number;
  readonly context: StepContext;
}
/**
 * Make the Director's own call. Append `step.requested` (role director) first, so `next` waits
 * instead of asking again; then `step.completed` (frame) or `decision.made {step: 'verify'}`.
 */
export interface DecideCommand {
  readonly kind: 'decide';
  readonly step: DecideStepId;
  readonly role: 'director';
  readonly phase: RunPhase;
  readonly iteration: number;
  readonly attempt: number;
  readonly context: StepContext;
}
/** Append this event (stamped with the Director's clock), then call `next` again. */
export interface EmitCommand {
  readonly kind: 'emit';
  readonly event: RunEventDraft;
}
/** Nothing to do until an event arrives (a step's answer, a human, a resume). */
export interface WaitCommand {
  readonly kind: 'wait';
  readonly on: 'steps' | 'human' | 'resume' | 'run-created';
  readonly reason: string;
  readonly steps?: readonly StepId[];
}
/** End the run: write the summary, then append `run.finished {outcome}`. */
export interface FinishCommand {
  readonly kind: 'finish';
  readonly outcome: RunOutcome;
  readonly reason: string;
}
export type Command = RequestCommand | DecideCommand | EmitCommand | WaitCommand | FinishCommand;

/**
 * What to do next. [] once the run has ended; otherwise either one `emit`, one `finish`, one
 * `wait`, or the `request`/`decide` commands that may run now (two in P2: Builder ‖ Scout).
 * `now` only matters for an hours budget; without it the latest event's time is used.
 */
export function next(
  state: RunState,
  config: WorkflowConfig = DEFAULT_WORKFLOW_CONFIG,
  now?: Instant,
): Command[] {
  if (isTerminal(state.status)) return [];
  if (state.runId === null) return [{ kind: 'wait', on: 'run-created', reason: 'no run.created yet' }];
  if (state.stop) return [{ kind: 'finish', outcome: state.stop.outcome, reason: state.stop.reason }];
  if (state.status === 'paused') return [{ kind: 'wait', on: 'resume', reason: 'the run is paused' }];
  if (state.status === 'waiting-human') {
    return [{ kind: 'wait', on: 'human', reason: state.waiting?.reason ?? 'waiting for a human' }];
  }
  if (state.pendingEscalation) {
    return [waitHuman(state.pendingEscalation.cause, state.pendingEscalation.reason)];
  }
  const plan = planPhase(state, config);
  if (startsWork(plan) && !state.budget.waived) {
    const overruns = budgetOverruns(state.budget, now);
    if (overruns.length > 0) return [waitHuman('budget', `budget exceeded: ${describeOverruns(overruns)}`)];
  }
  return plan;
}

function waitHuman(cause: WaitCause, reason: string, step?: StepId): EmitCommand {
  const event: RunEventDraft =
    step === undefined
      ? { type: 'run.waiting-human', cause, reason }
      : { type: 'run.waiting-human', cause, reason, step };
  return { kind: 'emit', event };
}

function startPhase(phase: RunPhase, iteration: number): EmitCommand {
  return { kind: 'emit', event: { type: 'phase.started', phase, iteration } };
}

/** New work costs money; finishing, waiting, asking a human or entering P4 (no step) does not. */
function startsWork(plan: readonly Command[]): boolean {
  return plan.some(
    (c) =>
      c.kind === 'request' ||
      c.kind === 'decide' ||
      (c.kind === 'emit' && c.event.type === 'phase.started' && c.event.phase !== 4),
  );
}

function planPhase(state: RunState, config: WorkflowConfig): Command[] {
  if (state.phase === null) return [startPhase(1, state.iteration)];
  if (state.phase === 4) return iterate(state, config);
  const steps = PHASE_STEPS[state.phase];
  const ready: Command[] = [];
  for (const step of steps) {
    const p = state.progress[step];
    if (p?.done || state.inFlight[step]) continue;
    if (!STEPS[step].after.every((dep) => state.progress[dep]?.done)) continue;
    if ((p?.failures ?? 0) >= config.maxStepAttempts) {
      const why = `${step} failed ${p?.failures} times (limit ${config.maxStepAttempts}): ${p?.lastError ?? ''}`;
      return [waitHuman('step-failed', why.trim(), step)];
    }
    ready.push(work(state, step, (p?.attempts ?? 0) + 1));
  }
  if (ready.length > 0) return ready;
  const flying = steps.filter((step) => state.inFlight[step] !== undefined);
  if (flying.length > 0) {
    return [{ kind: 'wait', on: 'steps', reason: `waiting for ${flying.join(', ')}`, steps: flying }];
  }
  return [startPhase((state.phase + 1) as RunPhase, state.iteration)];
}

function work(state: RunState, step: StepId, attempt: number): RequestCommand | DecideCommand {
  const spec = STEPS[step];
  const common = {
    phase: spec.phase,
    iteration: state.iteration,
    attempt,
    context: stepContext(state, step, attempt),
  };
  if (spec.kind === 'decide')
    return { kind: 'decide', step: step as DecideStepId, role: 'director', ...common };
  return { kind: 'request', step, role: spec.role, ...common };
}

/** P4: act on the verify decision (guide §4 "Loop back to Phase 2", issue 5 iteration cap). */
function iterate(state: RunState, config: WorkflowConfig): Command[] {
  const verdict = state.verdict;
  const rationale = state.decisions.findLast((d) => d.step === 'verify')?.rationale ?? '';
  switch (verdict) {
    case null:
      return [work(state, 'verify', (state.progress.verify?.attempts ?? 0) + 1)];
    case 'finish':
      return [{ kind: 'finish', outcome: 'success', reason: `verified: ${rationale}` }];
    case 'abort':
      return [{ kind: 'finish', outcome: 'aborted', reason: `verify: ${rationale}` }];
    case 'escalate':
      return [waitHuman('escalated', `verify escalated: ${rationale}`)];
    case 'continue':
    case 'revise': {
      const cap = config.maxIterations + state.extraIterations;
      if (state.iteration >= cap) {
        return [
          waitHuman(
            'max-iterations',
            `iteration ${state.iteration} reached the cap of ${cap}; the Director asked to ${verdict}: ${rationale}`,
          ),
        ];
      }
      return [startPhase(2, state.iteration + 1)];
    }
  }
}
