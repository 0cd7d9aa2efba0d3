// The action planner: from a detection and its escalation (core) to the concrete steps the Sentinel
// takes (guide §4 "Escalation Levels", §3 "Emergency Protocol", issue 9). Pure: no I/O, no clock.
import type { Detection, EscalationRecord, Level } from '@nightshift/core';
import { isWorkerRole, type Priority, WORKER_ROLES, type WorkerRole } from '@nightshift/protocol';
import type { AlertRecord } from '@nightshift/redis';

/** The run label of incidents that concern the whole deployment (core's detect uses the same). */
export const DEPLOYMENT = 'deployment';

/** The word a human greps the logs for (guide §4 "Human Alert Methods", option 2). */
export function levelWord(level: Level): string {
  return ['OK', 'ALERT', 'EMERGENCY', 'ESCALATE', 'ABORT'][level] ?? 'ALERT';
}

export type PlanStep =
  /** ALERT from `sentinel` to `director` (its inbox; EMERGENCY jumps the line). */
  | { readonly kind: 'notify-director'; readonly priority: Priority }
  /** Pause these BullMQ queues (the work stays queued). */
  | { readonly kind: 'pause'; readonly queues: readonly string[] }
  /** MEMORY_DIR/<run>/emergency.md in the guide's format (§3). */
  | { readonly kind: 'emergency-file' }
  /** MEMORY_DIR/<run>/state-dump.json: folded state, queue counts, heartbeats, circuits. */
  | { readonly kind: 'state-dump' }
  /** MEMORY_DIR/alerts/ALERT-<timestamp>.md for the human (§4 "Human Notification"). */
  | { readonly kind: 'alert-file' }
  /** `alert.raised` on these runs (L3 → waits for a human, L4 → failed). */
  | { readonly kind: 'run-alert'; readonly runIds: readonly string[] }
  /** One log line with the level word (EMERGENCY / ESCALATE / ABORT). */
  | { readonly kind: 'log'; readonly word: string }
  /** POST the signed webhook. */
  | { readonly kind: 'webhook' };

export interface PlanContext {
  /** Runs not finished, aborted or failed: a deployment-wide alert reaches each. */
  readonly openRunIds: readonly string[];
  /** config.alerts.minLevel: webhook at this level and above. */
  readonly webhookMinLevel: number;
  readonly webhookConfigured: boolean;
}

export type PlannedAlert = Pick<AlertRecord, 'level' | 'rule' | 'subject' | 'actions'> & { runId?: string };

export function agentQueue(role: string): string {
  return `agent.${role}`;
}

/** Every worker queue (Scribe keeps recording: it writes the state dump and hears everything). */
export const WORKER_QUEUES: readonly string[] = WORKER_ROLES.map(agentQueue);

/**
 * The worker the Director needs for this incident, read from the subject: a role (`builder`), an
 * agent (`builder-abc`), a task of the run (`i2-build` → the step's role) or a queue (`agent.builder`).
 */
export function neededRole(subject: string): WorkerRole | undefined {
  const queue = /^agent\.(.+)$/.exec(subject)?.[1];
  if (queue && isWorkerRole(queue)) return queue;
  const first = subject.split('-')[0];
  if (isWorkerRole(first)) return first;
  const step = /^i\d+-(.+)$/.exec(subject)?.[1];
  return step ? STEP_ROLES[step] : undefined;
}

const STEP_ROLES: Readonly<Record<string, WorkerRole>> = {
  design: 'architect',
  research: 'scout',
  'research-exec': 'scout',
  build: 'builder',
  refactor: 'refactorer',
  inspect: 'inspector',
};

/** The queues an alert pauses: L2 every worker but the one needed (§3 "all other agents pause"), L3+ all. */
export function queuesToPause(alert: Pick<PlannedAlert, 'level' | 'subject'>): string[] {
  if (alert.level >= 3) return [...WORKER_QUEUES];
  if (alert.level < 2) return [];
  const keep = neededRole(alert.subject);
  return WORKER_QUEUES.filter((q) => keep === undefined || q !== agentQueue(keep));
}

/** The runs an alert is about: its own, or every open run for a deployment-wide incident. */
export function affectedRuns(alert: Pick<PlannedAlert, 'runId'>, openRunIds: readonly string[]): string[] {
  return alert.runId === undefined ? [...openRunIds] : [alert.runId];
}

