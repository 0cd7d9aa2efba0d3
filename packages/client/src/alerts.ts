// Alerts and emergencies as people see and answer them: the sentinel's alert store, and a
// resolution that the sentinel acts on (it resumes queues and answers the run) when it reads the
// `RESOLVE <id> <decision>` DECISION this publishes (guide §4 "Human Notification").
import { type Message, MessageSchema, newId, ValidationError, validate } from '@nightshift/protocol';
import { type AlertRecord, createAlertStore } from '@nightshift/redis';
import type { ControlParts } from './parts.js';
import type { AlertInfo } from './schemas.js';

/** How a human may resolve an alert: let the run continue, abort it, or only add a note. */
export const ALERT_DECISIONS = ['continue', 'abort', 'note'] as const;
/** One of {@link ALERT_DECISIONS}. */
export type AlertDecision = (typeof ALERT_DECISIONS)[number];

/** Run id of the bus message about a deployment-wide alert (a message always names a run). */
export const DEPLOYMENT_RUN_ID = 'deployment';

/** The outcome of resolving an alert; the first resolution stands. */
export interface ResolveAlertResult {
  alertId: string;
  decision: AlertDecision;
  status: AlertRecord['status'];
  runId?: string;
  /** False when the alert was already resolved (the first resolution stands). */
  changed: boolean;
  /** The `RESOLVE <id> <decision>` DECISION on the bus (only when changed). */
  messageId?: string;
}

/**
 * `value` as an alert resolution.
 * @throws ValidationError on field `decision` naming the decisions allowed.
 */
export function parseAlertDecision(value: unknown): AlertDecision {
  if (typeof value === 'string' && (ALERT_DECISIONS as readonly string[]).includes(value)) {
    return value as AlertDecision;
  }
  throw new ValidationError('alert resolution', [
    { path: 'decision', expected: `one of ${ALERT_DECISIONS.join(', ')}`, received: String(value) },
  ]);
}

export function toAlertInfo(a: AlertRecord): AlertInfo {
  const info: AlertInfo = {
    id: a.id,
    level: a.level,
    rule: a.rule,
    subject: a.subject,
    reason: a.reason,
    status: a.status,
    raisedAt: a.raisedAt,
  };
  if (a.runId !== undefined) info.runId = a.runId;
  return info;
}

export async function listOpenAlerts(parts: ControlParts, limit = 100): Promise<AlertInfo[]> {
  const store = createAlertStore(parts.redis, parts.keys);
  return (await store.list({ status: 'open', limit })).map(toAlertInfo);
}

/** Every alert the store still holds, by level (for the escalations metric). */
export async function alertsByLevel(parts: ControlParts, limit = 10_000): Promise<AlertInfo[]> {
  const store = createAlertStore(parts.redis, parts.keys);
  return (await store.list({ limit })).map(toAlertInfo);
}

export async function resolveAlert(
  parts: ControlParts,
  alertId: string,
  decisionInput: unknown,
  note?: string,
): Promise<ResolveAlertResult> {
  const decision = parseAlertDecision(decisionInput);
  const store = createAlertStore(parts.redis, parts.keys);
  const before = await store.get(alertId);
  // The first resolution wins (the store's rule): a second one changes nothing and sends nothing.
  if (before?.status === 'resolved') {
    const same: ResolveAlertResult = { alertId, decision, status: before.status, changed: false };
    if (before.runId !== undefined) same.runId = before.runId;
    return same;
  }
  // Unknown id: the store throws ALERT_NOT_FOUND (a 404 on the dashboard).
  const record = await store.resolve(alertId, {
    decision,
    by: `human (${parts.actor})`,
    ...(note === undefined ? {} : { note }),
  });
  const draft: Record<string, unknown> = {
    id: newId('msg'),
    runId: record.runId ?? DEPLOYMENT_RUN_ID,
    from: 'human',
    to: 'ALL',
    type: 'DECISION',
    priority: decision === 'abort' ? 'EMERGENCY' : 'HIGH',
    timestamp: parts.now().toISOString(),
    content: `RESOLVE ${alertId} ${decision}`,
    context: [note === undefined ? undefined : `Note: ${note}`, `Sent by a human through the ${parts.actor}.`]
      .filter((line): line is string => line !== undefined)
      .join('\n'),
  };
  const message: Message = validate(MessageSchema, draft, 'alert resolution message');
  await parts.bus.publish(message);
  const result: ResolveAlertResult = {
    alertId,
    decision,
    status: record.status,
    changed: true,
    messageId: message.id,
  };
  if (record.runId !== undefined) result.runId = record.runId;
  return result;
}
