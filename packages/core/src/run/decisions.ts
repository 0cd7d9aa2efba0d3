// Decisions and alerts in the fold: the Director's verdict, aborts, escalations to a human.
import type { RunEventOf } from './events.js';
import { type CompletedStep, isTerminal, type RunState } from './state.js';
import { ignore, progressOf, withoutInFlight, withProgress } from './updates.js';

/**
 * A decision with `step: 'verify'` is the iteration's verdict (once per iteration; a second is
 * ignored). Any decision may also steer the run: abort → stop as aborted; escalate → wait for a
 * human; finish outside verify (an emergency meeting's outcome) → stop as a success; continue or
 * revise outside verify (a checkpoint's) are only recorded.
 */
export function applyDecisionMade(s: RunState, e: RunEventOf<'decision.made'>): RunState {
  const { type: _t, at, seq: _s, votes: _v, weights: _w, ...fields } = e;
  const recorded: RunState = {
    ...s,
    decisions: [...s.decisions, { ...fields, iteration: s.iteration, phase: s.phase, at }],
  };
  let next = recorded;
  if (e.step === 'verify') {
    const p = progressOf(s, 'verify');
    if (p.done) return ignore(s, e, `verify already decided in iteration ${s.iteration}`);
    const completion: CompletedStep = {
      step: 'verify',
      role: 'director',
      messageId: s.inFlight.verify?.messageId ?? `verify-${s.iteration}`,
      iteration: s.iteration,
      attempt: s.inFlight.verify?.attempt ?? p.attempts + 1,
      at,
      output: { decision: e.decision, rationale: e.rationale },
    };
    next = withoutInFlight(
      { ...next, verdict: e.decision, completed: [...next.completed, completion] },
      'verify',
    );
    next = withProgress(next, 'verify', { ...p, attempts: completion.attempt, done: true });
  }
  if (e.decision === 'abort')
    return { ...next, stop: { outcome: 'aborted', reason: `${e.by}: ${e.rationale}` } };
  if (e.decision === 'escalate')
    return { ...next, pendingEscalation: { cause: 'escalated', reason: e.rationale } };
  if (e.decision === 'finish' && e.step !== 'verify') {
    return { ...next, stop: { outcome: 'success', reason: `${e.by}: ${e.rationale}` } };
  }
  return next;
}

/** guide §4: an L3 alert makes the run wait for a human; L4 ends it as failed; lower ones are recorded. */
export function applyAlertRaised(s: RunState, e: RunEventOf<'alert.raised'>): RunState {
  const base = { level: e.level, reason: e.reason, code: e.code, at: e.at };
  const record = e.key === undefined ? base : { ...base, key: e.key };
  const next = { ...s, alerts: [...s.alerts, record] };
  if (isTerminal(s.status)) return next;
  // guide §4: L4 = unrecoverable → graceful shutdown; L3 = pause and wait for a human.
  if (e.level === 4) return { ...next, stop: { outcome: 'failed', reason: `alert ${e.code}: ${e.reason}` } };
  if (e.level === 3 && s.status !== 'waiting-human') {
    return { ...next, pendingEscalation: { cause: 'alert', reason: `alert ${e.code}: ${e.reason}` } };
  }
  return next;
}
