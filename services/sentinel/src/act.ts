// Carries out an alert's planned steps. Each finished step is written to a ledger in Redis, so a
// Sentinel restarted halfway resumes the remaining steps and never repeats a finished one (no
// second ALERT, no second webhook POST).
import { isTerminal, LEVEL_NAMES, type RunState } from '@nightshift/core';
import { newId } from '@nightshift/protocol';
import type { AlertRecord, Bus, HeartbeatRecord, Keys, RedisClient, RunStore } from '@nightshift/redis';
import type { Logger } from '@nightshift/runtime';
import {
  alertFilePath,
  emergencyPath,
  resolveCommand,
  writeAlertFile,
  writeEmergency,
  writeStateDump,
} from './files.js';
import type { QueueHolds } from './holds.js';
import { DEPLOYMENT, levelWord, type PlanStep } from './planner.js';
import { appendToRun, type RunView } from './runs.js';
import { postWebhook, type RetryPolicy } from './webhook.js';

export interface WebhookConfig {
  url: string;
  secret?: string;
  /** config.alerts.minLevel (guide: Level 3+). */
  minLevel: number;
  retry?: RetryPolicy;
  fetch?: typeof fetch;
}

export interface ActDeps {
  redis: RedisClient;
  keys: Keys;
  bus: Pick<Bus, 'publish'>;
  runStore: RunStore;
  holds: QueueHolds;
  logger: Logger;
  memoryDir: string;
  now: () => number;
  webhook?: WebhookConfig;
}

/** What the files and the dump show: the round's facts. */
export interface ActFacts {
  runs: readonly RunView[];
  counts: Readonly<Record<string, Readonly<Record<string, number>>>>;
  heartbeats: readonly HeartbeatRecord[];
  circuits: Readonly<Record<string, unknown>>;
}

/** Steps seen outside (a message, a POST): never repeated, even after a crash halfway. */
const ONCE = new Set<PlanStep['kind']>(['notify-director', 'webhook']);

export function ledgerKey(keys: Keys): string {
  return keys.custom('sentinel', 'ledger');
}

/** Alerts whose resolution has effects to apply (queues to resume, runs to answer). */
export function effectsKey(keys: Keys): string {
  return keys.custom('sentinel', 'effects');
}

export async function isCarriedOut(redis: RedisClient, keys: Keys, alertId: string): Promise<boolean> {
  return (await redis.hexists(ledgerKey(keys), `${alertId}:done`)) === 1;
}

/** The file an alert will point to, known before it is raised (the record carries it). */
export function alertFileFor(
  memoryDir: string,
  level: number,
  runId: string | undefined,
  at: string,
): string | undefined {
  if (level >= 3) return alertFilePath(memoryDir, at);
  if (level === 2) return emergencyPath(memoryDir, runId);
  return undefined;
}

export function directorContent(alert: AlertRecord): { content: string; expectedResponse: string } {
  const head = `${levelWord(alert.level)} ${alert.id} (level ${alert.level}, ${LEVEL_NAMES[alert.level]}) ${alert.rule} — ${alert.subject}: ${alert.reason}`;
  switch (alert.level) {
    case 1:
      return {
        content: `${head}. Restart or reassign ${alert.subject}'s task (guide §4, level 1).`,
        expectedResponse: 'Restart the agent, or give its task to another agent of the role.',
      };
    case 2:
      return {
        content: `${head}. Emergency meeting (guide §3): ${alert.file ?? 'emergency.md'}; the other agents are paused.`,
        expectedResponse: `Decide: resolve internally (DECISION to ALL "RESOLVE ${alert.id} continue"), request human intervention, or abort the phase ("RESOLVE ${alert.id} abort").`,
      };
    default:
      return {
        content: `${head}. All agents are paused; the run waits for a human (${alert.file ?? 'alert file'}).`,
        expectedResponse:
          'Write a human-readable summary of the situation for the morning (guide §4, level 3).',
      };
  }
}

