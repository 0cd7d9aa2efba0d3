// Resolving alerts (issue 9 §5): a human (CLI, dashboard) or the Director resolves an alert in the
// store and says so on the bus (`RESOLVE <alertId> continue|abort|note`, a DECISION to ALL); the
// Sentinel then lets go of the queues the alert paused and answers the run that waits for it.
import { isTerminal, type RunEventDraft, type RunState } from '@nightshift/core';
import { newId } from '@nightshift/protocol';
import type {
  AlertRecord,
  AlertResolution,
  AlertStore,
  Bus,
  Keys,
  RedisClient,
  RunStore,
} from '@nightshift/redis';
import type { Logger } from '@nightshift/runtime';
import { effectsKey } from './act.js';
import type { QueueHolds } from './holds.js';
import { DEPLOYMENT, familyOf, WORKER_QUEUES } from './planner.js';
import { appendToRun } from './runs.js';

const DECISIONS = ['continue', 'abort', 'note'] as const;

export function resolveContent(alertId: string, decision: AlertResolution['decision']): string {
  return `RESOLVE ${alertId} ${decision}`;
}

/** `RESOLVE <alertId> continue|abort|note [note…]` → its parts; anything else → undefined. */
export function parseResolve(
  content: string,
): { alertId: string; decision: AlertResolution['decision']; note?: string } | undefined {
  const m = /^\s*RESOLVE\s+(\S+)\s+(\S+)(?:\s+([\s\S]*\S))?\s*$/.exec(content);
  if (!m?.[1] || !m[2]) return undefined;
  const decision = m[2].toLowerCase() as AlertResolution['decision'];
  if (!DECISIONS.includes(decision)) return undefined;
  return m[3] === undefined ? { alertId: m[1], decision } : { alertId: m[1], decision, note: m[3] };
}

export interface ResolveAlertDeps {
  alerts: AlertStore;
  bus: Pick<Bus, 'publish'>;
  now?: () => number;
}

/**
 * Resolves the alert in the store and announces it on the bus; the Sentinel's loop does the rest
 * (resume the queues, answer the run). Throws ALERT_NOT_FOUND for an unknown id.
 */
export async function resolveAlert(
  deps: ResolveAlertDeps,
  alertId: string,
  resolution: AlertResolution,
): Promise<AlertRecord> {
  const alert = await deps.alerts.resolve(alertId, resolution);
  const decided = alert.resolution ?? resolution;
  await deps.bus.publish({
    id: newId('msg'),
    runId: alert.runId ?? DEPLOYMENT,
    from: resolution.by === 'director' ? 'director' : 'human',
    to: 'ALL',
    type: 'DECISION',
    priority: 'HIGH',
    timestamp: new Date(deps.now?.() ?? Date.now()).toISOString(),
    content: resolveContent(alertId, decided.decision),
    ...(decided.note === undefined ? {} : { context: decided.note }),
  });
  return alert;
}

export interface ApplyDeps {
  redis: RedisClient;
  keys: Keys;
  alerts: AlertStore;
  runStore: RunStore;
  holds: QueueHolds;
  bus: Pick<Bus, 'publish'>;
  logger: Logger;
  now: () => number;
  /** Open runs, for an alert about the whole deployment. */
  openRunIds: () => Promise<string[]>;
}

function waitsOn(state: RunState, key: string): boolean {
  const waiting =
    state.status === 'waiting-human' ||
    (state.status === 'paused' && state.statusBeforePause === 'waiting-human') ||
    state.pendingEscalation?.cause === 'alert';
  if (!waiting) return false;
  // Only the wait this alert caused: a newer alert's wait is not answered by an old resolution.
  const latest = [...state.alerts].reverse().find((a) => a.level >= 3);
  return latest?.key === key;
}

/** The run events a resolution writes, given the run's state now (none when it does not apply). */
export function resolutionEvents(state: RunState, alert: AlertRecord): RunEventDraft[] {
  const r = alert.resolution;
  if (!r || isTerminal(state.status)) return [];
  const note = r.note === undefined ? {} : { note: r.note };
  if (r.decision === 'abort') {
    return state.alerts.some((a) => a.key === alert.key)
      ? [{ type: 'human.decided', decision: 'abort', ...note }]
      : [];
  }
  if (r.decision !== 'continue' || !waitsOn(state, alert.key)) return [];
  const answer: RunEventDraft = { type: 'human.decided', decision: 'continue', ...note };
  // The Director may not have turned the alert into a wait yet (or is down): make the wait explicit
  // so the human's answer lands on it and the run continues from where it paused.
  if (state.status === 'waiting-human' || state.status === 'paused') return [answer];
  return [
    { type: 'run.waiting-human', cause: 'alert', reason: `alert ${alert.rule}: ${alert.reason}` },
    answer,
  ];
}

/**
 * The effects of a resolved alert, idempotent: release its queue holds (resuming the queues no one
 * else holds), resolve the lower open alerts of the same incident with it, answer the runs.
 */
export async function applyResolution(deps: ApplyDeps, alert: AlertRecord): Promise<void> {
  if (alert.status !== 'resolved' || !alert.resolution) return;
  const resolution = alert.resolution;
  const family = familyOf(alert);
  const lower = (await deps.alerts.list({ status: 'open', limit: 1000 })).filter(
    (a) => a.level < alert.level && familyOf(a) === family,
  );
  for (const a of lower) {
    const superseded = await deps.alerts.resolve(a.id, {
      decision: resolution.decision,
      note: `superseded by ${alert.id}`,
      by: resolution.by,
    });
    await applyResolution(deps, superseded);
  }
  const resumed = await deps.holds.releaseAll(WORKER_QUEUES, alert.id);
  const runIds = alert.runId === undefined ? await deps.openRunIds() : [alert.runId];
  const answered: string[] = [];
  for (const runId of runIds) {
    const events = await appendToRun(
      deps.runStore,
      runId,
      (state) => resolutionEvents(state, alert),
      deps.now,
      deps.logger,
    );
    if (events.length > 0) answered.push(runId);
  }
  await deps.redis.srem(effectsKey(deps.keys), alert.id);
  if (resumed.length === 0 && answered.length === 0) return;
  const what = `alert ${alert.id} resolved (${resolution.decision}) by ${resolution.by}${resolution.note ? `: ${resolution.note}` : ''}; resumed ${resumed.join(', ') || 'no queue'}; answered ${answered.join(', ') || 'no run'}`;
  deps.logger.info({ alertId: alert.id, resumed, answered }, what);
  await deps.bus.publish({
    id: newId('msg'),
    runId: alert.runId ?? DEPLOYMENT,
    from: 'sentinel',
    to: 'ALL',
    type: 'STATUS',
    priority: 'HIGH',
    timestamp: new Date(deps.now()).toISOString(),
    content: what,
  });
}
