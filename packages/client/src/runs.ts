// Reading runs for people: a run's events folded into its state (the Director's own fold),
// its checkpoints, and the short summary the runs list, `status` and the team view show.
import {
  fold,
  isTerminal,
  parseRunEvent,
  type RunEvent,
  type RunPhase,
  type RunState,
} from '@nightshift/core';
import { PHASE_NAMES } from '@nightshift/protocol';
import type { Keys, RedisClient, RunStore } from '@nightshift/redis';
import type { CheckpointInfo, EtaBoard, RunDetail, RunSummary } from './schemas.js';

/** A run read from its event log: the folded state, the events and the stored version. */
export interface LoadedRun {
  state: RunState;
  events: RunEvent[];
  /** Stored version (the guarded append's expected version); unreadable events still count. */
  version: number;
  /** Stored events that failed their schema, with the reason (shown, never thrown). */
  unreadable: { version: number; error: string }[];
}

/** Reads and folds a run's events; a run that does not exist folds to a state whose `runId` is null. */
export async function loadRun(store: RunStore, runId: string): Promise<LoadedRun> {
  const stored = await store.read(runId);
  const events: RunEvent[] = [];
  const unreadable: LoadedRun['unreadable'] = [];
  for (const s of stored) {
    try {
      events.push(parseRunEvent(s.event));
    } catch (error) {
      // The Director skips such an event too (driver.load); we show it instead of failing.
      unreadable.push({ version: s.version, error: error instanceof Error ? error.message : String(error) });
    }
  }
  return { state: fold(events), events, version: stored.at(-1)?.version ?? 0, unreadable };
}

/** Run ids, newest first (the index's score is the creation time). */
export async function recentRunIds(redis: RedisClient, keys: Keys, limit: number): Promise<string[]> {
  return redis.zrevrange(keys.runsIndex, 0, Math.max(0, limit - 1));
}

export async function readCheckpoints(
  parts: { redis: RedisClient; keys: Keys; store: RunStore },
  runId: string,
): Promise<CheckpointInfo[]> {
  const { redis, keys } = parts;
  const archived = await parts.store.archived(runId);
  const raw = archived
    ? archived.list(keys.runCheckpoints(runId))
    : await redis.lrange(keys.runCheckpoints(runId), 0, -1);
  const out: CheckpointInfo[] = [];
  for (const line of raw) {
    try {
      const r = JSON.parse(line) as Record<string, unknown>;
      out.push({
        n: typeof r.n === 'number' ? r.n : out.length + 1,
        trigger: typeof r.trigger === 'string' ? r.trigger : 'unknown',
        at: typeof r.at === 'string' ? r.at : '',
        phase: typeof r.phase === 'number' ? r.phase : null,
        iteration: typeof r.iteration === 'number' ? r.iteration : 0,
        version: typeof r.version === 'number' ? r.version : 0,
        decision: typeof r.decision === 'string' ? r.decision : '',
        file: typeof r.file === 'string' ? r.file : null,
      });
    } catch (error) {
      // A corrupt record is skipped (the Scribe does the same); the earlier ones still stand.
      void error;
    }
  }
  return out;
}

/** The guide's name of a phase (1 Planning … 4 Iterate), or null before the first phase. */
export function phaseName(phase: RunPhase | null): string | null {
  return phase === null ? null : (PHASE_NAMES[phase] ?? null);
}

/** The ETA of one run from a board (null: not queued or running, so not forecast). */
export function etaOf(board: EtaBoard | undefined, runId: string): RunSummary['eta'] {
  return board?.runs.find((r) => r.runId === runId) ?? null;
}

export function summarise(state: RunState, fallbackId: string, board?: EtaBoard): RunSummary {
  const runId = state.runId ?? fallbackId;
  return {
    runId,
    title: state.title ?? null,
    task: state.task,
    status: state.status,
    phase: state.phase,
    phaseName: phaseName(state.phase),
    iteration: state.iteration,
    createdAt: state.createdAt,
    lastEventAt: state.lastEventAt,
    waiting: state.waiting
      ? { cause: state.waiting.cause, reason: state.waiting.reason, since: state.waiting.since }
      : null,
    tokens: state.budget.spent.tokens,
    usd: state.budget.spent.usd,
    outcome: state.outcome,
    ended: isTerminal(state.status),
    branch: state.checkout?.branch ?? null,
    checkout: state.checkout ?? null,
    eta: etaOf(board, runId),
  };
}

export function detail(
  loaded: LoadedRun,
  runId: string,
  checkpoints: CheckpointInfo[],
  board?: EtaBoard,
): RunDetail {
  const { state } = loaded;
  const count = (severity: 'critical' | 'major' | 'minor') =>
    state.findings.current.filter((f) => f.severity === severity).length;
  return {
    ...summarise(state, runId, board),
    version: loaded.version,
    phases: state.phases.map((p) => ({ phase: p.phase, iteration: p.iteration, at: p.at })),
    inFlight: Object.values(state.inFlight).flatMap((f) =>
      f ? [{ step: f.step, role: f.role, since: f.requestedAt, attempt: f.attempt }] : [],
    ),
    findings: { critical: count('critical'), major: count('major'), minor: count('minor') },
    lastDecision: (() => {
      const d = state.decisions.at(-1);
      return d ? { decision: d.decision, by: d.by, rationale: d.rationale, at: d.at } : null;
    })(),
    trust: { ...state.trust },
    checkpoints: checkpoints.length,
    latestCheckpoint: checkpoints.at(-1) ?? null,
    budgetLimit: { ...state.budget.limit },
  };
}
