// One Sentinel round: gather the facts, judge them with core's rules (detect → escalate), raise
// each incident once in the alert store, carry out its plan, close incidents whose condition
// cleared, and apply human resolutions. Rounds and bus reactions run one at a time.
import {
  DEFAULT_ESCALATION_CONFIG,
  DEFAULT_PHASE_EXPECTED_MS,
  type Detection,
  type DetectionThresholds,
  detect,
  type EscalationConfig,
  escalate,
  type RunPhase,
} from '@nightshift/core';
import type { Message } from '@nightshift/protocol';
import type { AlertRecord, AlertStore } from '@nightshift/redis';
import { type ActDeps, alertFileFor, carryOut, effectsKey, isCarriedOut } from './act.js';
import type { AgentWindow } from './agents.js';
import type { Gatherer } from './gather.js';
import { buildObservations, type Facts, isWatched } from './observe.js';
import {
  alertKeyOf,
  autoResolvable,
  baseKeyOf,
  currentLevel,
  DEPLOYMENT,
  familyOf,
  historyFor,
  neededRole,
  planSteps,
  prune,
} from './planner.js';
import { applyResolution, parseResolve } from './resolve.js';
import type { RunCache } from './runs.js';

export interface EngineOptions extends ActDeps {
  alerts: AlertStore;
  runs: RunCache;
  gatherer: Gatherer;
  window: AgentWindow;
  thresholds: DetectionThresholds;
  escalation?: EscalationConfig;
  phaseExpectedMs?: Readonly<Record<RunPhase, number>>;
  /**
   * guide §4.5 "Level 2, then Level 3": how long the Director has to settle a runaway emergency
   * before it goes to a human (default 5 min; the guide names no number).
   */
  l2GraceMs?: number;
  circuits?: () => Readonly<Record<string, unknown>>;
}

export interface RoundReport {
  detections: Detection[];
  raised: AlertRecord[];
  autoResolved: string[];
}

interface Found {
  readonly detection: Detection;
  readonly runId: string | undefined;
}

export class Engine {
  readonly #o: EngineOptions;
  #chain: Promise<unknown> = Promise.resolve();
  #lastAtMs = 0;

  constructor(options: EngineOptions) {
    this.#o = options;
  }