export async function carryOut(
  deps: ActDeps,
  alert: AlertRecord,
  steps: readonly PlanStep[],
  facts: ActFacts,
): Promise<void> {
  const ledger = ledgerKey(deps.keys);
  if (steps.some((s) => s.kind === 'pause' || s.kind === 'run-alert')) {
    await deps.redis.sadd(effectsKey(deps.keys), alert.id);
  }
  const paused = steps.flatMap((s) => (s.kind === 'pause' ? [...s.queues] : []));
  const runs = alert.runId === undefined ? facts.runs : facts.runs.filter((r) => r.runId === alert.runId);
  const incident = {
    alert,
    runs: runs.map((r) => r.state),
    queues: facts.counts,
    paused,
    heartbeats: facts.heartbeats,
  };
  let directorMessageId: string | undefined;
  for (const step of steps) {
    const field = `${alert.id}:${step.kind}`;
    if (ONCE.has(step.kind)) {
      // Claimed before it is sent: a Sentinel killed mid-send never sends it again (at most once;
      // the alert file and the log line still carry the alert if the send was lost).
      if ((await deps.redis.hsetnx(ledger, field, 'started')) === 0) continue;
    } else if ((await deps.redis.hexists(ledger, field)) === 1) continue;
    switch (step.kind) {
      case 'pause':
        for (const queue of step.queues) await deps.holds.hold(queue, alert.id);
        break;
      case 'emergency-file':
        await writeEmergency(deps.memoryDir, {
          ...incident,
          ...(directorMessageId === undefined ? {} : { directorMessageId }),
        });
        break;
      case 'state-dump':
        await writeStateDump(deps.memoryDir, {
          ...incident,
          circuits: facts.circuits,
          at: new Date(deps.now()).toISOString(),
        });
        break;
      case 'alert-file':
        await writeAlertFile(alert.file ?? alertFilePath(deps.memoryDir, alert.raisedAt), incident);
        break;
      case 'notify-director': {
        const { content, expectedResponse } = directorContent(alert);
        directorMessageId = newId('msg');
        await deps.bus.publish({
          id: directorMessageId,
          runId: alert.runId ?? DEPLOYMENT,
          from: 'sentinel',
          to: 'director',
          type: 'ALERT',
          priority: step.priority,
          timestamp: new Date(deps.now()).toISOString(),
          content,
          context: `alert: ${JSON.stringify({ id: alert.id, key: alert.key, level: alert.level, rule: alert.rule, subject: alert.subject })}`,
          expectedResponse,
        });
        break;
      }
      case 'run-alert':
        for (const runId of step.runIds) {
          await appendToRun(
            deps.runStore,
            runId,
            (state: RunState) =>
              isTerminal(state.status) || state.alerts.some((a) => a.key === alert.key)
                ? []
                : [
                    {
                      type: 'alert.raised',
                      level: alert.level,
                      reason: alert.reason,
                      code: alert.rule,
                      key: alert.key,
                    },
                  ],
            deps.now,
            deps.logger,
          );
        }
        break;
      case 'log': {
        const line = `${step.word} L${alert.level} ${alert.rule} (${alert.subject}): ${alert.reason} — alert ${alert.id}${alert.level >= 3 ? `; resolve: ${resolveCommand(alert.id)}` : ''}`;
        const fields = {
          alertId: alert.id,
          level: alert.level,
          rule: alert.rule,
          runId: alert.runId,
          file: alert.file,
        };
        if (alert.level >= 3) deps.logger.error(fields, line);
        else deps.logger.warn(fields, line);
        break;
      }
      case 'webhook':
        await sendWebhook(deps, alert);
        break;
    }
    await deps.redis.hset(ledger, field, new Date(deps.now()).toISOString());
  }
  await deps.redis.hset(ledger, `${alert.id}:done`, new Date(deps.now()).toISOString());
}

async function sendWebhook(deps: ActDeps, alert: AlertRecord): Promise<void> {
  const hook = deps.webhook;
  if (!hook) return;
  const body = {
    type: 'nightshift.alert',
    word: levelWord(alert.level),
    levelName: LEVEL_NAMES[alert.level],
    resolve: resolveCommand(alert.id),
    alert,
  };
  try {
    const result = await postWebhook(body, {
      url: hook.url,
      alertId: alert.id,
      ...(hook.secret === undefined ? {} : { secret: hook.secret }),
      ...(hook.retry === undefined ? {} : { retry: hook.retry }),
      ...(hook.fetch === undefined ? {} : { fetch: hook.fetch }),
      onRetry: (info) => deps.logger.warn({ alertId: alert.id, ...info }, 'alert webhook failed; retrying'),
    });
    deps.logger.info(
      { alertId: alert.id, status: result.status, attempts: result.attempts },
      'alert webhook delivered',
    );
  } catch (error) {
    // Given up after the retries: the alert file and the log line still carry it; never retried again.
    deps.logger.error({ alertId: alert.id, err: error }, 'alert webhook gave up; see the alert file');
  }
}
