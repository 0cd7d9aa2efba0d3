// The shapes the control layer hands out (`nightshift status --json`, `GET /api/status`, the team
// view): zod schemas first, types inferred from them, so the JSON output is checkable by anyone.
import { RoleSchema, RunCheckoutSchema, SenderSchema } from '@nightshift/protocol';
import { z } from 'zod';

const iso = z.string();
const count = z.int().min(0);

/** A checkpoint Scribe recorded for a run (guide §7): its number, trigger, phase, iteration and decision. */
export const CheckpointInfoSchema = z.object({
  n: z.int(),
  trigger: z.string(),
  at: iso,
  phase: z.int().nullable(),
  iteration: z.int(),
  version: z.int(),
  decision: z.string(),
  file: z.string().nullable(),
});
/** One checkpoint of a run, as {@link CheckpointInfoSchema} describes it. */
export type CheckpointInfo = z.infer<typeof CheckpointInfoSchema>;

/**
 * Issue 24 §3: when a queued or running run is expected to end (p50, p90 of the simulated nights),
 * forecast from where it is. Null times with the reason in `note` when there is no forecast
 * (no finished run to learn from yet); a p50 with a null p90 and `note` "p90 from one run: no
 * spread" when history holds a single run (every draw is that run: its p90 would repeat the p50).
 */
export const RunEtaSchema = z.object({
  runId: z.string(),
  state: z.enum(['queued', 'running']),
  p50At: iso.nullable(),
  p90At: iso.nullable(),
  note: z.string().nullable(),
});
/** One run's ETA ({@link RunEtaSchema}). */
export type RunEta = z.infer<typeof RunEtaSchema>;

/** One forecast of every queued and running run: when it was made, from how many past runs. */
export const EtaBoardSchema = z.object({
  madeAt: iso,
  history: count,
  samples: count,
  runs: z.array(RunEtaSchema),
});
/** The ETAs of every queued and running run ({@link EtaBoardSchema}). */
export type EtaBoard = z.infer<typeof EtaBoardSchema>;

/** One line of the run list: who, what, where the run is, what it has spent and whether it waits for a human. */
export const RunSummarySchema = z.object({
  runId: z.string(),
  title: z.string().nullable(),
  task: z.string(),
  status: z.enum(['planning', 'running', 'waiting-human', 'paused', 'finished', 'aborted', 'failed']),
  phase: z.int().min(1).max(4).nullable(),
  phaseName: z.string().nullable(),
  iteration: z.int().min(1),
  createdAt: iso.nullable(),
  lastEventAt: iso.nullable(),
  waiting: z.object({ cause: z.string(), reason: z.string(), since: iso }).nullable(),
  tokens: count,
  usd: z.number().min(0),
  outcome: z.enum(['success', 'aborted', 'failed']).nullable(),
  ended: z.boolean(),
  /** Issue 18: the run's own branch, and where its checkout is (null for older runs). */
  branch: z.string().nullable(),
  checkout: RunCheckoutSchema.nullable(),
  /** Issue 24 §3: the run's ETA; null once it ended, or while it is paused or waits for a human. */
  eta: RunEtaSchema.nullable(),
});
/** A run as listed by `listRuns` and `status` ({@link RunSummarySchema}). */
export type RunSummary = z.infer<typeof RunSummarySchema>;

/** A run in full: the summary plus its version, phases, steps in flight, findings, checkpoints and trust. */
export const RunDetailSchema = RunSummarySchema.extend({
  version: count,
  phases: z.array(z.object({ phase: z.int().min(1).max(4), iteration: z.int(), at: iso })),
  inFlight: z.array(z.object({ step: z.string(), role: RoleSchema, since: iso, attempt: z.int() })),
  findings: z.object({ critical: count, major: count, minor: count }),
  lastDecision: z
    .object({ decision: z.string(), by: SenderSchema, rationale: z.string(), at: iso })
    .nullable(),
  trust: z.partialRecord(RoleSchema, z.number()),
  checkpoints: count,
  latestCheckpoint: CheckpointInfoSchema.nullable(),
  budgetLimit: z.object({
    maxTokens: z.number().optional(),
    maxUsd: z.number().optional(),
    maxHours: z.number().optional(),
  }),
});
/** A run as `getRun` and `status` show it ({@link RunDetailSchema}). */
export type RunDetail = z.infer<typeof RunDetailSchema>;

/** Jobs of one BullMQ queue by state. */
export const QueueCountsSchema = z.object({
  waiting: count,
  prioritized: count,
  active: count,
  delayed: count,
  completed: count,
  failed: count,
  paused: count,
});
/** Job counts of one queue by state ({@link QueueCountsSchema}). */
export type QueueCounts = z.infer<typeof QueueCountsSchema>;

/** One queue: its name, whether it is paused, its job counts and its depth (jobs waiting to run). */
export const QueueInfoSchema = z.object({
  name: z.string(),
  paused: z.boolean(),
  counts: QueueCountsSchema,
  /** waiting + prioritized: jobs no worker has taken yet. */
  depth: count,
});
/** One queue's state ({@link QueueInfoSchema}). */
export type QueueInfo = z.infer<typeof QueueInfoSchema>;

/** What an agent can be doing: working on a task, idle, paused (its queue is) or offline (no heartbeat). */
export const AGENT_STATES = ['working', 'idle', 'paused', 'offline'] as const;

/** One of the seven agents: state, current task, trust, instances, last heartbeat and its queue. */
export const AgentInfoSchema = z.object({
  role: RoleSchema,
  /** working: a step of an open run is in flight on it (or its heartbeat says busy); paused: its queue is. */
  state: z.enum(AGENT_STATES),
  instances: count,
  lastHeartbeat: iso.nullable(),
  currentTask: z.object({ runId: z.string(), step: z.string(), since: iso }).nullable(),
  trust: z.number().nullable(),
  /** `agent.<role>`; null for the Director, which has no work queue. */
  queue: z.string().nullable(),
  queuePaused: z.boolean(),
  depth: count,
});
/** One agent as `status` shows it ({@link AgentInfoSchema}). */
export type AgentInfo = z.infer<typeof AgentInfoSchema>;

/** An alert the Sentinel raised: level 0–4, rule, subject, reason and whether it is still open. */
export const AlertInfoSchema = z.object({
  id: z.string(),
  runId: z.string().optional(),
  level: z.int().min(0).max(4),
  rule: z.string(),
  subject: z.string(),
  reason: z.string(),
  status: z.enum(['open', 'resolved']),
  raisedAt: iso,
});
/** One alert ({@link AlertInfoSchema}). */
export type AlertInfo = z.infer<typeof AlertInfoSchema>;

/** The deployment at a glance (`nightshift status --json`, `GET /api/status`): runs, the run in focus, agents, LLM slots, queues and open alerts. */
export const StatusSchema = z.object({
  at: iso,
  prefix: z.string(),
  /** The run in focus: the one asked for, else the newest open run, else the newest run. */
  run: RunDetailSchema.nullable(),
  runs: z.array(RunSummarySchema),
  agents: z.array(AgentInfoSchema).length(7),
  llm: z.object({ inUse: count, limit: z.int().min(1), waiting: count }),
  queues: z.array(QueueInfoSchema),
  /** Issue 24 §3: the ETA of every queued and running run (queued ones are in no other list). */
  eta: EtaBoardSchema,
  alerts: z.object({
    open: z.array(AlertInfoSchema),
    openByLevel: z.record(z.string(), count),
  }),
});
/** What `status` returns ({@link StatusSchema}). */
export type Status = z.infer<typeof StatusSchema>;
