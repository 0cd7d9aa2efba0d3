// The critical-path lower bound of a run: per step, the model time it needed (recorded by the
// fake servers); per phase, the longest chain through the steps' `after` edges; summed over phases.
import { STEPS } from '@nightshift/core';

/** Length of the union of [from, to) intervals (parallel calls count once). */
export function unionLength(intervals) {
  const sorted = intervals.filter((i) => i.to > i.from).sort((a, b) => a.from - b.from);
  let total = 0;
  let current;
  for (const { from, to } of sorted) {
    if (current === undefined || from > current.to) {
      if (current) total += current.to - current.from;
      current = { from, to };
    } else current.to = Math.max(current.to, to);
  }
  return current ? total + current.to - current.from : 0;
}

/**
 * Phase instances with their completed steps' time windows, from the run's events in order. A
 * request step runs from its step.requested to its step.completed. The Director's own steps
 * (frame, verify) have no step.requested: they start when the step before them ended (the last
 * workflow event) and end with their step.completed (frame) or verify decision.
 */
export function stepWindows(events) {
  const phases = [];
  let current;
  let lastAt = Number.NaN;
  for (const e of events) {
    const at = Date.parse(e.at);
    if (e.type === 'phase.started') {
      current = { phase: e.phase, iteration: e.iteration, steps: new Map() };
      phases.push(current);
    } else if (current && e.type === 'step.requested') {
      current.steps.set(e.messageId, { step: e.step, role: e.role, from: at, to: null });
    } else if (current && e.type === 'step.completed') {
      const s = current.steps.get(e.messageId);
      if (s) s.to = at;
      else current.steps.set(e.messageId, { step: e.step, role: e.role, from: lastAt, to: at });
    } else if (current && e.type === 'decision.made' && e.step === 'verify') {
      current.steps.set(`verify-${phases.length}`, {
        step: 'verify',
        role: 'director',
        from: lastAt,
        to: at,
      });
    } else continue;
    lastAt = at;
  }
  return phases;
}

/**
 * `calls`: every model call `{ role, from, to }` (service interval, ms). A request step's weight
 * is the union of its role's calls wholly inside its window; a Director decide step (frame,
 * verify) also owns every other call in its window (the review debate's votes run inside verify).
 */
export function criticalPath(events, calls) {
  const phases = stepWindows(events);
  const steps = [];
  let bound = 0;
  for (const p of phases) {
    // Only the attempt that completed counts: a failed attempt's time was not necessary.
    const done = [...p.steps.values()].filter((s) => s.to !== null && Number.isFinite(s.from));
    const weight = new Map();
    for (const s of done) {
      const decide = STEPS[s.step]?.kind === 'decide';
      // Only calls wholly inside the window: one still running when the step completed (e.g. the
      // Scribe summarising after it wrote a checkpoint) was not needed for the step to finish.
      const mine = calls.filter(
        (c) => c.from >= s.from - 1 && c.to <= s.to + 1 && (decide || c.role === s.role),
      );
      const modelMs = unionLength(mine);
      weight.set(s.step, Math.max(weight.get(s.step) ?? 0, modelMs));
      // firstCallAfterMs: from the step's start to its first call reaching the model (dispatch + queue).
      const first = Math.min(...mine.map((c) => c.from));
      steps.push({
        phase: p.phase,
        iteration: p.iteration,
        step: s.step,
        role: s.role,
        calls: mine.length,
        modelMs,
        windowMs: s.to - s.from,
        firstCallAfterMs: mine.length > 0 ? first - s.from : null,
      });
    }
    // Longest path through `after` (steps of one phase are few; memoised recursion).
    const memo = new Map();
    const longest = (id) => {
      if (memo.has(id)) return memo.get(id);
      const deps = (STEPS[id]?.after ?? []).filter((d) => weight.has(d));
      const value = (weight.get(id) ?? 0) + Math.max(0, ...deps.map(longest));
      memo.set(id, value);
      return value;
    };
    bound += Math.max(0, ...[...weight.keys()].map(longest));
  }
  return { boundMs: bound, steps };
}
