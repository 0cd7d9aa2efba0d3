// The part of the sentinel's observation that a run's own state answers (guide §4 rules 4, 5; §3 trust).
import type { Observation } from '../detection.js';
import type { RunState } from './state.js';
import type { RunPhase } from './steps.js';
import { DEFAULT_PHASE_EXPECTED_MS } from './timeouts.js';

/**
 * Tasks (step attempts this iteration), the current phase and its expected duration, the trust
 * snapshot, and this iteration's review (critical findings). Merge with what only the sentinel
 * sees (agents' calls, queues, memory, heartbeats) before calling `detect`.
 */
export function observeRun(
  state: RunState,
  expectedMs: Readonly<Record<RunPhase, number>> = DEFAULT_PHASE_EXPECTED_MS,
): Observation {
  const iteration = `i${state.iteration}`;
  const tasks = Object.entries(state.progress).map(([step, p]) => ({
    id: `${iteration}-${step}`,
    attempts: p?.attempts ?? 0,
  }));
  const criticalBugs = state.findings.current.filter((f) => f.severity === 'critical').length;
  const base: Observation = {
    tasks,
    trust: state.trust,
    reviews: criticalBugs > 0 ? [{ id: `${iteration}-review`, criticalBugs }] : [],
  };
  const withRun = state.runId === null ? base : { ...base, runId: state.runId };
  if (state.phase === null || state.phaseStartedAt === null) return withRun;
  return {
    ...withRun,
    phase: {
      phase: state.phase,
      iteration: state.iteration,
      startedAt: state.phaseStartedAt,
      expectedMs: expectedMs[state.phase],
    },
  };
}
