// The shape of a run's state, derived only by folding its events (fold.ts); plain JSON, never mutated.

import { type Role, type RunCheckout, type Sender, WORKER_ROLES } from '@nightshift/protocol';
import { type BudgetState, EMPTY_BUDGET, type Usage } from '../budget.js';
import { deepFreeze } from '../freeze.js';
import type { Level } from '../levels.js';
import { DEFAULT_START_TRUST } from '../trust.js';
import type { Decision, HumanDecision, RunEventType, RunOutcome, Severity, WaitCause } from './events.js';
import type { RunPhase, StepId } from './steps.js';

export type RunStatus =
  | 'planning'
  | 'running'
  | 'waiting-human'
  | 'paused'
  | 'finished'
  | 'aborted'
  | 'failed';
export const TERMINAL_STATUSES: readonly RunStatus[] = ['finished', 'aborted', 'failed'];

export function isTerminal(status: RunStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** Planning until execution starts, running after. */
export function activeStatus(phase: RunPhase | null): RunStatus {
  return phase === null || phase === 1 ? 'planning' : 'running';
}

/** A REQUEST (or a Director call) that has been sent and not yet answered. */
export interface InFlightStep {
  readonly step: StepId;
  readonly role: Role;
  readonly messageId: string;
  /** 1-based attempt number of this step in this iteration. */
  readonly attempt: number;
  readonly iteration: number;
  readonly requestedAt: string;
}

/** Per-step counters of the current iteration (reset when a new iteration starts). */
export interface StepProgress {
  readonly attempts: number;
  /** Failures since the last human "continue" (the retry cap compares this). */
  readonly failures: number;
  readonly done: boolean;
  readonly lastError?: string;
}

export interface CompletedStep {
  readonly step: StepId;
  readonly role: Role;
  readonly messageId: string;
  readonly iteration: number;
  readonly attempt: number;
  readonly at: string;
  readonly output?: unknown;
  readonly usage?: Usage;
}

export interface FindingRecord {
  readonly severity: Severity;
  readonly file?: string;
  readonly description: string;
  readonly from: Role;
  readonly messageId?: string;
  readonly iteration: number;
  readonly phase: RunPhase | null;
  readonly at: string;
}

export interface DecisionRecord {
  readonly decision: Decision;
  readonly by: Sender;
  readonly rationale: string;
  // `| undefined`: copied field by field from the parsed event, where zod types optionals so.
  readonly step?: StepId | undefined;
  readonly model?: string | undefined;
  readonly fallback?: boolean | undefined;
  readonly rule?: string | undefined;
  readonly iteration: number;
  readonly phase: RunPhase | null;
  readonly at: string;
}

export interface HumanDecisionRecord {
  readonly decision: HumanDecision;
  readonly note?: string;
  /** The cause of the wait it answered (null: it came while the run was not waiting). */
  readonly answered: WaitCause | null;
  readonly iteration: number;
  readonly at: string;
}

export interface AlertRecord {
  readonly level: Level;
  readonly reason: string;
  readonly code: string;
  readonly key?: string;
  readonly at: string;
}

export interface Waiting {
  readonly cause: WaitCause;
  readonly reason: string;
  readonly step?: StepId;
  readonly since: string;
}

/** Something the workflow must act on before anything else (a stop, or an escalation to a human). */
export interface StopRequest {
  readonly outcome: RunOutcome;
  readonly reason: string;
}
export interface PendingEscalation {
  readonly cause: WaitCause;
  readonly reason: string;
}

export interface PhaseEntry {
  readonly phase: RunPhase;
  readonly iteration: number;
  readonly at: string;
}

/** An event that changed nothing but the version (stale, duplicate or out of place), and why. */
export interface IgnoredEvent {
  readonly version: number;
  readonly type: RunEventType;
  readonly reason: string;
}

export interface RunState {
  readonly runId: string | null;
  readonly task: string;
  readonly title?: string;
  readonly workspace?: string;
  /** Issue 18: the run's own checkout and branch (absent for runs created before it). */
  readonly checkout?: RunCheckout;
  readonly createdAt: string | null;
  readonly status: RunStatus;
  /** What `run.resumed` returns to. */
  readonly statusBeforePause: RunStatus | null;
  readonly phase: RunPhase | null;
  /** 1 for planning and the first execution; +1 each time P4 loops back to P2. */
  readonly iteration: number;
  readonly phaseStartedAt: string | null;
  /** Every phase.started in order: the run's phase sequence. */
  readonly phases: readonly PhaseEntry[];
  readonly inFlight: Readonly<Partial<Record<StepId, InFlightStep>>>;
  readonly progress: Readonly<Partial<Record<StepId, StepProgress>>>;
  /** Every accepted completion, all iterations, in order (outputs feed later steps' context). */
  readonly completed: readonly CompletedStep[];
  readonly findings: { readonly current: readonly FindingRecord[]; readonly all: readonly FindingRecord[] };
  readonly decisions: readonly DecisionRecord[];
  /** The verify decision of the current iteration (null until the Director has verified). */
  readonly verdict: Decision | null;
  readonly budget: BudgetState;
  /** Iterations a human granted past `maxIterations`. */
  readonly extraIterations: number;
  readonly waiting: Waiting | null;
  readonly pendingEscalation: PendingEscalation | null;
  readonly stop: StopRequest | null;
  readonly humanDecisions: readonly HumanDecisionRecord[];
  readonly alerts: readonly AlertRecord[];
  readonly checkpoints: readonly {
    readonly trigger: string;
    readonly iteration: number;
    readonly at: string;
  }[];
  readonly trust: Readonly<Partial<Record<Role, number>>>;
  readonly outcome: RunOutcome | null;
  readonly summary?: string;
  /** Number of events applied (the guarded append's expected version). */
  readonly version: number;
  readonly lastEventAt: string | null;
  readonly ignored: readonly IgnoredEvent[];
}

/** guide §9: trust starts at 7 for every worker (Director and Scribe are "N/A" in the guide's table). */
export function defaultTrust(start = DEFAULT_START_TRUST): Partial<Record<Role, number>> {
  return Object.fromEntries(WORKER_ROLES.map((role) => [role, start]));
}

export const initialState: RunState = deepFreeze({
  runId: null,
  task: '',
  createdAt: null,
  status: 'planning',
  statusBeforePause: null,
  phase: null,
  iteration: 1,
  phaseStartedAt: null,
  phases: [],
  inFlight: {},
  progress: {},
  completed: [],
  findings: { current: [], all: [] },
  decisions: [],
  verdict: null,
  budget: EMPTY_BUDGET,
  extraIterations: 0,
  waiting: null,
  pendingEscalation: null,
  stop: null,
  humanDecisions: [],
  alerts: [],
  checkpoints: [],
  trust: {},
  outcome: null,
  version: 0,
  lastEventAt: null,
  ignored: [],
});
