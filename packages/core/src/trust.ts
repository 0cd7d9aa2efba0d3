// Trust scores (guide §9: range 1–10, start 7; §3: below 3 is an emergency) and how outcomes move them.

import { type Role, ValidationError } from '@nightshift/protocol';
import { deepFreeze } from './freeze.js';
import type { RunEventDraft } from './run/events.js';

export const TRUST_OUTCOMES = [
  'accepted-work',
  'critical-bug-in-own-work',
  'major-bug',
  'timeout',
  'alert-upheld',
  'alert-rejected',
] as const;
export type TrustOutcome = (typeof TRUST_OUTCOMES)[number];

export interface TrustConfig {
  readonly min: number;
  readonly max: number;
  readonly start: number;
  /** A score strictly below this calls an emergency meeting (guide §3: "drops below threshold (3/10)"). */
  readonly emergencyBelow: number;
  readonly deltas: Readonly<Record<TrustOutcome, number>>;
}

/**
 * guide §5's example sets critical-bug-in-own-work at −2 ("Trust adjustment recommended for
 * Builder (−2)"); the guide gives no other number, so the rest move by one step.
 */
export const DEFAULT_TRUST_DELTAS: Readonly<Record<TrustOutcome, number>> = deepFreeze({
  'accepted-work': 1,
  'critical-bug-in-own-work': -2,
  'major-bug': -1,
  timeout: -1,
  'alert-upheld': 1,
  'alert-rejected': -1,
});
/** guide §9 "Trust Score Range: 1-10, Start at 7". */
export const DEFAULT_START_TRUST = 7;
export const DEFAULT_TRUST_CONFIG: TrustConfig = deepFreeze({
  min: 1,
  max: 10,
  start: DEFAULT_START_TRUST,
  emergencyBelow: 3,
  deltas: DEFAULT_TRUST_DELTAS,
});

const OUTCOME_WORDS: Readonly<Record<TrustOutcome, string>> = {
  'accepted-work': 'work accepted',
  'critical-bug-in-own-work': 'critical bug found in own work',
  'major-bug': 'major bug found in own work',
  timeout: 'timed out',
  'alert-upheld': 'alert upheld',
  'alert-rejected': 'alert rejected',
};

export interface TrustAdjustment {
  readonly from: number;
  readonly to: number;
  /** The change actually applied (0 at a bound). */
  readonly delta: number;
  readonly outcome: TrustOutcome;
  readonly reason: string;
}

export function clampTrust(
  score: number,
  cfg: Pick<TrustConfig, 'min' | 'max'> = DEFAULT_TRUST_CONFIG,
): number {
  return Math.min(cfg.max, Math.max(cfg.min, score));
}

/** The new score after an outcome, clamped to [min, max]; `detail` (e.g. the finding) joins the reason. */
export function adjustTrust(
  current: number,
  outcome: TrustOutcome,
  cfg: TrustConfig = DEFAULT_TRUST_CONFIG,
  detail?: string,
): TrustAdjustment {
  if (!Number.isFinite(current)) {
    throw new ValidationError('trust score', [
      { path: 'current', expected: 'a finite number', received: String(current) },
    ]);
  }
  const from = clampTrust(current, cfg);
  const step = cfg.deltas[outcome];
  const to = clampTrust(from + step, cfg);
  const signed = step > 0 ? `+${step}` : `${step}`;
  const bound = to !== from + step ? `, clamped to ${to}` : '';
  const reason = `${OUTCOME_WORDS[outcome]} (${signed}${bound})${detail ? `: ${detail}` : ''}`;
  return { from, to, delta: to - from, outcome, reason };
}

/** guide §3: trust below 3 triggers an emergency meeting. */
export function belowEmergency(
  score: number,
  cfg: Pick<TrustConfig, 'emergencyBelow'> = DEFAULT_TRUST_CONFIG,
): boolean {
  return score < cfg.emergencyBelow;
}

/** The `trust.changed` event recording an adjustment (issue 8: every change with reason and source). */
export function trustChanged(
  role: Role,
  adjustment: TrustAdjustment,
  sourceMessageId?: string,
): RunEventDraft {
  const event: RunEventDraft = {
    type: 'trust.changed',
    role,
    from: adjustment.from,
    to: adjustment.to,
    delta: adjustment.delta,
    reason: adjustment.reason,
  };
  return sourceMessageId === undefined ? event : { ...event, sourceMessageId };
}