/** The steps for one alert, in the order they run. */
export function planSteps(alert: PlannedAlert, ctx: PlanContext): PlanStep[] {
  const steps: PlanStep[] = [];
  const runs = affectedRuns(alert, ctx.openRunIds);
  const webhook = ctx.webhookConfigured && alert.level >= ctx.webhookMinLevel;
  switch (alert.level) {
    case 0:
      break;
    case 1:
      // guide §4 L1: the Director reassigns or restarts the agent; the Sentinel tells it which.
      // TODO(issue 9): the Sentinel does not move the agent's active job itself. BullMQ moves an
      // active job only with its worker's lock token, and stealing the lock (so the stall check
      // re-queues it) leaves the stuck attempt running beside the new one. A clean restart needs
      // the agent to take a cancel request (e.g. on the bus → worker.cancelJob(id) in BullMQ 5),
      // which is services/agent's to add; until then the Director's retry of the step is the restart.
      steps.push({ kind: 'notify-director', priority: 'HIGH' });
      break;
    case 2:
      // guide §3 Emergency Protocol: write emergency.md, notify the Director, the others pause.
      steps.push({ kind: 'emergency-file' });
      steps.push({ kind: 'pause', queues: queuesToPause(alert) });
      steps.push({ kind: 'notify-director', priority: 'EMERGENCY' });
      if (runs.length > 0) steps.push({ kind: 'run-alert', runIds: runs });
      steps.push({ kind: 'log', word: levelWord(2) });
      break;
    case 3:
      // guide §4 L3: all pause, state dump, human summary, wait for a human.
      steps.push({ kind: 'pause', queues: queuesToPause(alert) });
      steps.push({ kind: 'state-dump' });
      steps.push({ kind: 'alert-file' });
      steps.push({ kind: 'notify-director', priority: 'EMERGENCY' });
      if (runs.length > 0) steps.push({ kind: 'run-alert', runIds: runs });
      steps.push({ kind: 'log', word: levelWord(3) });
      break;
    case 4:
      // guide §4 L4: graceful shutdown, state preserved for analysis.
      if (runs.length > 0) steps.push({ kind: 'run-alert', runIds: runs });
      steps.push({ kind: 'pause', queues: queuesToPause(alert) });
      steps.push({ kind: 'state-dump' });
      steps.push({ kind: 'alert-file' });
      steps.push({ kind: 'notify-director', priority: 'EMERGENCY' });
      steps.push({ kind: 'log', word: levelWord(4) });
      break;
  }
  if (webhook) steps.push({ kind: 'webhook' });
  return steps;
}

/** Incidents of one kind about one subject: stuck rules share a family (same-error implies no progress). */
export function familyOf(d: {
  readonly rule: string;
  readonly subject: string;
  readonly runId?: string | undefined;
}): string {
  const group = d.rule.startsWith('stuck.') ? 'stuck' : d.rule;
  return `${d.runId ?? DEPLOYMENT}|${group}|${d.subject}`;
}

/** Drops `stuck.no-progress` where `stuck.same-error` fires for the same subject: one alert, not two. */
export function prune(detections: readonly Detection[]): Detection[] {
  const sameError = new Set(detections.filter((d) => d.rule === 'stuck.same-error').map((d) => d.subject));
  return detections.filter((d) => !(d.rule === 'stuck.no-progress' && sameError.has(d.subject)));
}

/**
 * Earlier unresolved handlings of this incident for core's `escalate`: the open alerts of the same
 * family (not this very key), so an agent stuck on one error after another reaches a human after
 * two attempts (guide §3 "Emergency unresolved after 2 attempts").
 */
export function historyFor(
  detection: Pick<Detection, 'key' | 'rule' | 'subject'>,
  runId: string | undefined,
  alertKey: string,
  open: readonly AlertRecord[],
): EscalationRecord[] {
  const family = familyOf({ ...detection, runId });
  return open
    .filter((a) => a.status === 'open' && a.key !== alertKey && familyOf(a) === family)
    .map((a) => ({ key: detection.key, level: a.level, resolved: false }));
}

/** The level the system is at for this run: the highest open alert of the run or of the deployment. */
export function currentLevel(
  runId: string | undefined,
  open: readonly AlertRecord[],
  excludeKey?: string,
): Level {
  let level: Level = 0;
  for (const a of open) {
    if (a.status !== 'open' || a.key === excludeKey) continue;
    if (a.runId !== undefined && a.runId !== runId) continue;
    if (a.level > level) level = a.level;
  }
  return level;
}

/** A detection key with its re-arm generation: a resolved incident that cleared and came back alerts again. */
export function alertKeyOf(base: string, generation: number): string {
  return generation > 0 ? `${base}.r${generation}` : base;
}

export function baseKeyOf(alertKey: string): string {
  return alertKey.replace(/\.r\d+$/, '');
}

/** Alerts the Sentinel may close itself when their condition clears (a human answers L3+). */
export function autoResolvable(alert: Pick<AlertRecord, 'level' | 'status'>): boolean {
  return alert.status === 'open' && alert.level <= 2;
}
