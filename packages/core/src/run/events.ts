// The run's event vocabulary (ARCHITECTURE §3: a run is event-sourced): one zod schema per event.
import {
  IdSchema,
  RoleSchema,
  RunCheckoutSchema,
  SEVERITY_LEVELS,
  SenderSchema,
  validate,
} from '@nightshift/protocol';
import { z } from 'zod';
import { BudgetLimitSchema, UsageSchema } from '../budget.js';
import { LevelSchema } from '../levels.js';
import { VoteSchema } from '../votes.js';
import { RunPhaseSchema, StepIdSchema } from './steps.js';

// Objects are not strict on purpose: an event log outlives the code that wrote it, and an older
// reader must still fold a newer event that gained a field (unknown keys are dropped).
const base = {
  at: z.iso.datetime({ offset: true }),
  /** Position in the run's log, when the store assigns one (1-based). */
  seq: z.int().min(1).optional(),
};
const event = <T extends string, S extends z.ZodRawShape>(type: T, shape: S) =>
  z.object({ type: z.literal(type), ...base, ...shape });

export const DECISIONS = ['continue', 'revise', 'escalate', 'finish', 'abort'] as const;
export const DecisionSchema = z.enum(DECISIONS);
export type Decision = z.infer<typeof DecisionSchema>;

/** What a human may answer a waiting run (`nightshift decide RUN --continue|--revise|--abort`). */
export const HUMAN_DECISIONS = ['continue', 'revise', 'finish', 'abort'] as const;
export const HumanDecisionSchema = z.enum(HUMAN_DECISIONS);
export type HumanDecision = z.infer<typeof HumanDecisionSchema>;

export const OUTCOMES = ['success', 'aborted', 'failed'] as const;
export const OutcomeSchema = z.enum(OUTCOMES);
export type RunOutcome = z.infer<typeof OutcomeSchema>;

/** Why a run waits for a human; decides what a human's "continue" means (see fold). */
export const WAIT_CAUSES = [
  'max-iterations',
  'budget',
  'step-failed',
  'escalated',
  'alert',
  'other',
] as const;
export const WaitCauseSchema = z.enum(WAIT_CAUSES);
export type WaitCause = z.infer<typeof WaitCauseSchema>;

/** The Inspector's severities (guide §1); the wire schema of findings is protocol's. */
export const SEVERITIES = SEVERITY_LEVELS;
export const SeveritySchema = z.enum(SEVERITIES);
export type Severity = z.infer<typeof SeveritySchema>;

