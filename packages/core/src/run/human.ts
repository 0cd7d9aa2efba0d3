// What a human's answer does to a waiting run (issue 5 "Human in the loop"), as part of the fold.
import type { RunEventOf } from './events.js';
import { activeStatus, type HumanDecisionRecord, type RunState } from './state.js';

/**
 * `abort` stops the run from any state. `finish` ends a waiting run with what it has.
 * `continue`/`revise` answer the wait's cause: one more iteration past the cap (max-iterations),
 * a waiver or the new limits (budget), fresh retries for the step (step-failed), or the human's
 * verdict in place of the Director's `escalate` (escalated). `revise`'s note reaches the next
 * steps' context. Any other answer is recorded and changes nothing.
 */
export function applyHumanDecided(s: RunState, e: RunEventOf<'human.decided'>): RunState {
  const waiting =
    s.status === 'waiting-human' || (s.status === 'paused' && s.statusBeforePause === 'waiting-human');
  const base: HumanDecisionRecord = {
    decision: e.decision,
    answered: waiting ? (s.waiting?.cause ?? 'other') : null,
    iteration: s.iteration,
    at: e.at,
  };
  const record: HumanDecisionRecord = e.note === undefined ? base : { ...base, note: e.note };
  const limit = e.budget === undefined ? s.budget.limit : { ...s.budget.limit, ...e.budget };
  let next: RunState = {
    ...s,
    humanDecisions: [...s.humanDecisions, record],
    budget: { ...s.budget, limit },
  };
  const why = `human: ${e.note ?? e.decision}`;
  if (e.decision === 'abort') return { ...next, stop: { outcome: 'aborted', reason: why } };
  if (!waiting) return next;

  const resumed = activeStatus(s.phase);
  next = {
    ...next,
    waiting: null,
    pendingEscalation: null,
    ...(s.status === 'paused' ? { statusBeforePause: resumed } : { status: resumed }),
  };
  if (e.decision === 'finish') return { ...next, stop: { outcome: 'success', reason: why } };

  // continue / revise
  if (next.verdict === 'escalate') next = { ...next, verdict: e.decision };
  switch (s.waiting?.cause) {
    case 'max-iterations':
      return { ...next, extraIterations: s.extraIterations + 1 };
    case 'budget':
      // New limits were given: they decide. None: the human accepts the overrun.
      return e.budget === undefined ? { ...next, budget: { ...next.budget, waived: true } } : next;
    case 'step-failed': {
      const step = s.waiting.step;
      const p = step === undefined ? undefined : s.progress[step];
      if (step === undefined || p === undefined) return next;
      return { ...next, progress: { ...next.progress, [step]: { ...p, failures: 0 } } };
    }
    default:
      return next;
  }
}
