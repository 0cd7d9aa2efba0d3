// Deadlines of steps and phases (guide §7 role timeouts; §4 runaway: a phase past 2× expected).

import type { Role } from '@nightshift/protocol';
import { deepFreeze } from '../freeze.js';
import { type Instant, toMs } from '../time.js';
import type { InFlightStep, RunState } from './state.js';
import type { RunPhase } from './steps.js';

/** guide §7 "Agent-Specific Settings": Director 120 s … Builder 900 s, Scribe 60 s. */
export const DEFAULT_ROLE_TIMEOUTS_MS: Readonly<Record<Role, number>> = deepFreeze({
  director: 120_000,
  architect: 180_000,
  scout: 300_000,
  builder: 900_000,
  refactorer: 600_000,
  inspector: 600_000,
  scribe: 60_000,
});

/**
 * Expected duration of each phase. The guide gives no number; these equal the config package's
 * `workflow.phaseExpectedSeconds` defaults (P1 10 min, P2 30 min, P3 15 min, P4 5 min).
 */
export const DEFAULT_PHASE_EXPECTED_MS: Readonly<Record<RunPhase, number>> = deepFreeze({
  1: 600_000,
  2: 1_800_000,
  3: 900_000,
  4: 300_000,
});

export interface OverdueStep extends InFlightStep {
  readonly ageMs: number;
  readonly timeoutMs: number;
}

/**
 * Steps in flight for longer than their role's timeout. The Director appends `step.failed`
 * (reason "timeout") for each, which makes `next` retry them. After a Director restart this is
 * also how a request lost between `step.requested` and its publish gets sent again.
 */
export function overdueSteps(
  state: RunState,
  now: Instant,
  timeoutsMs: Readonly<Record<Role, number>> = DEFAULT_ROLE_TIMEOUTS_MS,
): OverdueStep[] {
  const nowMs = toMs(now, 'now');
  const out: OverdueStep[] = [];
  for (const flying of Object.values(state.inFlight)) {
    if (!flying) continue;
    const ageMs = nowMs - toMs(flying.requestedAt, 'requestedAt');
    const timeoutMs = timeoutsMs[flying.role];
    if (ageMs > timeoutMs) out.push({ ...flying, ageMs, timeoutMs });
  }
  return out.sort((a, b) => a.step.localeCompare(b.step));
}

/** How long the current phase has run, or null before the first phase. */
export function phaseElapsedMs(state: RunState, now: Instant): number | null {
  if (state.phaseStartedAt === null) return null;
  return toMs(now, 'now') - toMs(state.phaseStartedAt, 'phaseStartedAt');
}