  /** Runs `fn` after everything queued before it (round, resolution): no two interleave. */
  #serial<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#chain.then(fn, fn);
    this.#chain = run.catch(() => undefined);
    return run;
  }

  get #rearmKey(): string {
    return this.#o.keys.custom('sentinel', 'rearm');
  }

  /** A distinct timestamp per alert, so two alerts of one round never share an ALERT-<timestamp>.md. */
  #uniqueAt(now: number): string {
    this.#lastAtMs = Math.max(now, this.#lastAtMs + 1);
    return new Date(this.#lastAtMs).toISOString();
  }

  round(): Promise<RoundReport> {
    return this.#serial(() => this.#round());
  }

  /** A bus message: a `RESOLVE <alertId> …` DECISION from a human or the Director resolves the alert. */
  onMessage(message: Message): Promise<void> {
    if (message.type !== 'DECISION' || (message.from !== 'human' && message.from !== 'director')) {
      return Promise.resolve();
    }
    const parsed = parseResolve(message.content);
    if (!parsed) return Promise.resolve();
    return this.#serial(async () => {
      const alert = await this.#o.alerts.get(parsed.alertId);
      if (!alert) {
        this.#o.logger.warn({ alertId: parsed.alertId }, 'RESOLVE for an unknown alert; ignored');
        return;
      }
      const note = parsed.note ?? message.context;
      const resolved =
        alert.status === 'resolved'
          ? alert
          : await this.#o.alerts.resolve(alert.id, {
              decision: parsed.decision,
              by: message.from,
              ...(note === undefined ? {} : { note }),
            });
      await applyResolution(this.#applyDeps(), resolved);
    });
  }

  #applyDeps() {
    const o = this.#o;
    return {
      ...o,
      runStore: o.runStore,
      openRunIds: async () => (await o.runs.open()).map((r) => r.runId),
    };
  }

  /** Alerts resolved in the store (CLI, dashboard) whose effects are not applied yet. */
  async #applyPending(): Promise<void> {
    for (const id of await this.#o.redis.smembers(effectsKey(this.#o.keys))) {
      const alert = await this.#o.alerts.get(id);
      if (!alert) await this.#o.redis.srem(effectsKey(this.#o.keys), id);
      else if (alert.status === 'resolved') await applyResolution(this.#applyDeps(), alert);
    }
  }

  async #round(): Promise<RoundReport> {
    const o = this.#o;
    const now = o.now();
    const facts = await o.gatherer.gather(now);
    await this.#applyPending();

    const recent = await o.alerts.list({ limit: 1000 });
    const open = recent.filter((a) => a.status === 'open');
    const grace = o.l2GraceMs ?? 5 * 60_000;
    const raised = recent.filter((a) => Date.parse(a.raisedAt) <= now - grace).map((a) => baseKeyOf(a.key));
    const observations = buildObservations(
      facts,
      o.window,
      raised,
      o.phaseExpectedMs ?? DEFAULT_PHASE_EXPECTED_MS,
    );
    const found: Found[] = observations.flatMap((obs) =>
      prune(detect(obs, o.thresholds, now)).map((detection) => ({ detection, runId: obs.runId })),
    );

    const generations = await o.redis.hgetall(this.#rearmKey);
    const report: RoundReport = { detections: found.map((f) => f.detection), raised: [], autoResolved: [] };
    for (const { detection: d, runId } of found) {
      const key = alertKeyOf(d.key, Number(generations[d.key] ?? 0));
      const escalation = escalate(
        currentLevel(runId, open, key),
        { key: d.key, level: d.level, reason: d.reason },
        historyFor(d, runId, key, open),
        {},
        o.escalation ?? DEFAULT_ESCALATION_CONFIG,
      );
      // Deferred under a higher level: raised later, once that one is resolved.
      if (escalation.actions.length === 0) continue;
      const at = this.#uniqueAt(now);
      const file = alertFileFor(o.memoryDir, escalation.level, runId, at);
      const { alert, created } = await o.alerts.raise({
        key,
        level: escalation.level,
        rule: d.rule,
        subject: d.subject,
        reason: escalation.reason,
        actions: [...escalation.actions],
        at,
        ...(runId === undefined ? {} : { runId }),
        ...(file === undefined ? {} : { file }),
      });
      // Idempotent by key: a known incident is acted on once (unless a crash cut its plan short).
      if (!created && (alert.status !== 'open' || (await isCarriedOut(o.redis, o.keys, alert.id)))) continue;
      if (created) open.push(alert);
      const steps = planSteps(alert, {
        openRunIds: facts.runs.map((r) => r.runId),
        webhookMinLevel: o.webhook?.minLevel ?? 3,
        webhookConfigured: o.webhook !== undefined,
      });
      await carryOut(o, alert, steps, {
        runs: facts.runs,
        counts: facts.counts,
        heartbeats: o.gatherer.heartbeats,
        circuits: o.circuits?.() ?? {},
      });
      report.raised.push(alert);
    }
    report.autoResolved = await this.#settle(facts, found, recent);
    return report;
  }

  /** Closes L1/L2 incidents whose condition cleared, and re-arms resolved ones that cleared. */
  async #settle(facts: Facts, found: readonly Found[], recent: readonly AlertRecord[]): Promise<string[]> {
    const o = this.#o;
    const families = new Set(found.map((f) => familyOf({ ...f.detection, runId: f.runId })));
    const present = new Set(found.map((f) => f.detection.key));
    const views = new Map(facts.runs.map((r) => [r.runId, r]));
    /** Judged this round: deployment incidents always, run incidents while the run works. */
    const judged = (a: AlertRecord) => {
      if (a.runId === undefined) return 'yes';
      const view = views.get(a.runId);
      if (!view) return 'ended';
      return isWatched(view) ? 'yes' : 'no';
    };
    const closed: string[] = [];
    for (const a of recent) {
      const seen = judged(a);
      if (seen === 'no') continue;
      if (autoResolvable(a)) {
        const cleared =
          seen === 'ended' ||
          (a.rule.startsWith('stuck.')
            ? o.window.progressed(a.runId ?? DEPLOYMENT, neededRole(a.subject) ?? a.subject)
            : !families.has(familyOf(a)));
        if (!cleared) continue;
        const resolved = await o.alerts.resolve(a.id, {
          decision: 'continue',
          note: seen === 'ended' ? 'the run ended' : 'the condition cleared',
          by: 'sentinel',
        });
        await applyResolution(this.#applyDeps(), resolved);
        closed.push(a.id);
      } else if (a.status === 'resolved' && seen === 'yes') {
        // A resolved incident whose condition is gone may come back later: its next sighting alerts again.
        const base = baseKeyOf(a.key);
        const current = await o.redis.hget(this.#rearmKey, base);
        if (!present.has(base) && alertKeyOf(base, Number(current ?? 0)) === a.key) {
          await o.redis.hincrby(this.#rearmKey, base, 1);
        }
      }
    }
    return closed;
  }
}