export const RunCreatedSchema = event('run.created', {
  runId: IdSchema,
  task: z.string().min(1),
  title: z.string().optional(),
  workspace: z.string().optional(),
  /** The run's own checkout and branch (issue 18), prepared before this event is written. */
  checkout: RunCheckoutSchema.optional(),
  budget: BudgetLimitSchema.optional(),
  /** Trust snapshot the run starts from (deployment-wide scores); default: every worker at 7. */
  trust: z.partialRecord(RoleSchema, z.number()).optional(),
});
export const PhaseStartedSchema = event('phase.started', {
  phase: RunPhaseSchema,
  iteration: z.int().min(1),
});
export const StepRequestedSchema = event('step.requested', {
  step: StepIdSchema,
  role: RoleSchema,
  /** The REQUEST message id (= BullMQ job id). */
  messageId: IdSchema,
});
export const StepCompletedSchema = event('step.completed', {
  step: StepIdSchema,
  role: RoleSchema,
  messageId: IdSchema,
  output: z.unknown().optional(),
  usage: UsageSchema.optional(),
  model: z.string().optional(),
});
export const StepFailedSchema = event('step.failed', {
  step: StepIdSchema,
  role: RoleSchema,
  messageId: IdSchema,
  reason: z.string(),
});
export const CheckpointRequestedSchema = event('checkpoint.requested', { trigger: z.string().min(1) });
export const ReviewFindingSchema = event('review.finding', {
  severity: SeveritySchema,
  file: z.string().optional(),
  description: z.string().min(1),
  from: RoleSchema,
  messageId: IdSchema.optional(),
});
export const DecisionMadeSchema = event('decision.made', {
  decision: DecisionSchema,
  by: SenderSchema,
  rationale: z.string(),
  /** `verify` marks the P3 verdict; other decisions (checkpoint, emergency) leave the verdict alone. */
  step: StepIdSchema.optional(),
  model: z.string().optional(),
  /** The Director's model was the Ollama fallback, not Anthropic (issue 5). */
  fallback: z.boolean().optional(),
  /** The convergence rule that fired (issue 8 decision log). */
  rule: z.string().optional(),
  votes: z.array(VoteSchema).optional(),
  weights: z.partialRecord(RoleSchema, z.number()).optional(),
});
export const BudgetUsedSchema = event('budget.used', {
  tokens: z.int().min(0),
  usd: z.number().min(0),
  model: z.string().optional(),
  /** Of tokens: read from / written to Anthropic's prompt cache. */
  cacheReadTokens: z.int().min(0).optional(),
  cacheWriteTokens: z.int().min(0).optional(),
});
export const AlertRaisedSchema = event('alert.raised', {
  level: LevelSchema,
  reason: z.string(),
  code: z.string().min(1),
  /** Stable detection key, so a restarted sentinel does not raise the same alert twice. */
  key: z.string().optional(),
});
export const RunWaitingHumanSchema = event('run.waiting-human', {
  reason: z.string(),
  cause: WaitCauseSchema.optional(),
  step: StepIdSchema.optional(),
});
export const HumanDecidedSchema = event('human.decided', {
  decision: HumanDecisionSchema,
  note: z.string().optional(),
  /** New limits, merged over the old ones (raise the budget instead of waiving it). */
  budget: BudgetLimitSchema.optional(),
});
export const RunPausedSchema = event('run.paused', { reason: z.string().optional() });
export const RunResumedSchema = event('run.resumed', { reason: z.string().optional() });
export const RunFinishedSchema = event('run.finished', {
  outcome: OutcomeSchema,
  summary: z.string().optional(),
});
export const TrustChangedSchema = event('trust.changed', {
  role: RoleSchema,
  from: z.number(),
  to: z.number(),
  delta: z.number(),
  reason: z.string(),
  sourceMessageId: IdSchema.optional(),
});

export const RunEventSchema = z.discriminatedUnion('type', [
  RunCreatedSchema,
  PhaseStartedSchema,
  StepRequestedSchema,
  StepCompletedSchema,
  StepFailedSchema,
  CheckpointRequestedSchema,
  ReviewFindingSchema,
  DecisionMadeSchema,
  BudgetUsedSchema,
  AlertRaisedSchema,
  RunWaitingHumanSchema,
  HumanDecidedSchema,
  RunPausedSchema,
  RunResumedSchema,
  RunFinishedSchema,
  TrustChangedSchema,
]);
export type RunEvent = z.infer<typeof RunEventSchema>;
export type RunEventType = RunEvent['type'];
export type RunEventOf<T extends RunEventType> = Extract<RunEvent, { type: T }>;

type DistributiveOmit<T, K extends PropertyKey> = T extends unknown ? Omit<T, K> : never;
/** An event before the writer stamps it: what `next` asks the Director to append. */
export type RunEventDraft = DistributiveOmit<RunEvent, 'at' | 'seq'>;

/** Parse one stored event or throw a ValidationError naming every bad field. */
export function parseRunEvent(value: unknown): RunEvent {
  return validate(RunEventSchema, value, 'run event');
}

/** Stamp a draft with its time (the caller's clock) and optional log position. */
export function stamp(draft: RunEventDraft, at: string, seq?: number): RunEvent {
  const stamped = seq === undefined ? { ...draft, at } : { ...draft, at, seq };
  return parseRunEvent(stamped);
}
