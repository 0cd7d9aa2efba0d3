// The escalation ladder (guide §4 "Escalation Levels" 0–4, §3 "Escalation to human"): what to do
// about a detection, given the level the system is at and how often this incident was handled.
import { deepFreeze } from './freeze.js';
import type { Level } from './levels.js';
import { maxLevel } from './levels.js';

export type EscalationAction =
  /** L1: restart the stuck agent's job (first attempt). */
  | 'restart-agent'
  /** L1: give the task to another agent of the role (a later attempt). */
  | 'reassign-task'
  /** L2: the other agents pause (their queues pause; the work stays queued). */
  | 'pause-others'
  | 'emergency-meeting'
  | 'director-mediates'
  /** L2 after a failed attempt: "may require phase restart". */
  | 'restart-phase'
  /** L3: every agent queue pauses. */
  | 'pause-all'
  | 'state-dump'
  | 'human-summary'
  /** L3+: alert file, grep-able log line, webhook (guide §4 "Human Notification"). */
  | 'notify-human'
  | 'wait-human'
  /** L4. */
  | 'graceful-shutdown'
  | 'preserve-state';

export type HumanReason = 'unresolved-after-attempts' | 'irreversible' | 'no-consensus' | 'budget-exceeded';

/** One earlier handling of an incident (by detection key). */
export interface EscalationRecord {
  readonly key: string;
  readonly level: Level;
  readonly resolved: boolean;
}

/** Facts about the situation that force a human (guide §3 "ESCALATION TO HUMAN"). */
export interface EscalationSituation {
  /** The next step would be irreversible (delete, force-push, deploy…). */
  readonly irreversible?: boolean;
  /** Agents in conflict with no consensus (a debate ended with the Director deciding, and it cannot). */
  readonly noConsensus?: boolean;
  readonly budgetExceeded?: boolean;
}

export interface EscalationConfig {
  /** guide §3: "Emergency unresolved after 2 attempts" → human. */
  readonly humanAfterAttempts: number;
}
export const DEFAULT_ESCALATION_CONFIG: EscalationConfig = deepFreeze({ humanAfterAttempts: 2 });

export interface Escalation {
  /** The system's level after this detection (never lower than the current one). */
  readonly level: Level;
  /** What to do now, in order; empty when the detection is deferred under a higher level. */
  readonly actions: readonly EscalationAction[];
  readonly toHuman: boolean;
  readonly humanReasons: readonly HumanReason[];
  /** Earlier unresolved handlings of this incident. */
  readonly attempts: number;
  readonly reason: string;
}

const LADDER: Readonly<Record<Level, readonly EscalationAction[]>> = deepFreeze({
  0: [],
  1: ['restart-agent'],
  2: ['pause-others', 'emergency-meeting', 'director-mediates'],
  3: ['pause-all', 'state-dump', 'human-summary', 'notify-human', 'wait-human'],
  4: ['graceful-shutdown', 'preserve-state', 'notify-human'],
});

/** The actions of one level, for the attempt about to be made (0 = first). */
export function actionsFor(level: Level, attempts = 0): EscalationAction[] {
  if (level === 1 && attempts > 0) return ['reassign-task'];
  if (level === 2 && attempts > 0) return [...LADDER[2], 'restart-phase'];
  return [...LADDER[level]];
}

export function escalate(
  current: Level,
  detection: { readonly key: string; readonly level: Level; readonly reason: string },
  history: readonly EscalationRecord[],
  situation: EscalationSituation = {},
  cfg: EscalationConfig = DEFAULT_ESCALATION_CONFIG,
): Escalation {
  const attempts = history.filter((h) => h.key === detection.key && !h.resolved).length;
  const humanReasons: HumanReason[] = [];
  if (attempts >= cfg.humanAfterAttempts) humanReasons.push('unresolved-after-attempts');
  if (situation.irreversible) humanReasons.push('irreversible');
  if (situation.noConsensus) humanReasons.push('no-consensus');
  if (situation.budgetExceeded) humanReasons.push('budget-exceeded');
  // A human is reached at Level 3 ("wait for human intervention"); Level 4 stays 4.
  const target: Level = humanReasons.length > 0 ? maxLevel(detection.level, 3) : detection.level;
  const level = maxLevel(current, target);
  const why =
    humanReasons.length > 0
      ? `${detection.reason} (to a human: ${humanReasons.join(', ')})`
      : detection.reason;
  // At L3+ everything is paused for a human: a smaller issue waits with it instead of acting.
  if (current >= 3 && target < current) {
    return {
      level,
      actions: [],
      toHuman: current >= 3,
      humanReasons,
      attempts,
      reason: `deferred at L${current}: ${why}`,
    };
  }
  return {
    level,
    actions: actionsFor(target, attempts),
    toHuman: target >= 3,
    humanReasons,
    attempts,
    reason: why,
  };
}
