// The guide's emergency detection rules (§4 "Emergency Detection Rules", §3 emergency triggers) as
// pure functions over one observation snapshot; the sentinel gathers the snapshot, core judges it.

import type { Role } from '@nightshift/protocol';
import { deepFreeze } from './freeze.js';
import { fnv, incidentKey } from './incident-key.js';
import type { Level } from './levels.js';
import { type Instant, toMs } from './time.js';

export interface DetectionThresholds {
  /** §4.1 stuck: no progress for this many consecutive calls. */
  readonly stuckCalls: number;
  /** §4.1 stuck: the same error this many times in a row. */
  readonly sameErrorRepeats: number;
  /** §4.2 conflict: trust-weighted disagreement above this (the guide names no number; 0.5 = no option holds half the weight). */
  readonly disagreement: number;
  /** §4.3 resources: memory use above this percent. */
  readonly memoryPercent: number;
  /** §4.3 resources: more than this many requests waiting in one queue (the team's, background calls apart). */
  readonly queueDepth: number;
  /**
   * §4.3 resources, for background calls (the Scribe's summaries on `llm`, at the lowest priority):
   * more than this many waiting. Their own, higher number: they yield to every team call by design,
   * so a few dozen waiting behind a busy team is normal (issue 21: 78 in a soak), not a stuck team.
   */
  readonly backgroundQueueDepth: number;
  /** §4.3 resources: an LLM response slower than this. */
  readonly llmLatencyMs: number;
  /**
   * Issue 20: more than this many of a run's model calls whose prompt may have been cut to fit the
   * context window (num_ctx). Default 0: the first one alerts — the model answered without (part
   * of) its instructions, which no later step can notice by itself.
   */
  readonly promptCuts: number;
  /** §4.4 quality: more than this many critical bugs in one review. */
  readonly criticalBugs: number;
  /** §4.5 runaway: the same task attempted more than this many times. */
  readonly maxTaskAttempts: number;
  /** §4.5 runaway: a phase running longer than this × its expected duration. */
  readonly phaseOverrunFactor: number;
  /** §3 emergency: a trust score below this. */
  readonly trustEmergencyBelow: number;
  /** §3 emergency: an agent busy without progress for longer than this. */
  readonly agentStuckMs: number;
  /** §3/issue 9: the Director silent (no heartbeat) for longer than this; the guide names no number, so its own 120 s timeout. */
  readonly directorSilentMs: number;
}

export const DEFAULT_DETECTION_THRESHOLDS: DetectionThresholds = deepFreeze({
  stuckCalls: 3,
  sameErrorRepeats: 3,
  disagreement: 0.5,
  memoryPercent: 90,
  queueDepth: 50,
  backgroundQueueDepth: 200,
  llmLatencyMs: 5 * 60_000,
  promptCuts: 0,
  criticalBugs: 5,
  maxTaskAttempts: 5,
  phaseOverrunFactor: 2,
  trustEmergencyBelow: 3,
  agentStuckMs: 10 * 60_000,
  directorSilentMs: 120_000,
});

export type DetectionRule =
  | 'stuck.no-progress'
  | 'stuck.same-error'
  | 'conflict.contradiction'
  | 'conflict.disagreement'
  | 'resources.memory'
  | 'resources.queue-depth'
  | 'resources.llm-latency'
  | 'resources.prompt-cut'
  | 'resources.provider-down'
  | 'quality.critical-bugs'
  | 'quality.design-flaw'
  | 'runaway.attempts'
  | 'runaway.phase-duration'
  | 'emergency.trust-low'
  | 'emergency.critical-error'
  | 'emergency.agent-stuck'
  | 'emergency.director-silent';

export interface Detection {
  readonly rule: DetectionRule;
  readonly level: Level;
  /** Who or what: a role, a queue, a task, a phase. */
  readonly subject: string;
  readonly reason: string;
  /**
   * Stable id of this incident at this level: the same condition observed again gives the same
   * key, so an alert is raised once (issue 9). Safe as a Redis member, BullMQ job id or file name.
   * A caller that resolves an incident forgets its key, so a recurrence alerts again.
   */
  readonly key: string;
}

export interface CallObservation {
  readonly progress: boolean;
  readonly error?: string;
}
export interface AgentObservation {
  readonly role: Role;
  readonly agentId?: string;
  /** The agent's recent model/tool calls, oldest first. */
  readonly calls: readonly CallObservation[];
  /** Last time it made progress: anchors the incident (a new streak after progress is a new alert). */
  readonly lastProgressAt?: Instant;
  /** Working on a job since (absent: idle, so it cannot be stuck). */
  readonly busySince?: Instant;
}

/** One snapshot of what the sentinel sees; every part is optional and judged only if present. */
export interface Observation {
  readonly runId?: string;
  readonly agents?: readonly AgentObservation[];
  /** Contradictory outputs found (e.g. two agents' answers to one question disagree). */
  readonly conflicts?: readonly {
    readonly id: string;
    readonly roles: readonly Role[];
    readonly description: string;
  }[];
  /** Trust-weighted disagreement of a debate: `disagreement(votes, trust)` from convergence. */
  readonly disagreements?: readonly { readonly id: string; readonly value: number }[];
  readonly memoryPercent?: number;
  /** Waiting requests per queue name: the team's own (background calls are counted apart). */
  readonly queues?: Readonly<Record<string, number>>;
  /** Waiting background calls per queue name (the Scribe's summaries on `llm`). */
  readonly backgroundQueues?: Readonly<Record<string, number>>;
  /**
   * The model provider behind a queue (`llm`) as the circuit breaker sees it: `down` while its
   * circuit is open or half-open (consecutive provider failures, no successful trial yet), `since`
   * when the outage began (its first opening: one incident however many trials fail). Absent = not
   * known to be down.
   */
  readonly provider?: { readonly queue: string; readonly down: boolean; readonly since?: Instant };
  /** Latency of the slowest LLM call (finished or still running). */
  readonly llmLatencyMs?: number;
  /** This run's model calls whose prompt may have been cut to fit num_ctx (as far as seen). */
  readonly promptCuts?: number;
  readonly reviews?: readonly { readonly id: string; readonly criticalBugs: number }[];
  /** Fundamental design flaws flagged by the Architect. */
  readonly designFlaws?: readonly { readonly id: string; readonly description: string }[];
  readonly tasks?: readonly { readonly id: string; readonly attempts: number }[];
  readonly phase?: {
    readonly phase: number;
    readonly iteration: number;
    readonly startedAt: Instant;
    readonly expectedMs: number;
  };
  readonly trust?: Readonly<Partial<Record<Role, number>>>;
  readonly criticalErrors?: readonly {
    readonly id: string;
    readonly description: string;
    readonly role?: Role;
  }[];
  /** The Director's last heartbeat (the sentinel's own start time if it never saw one). */
  readonly director?: { readonly lastHeartbeatAt: Instant };
  /** Keys already raised: runaway goes to Level 3 when its Level 2 was already raised (§4.5). */
  readonly raised?: readonly string[];
}

/** Every rule that holds for the snapshot, sorted by key (deterministic). */
export function detect(observation: Observation, thresholds: DetectionThresholds, now: Instant): Detection[] {
  const nowMs = toMs(now, 'now');
  const t = thresholds;
  const out: Detection[] = [];
  const run = observation.runId ?? 'deployment';
  const hit = (rule: DetectionRule, level: Level, subject: string, reason: string, anchor?: string) =>
    out.push({ rule, level, subject, reason, key: incidentKey(run, rule, subject, level, anchor) });

  for (const agent of observation.agents ?? []) {
    const who = agent.agentId ? `${agent.role}-${agent.agentId}` : agent.role;
    const anchor =
      agent.lastProgressAt === undefined ? undefined : String(toMs(agent.lastProgressAt, 'lastProgressAt'));
    const recent = agent.calls.slice(-t.stuckCalls);
    if (recent.length >= t.stuckCalls && recent.every((c) => !c.progress)) {
      hit(
        'stuck.no-progress',
        1,
        who,
        `${who} made no progress in ${t.stuckCalls} consecutive calls`,
        anchor,
      );
    }
    const errors = agent.calls.slice(-t.sameErrorRepeats).map((c) => c.error?.trim());
    const first = errors[0];
    if (errors.length >= t.sameErrorRepeats && first && errors.every((e) => e === first)) {
      hit(
        'stuck.same-error',
        1,
        who,
        `${who} hit the same error ${t.sameErrorRepeats} times: ${first}`,
        `${anchor ?? 'x'}-${fnv(first)}`,
      );
    }
    if (agent.busySince !== undefined) {
      const since = Math.max(
        toMs(agent.busySince, 'busySince'),
        agent.lastProgressAt === undefined ? -Infinity : toMs(agent.lastProgressAt, 'lastProgressAt'),
      );
      const idleMs = nowMs - since;
      if (idleMs > t.agentStuckMs) {
        hit(
          'emergency.agent-stuck',
          2,
          who,
          `${who} stuck for ${minutes(idleMs)} (limit ${minutes(t.agentStuckMs)})`,
          String(since),
        );
      }
    }
  }

  for (const c of observation.conflicts ?? []) {
    hit(
      'conflict.contradiction',
      2,
      c.id,
      `contradictory outputs from ${c.roles.join(', ')}: ${c.description}`,
    );
  }
  for (const d of observation.disagreements ?? []) {
    if (d.value > t.disagreement) {
      hit(
        'conflict.disagreement',
        2,
        d.id,
        `trust-weighted disagreement ${d.value.toFixed(2)} > ${t.disagreement}`,
      );
    }
  }

  if (observation.memoryPercent !== undefined && observation.memoryPercent > t.memoryPercent) {
    hit('resources.memory', 3, 'memory', `memory at ${observation.memoryPercent}% > ${t.memoryPercent}%`);
  }
  // §4.3 queue depth, told apart from what needs no human (issue 21). A provider that is down
  // explains the backlog of its own queue: nobody can serve it, and it drains by itself once the
  // provider answers, so it raises `resources.provider-down` at Level 1 (the Director is told; no
  // queue is paused by the alert, the circuit breaker already holds the queue; the alert closes
  // itself when the provider is back) instead of a Level 3 that pauses the team until a human
  // answers. While the provider answers, the team's requests piling up past `queueDepth` are a stuck
  // or overloaded team: Level 3 as the guide says. Background calls (lowest priority) yield to every
  // team call by design and are judged apart, against `backgroundQueueDepth`.
  const provider = observation.provider;
  const down = provider?.down === true ? provider.queue : undefined;
  if (provider && down !== undefined) {
    const waiting = (observation.queues?.[down] ?? 0) + (observation.backgroundQueues?.[down] ?? 0);
    const since = provider.since === undefined ? undefined : toMs(provider.since, 'provider.since');
    hit(
      'resources.provider-down',
      1,
      down,
      `the model provider behind ${down} is not answering${since === undefined ? '' : ` (for ${minutes(nowMs - since)})`}; ${waiting} call(s) wait for it and go on by themselves once it is back`,
      since === undefined ? undefined : String(since),
    );
  }
  for (const [queue, depth] of Object.entries(observation.queues ?? {})) {
    if (queue !== down && depth > t.queueDepth)
      hit('resources.queue-depth', 3, queue, `queue ${queue} has ${depth} waiting > ${t.queueDepth}`);
  }
  for (const [queue, depth] of Object.entries(observation.backgroundQueues ?? {})) {
    if (queue !== down && depth > t.backgroundQueueDepth)
      hit(
        'resources.queue-depth',
        3,
        `${queue}:background`,
        `queue ${queue} has ${depth} background calls waiting > ${t.backgroundQueueDepth}`,
      );
  }
  if (observation.llmLatencyMs !== undefined && observation.llmLatencyMs > t.llmLatencyMs) {
    hit(
      'resources.llm-latency',
      3,
      'llm',
      `LLM latency ${minutes(observation.llmLatencyMs)} > ${minutes(t.llmLatencyMs)}`,
    );
  }

  if (observation.promptCuts !== undefined && observation.promptCuts > t.promptCuts) {
    // Level 1 (the Director is told, the run goes on): one alert per run, the key has no anchor.
    hit(
      'resources.prompt-cut',
      1,
      'llm',
      `${observation.promptCuts} model call(s) of this run may have had their prompt cut to fit the context window (num_ctx): raise OLLAMA_NUM_CTX or lower TOOLS_CONTEXT_BUDGET_CHARS`,
    );
  }

  for (const r of observation.reviews ?? []) {
    if (r.criticalBugs > t.criticalBugs) {
      hit(
        'quality.critical-bugs',
        2,
        r.id,
        `${r.criticalBugs} critical bugs in one review > ${t.criticalBugs}`,
      );
    }
  }
  for (const f of observation.designFlaws ?? []) {
    hit('quality.design-flaw', 2, f.id, `the Architect flags a fundamental design flaw: ${f.description}`);
  }

  // §4.5 "Level 2, then Level 3": the second sighting of a runaway already raised at L2 is L3.
  const raised = new Set(observation.raised ?? []);
  const runaway = (rule: DetectionRule, subject: string, reason: string) => {
    const l2 = incidentKey(run, rule, subject, 2);
    hit(rule, raised.has(l2) ? 3 : 2, subject, reason);
  };
  for (const task of observation.tasks ?? []) {
    if (task.attempts > t.maxTaskAttempts) {
      runaway(
        'runaway.attempts',
        task.id,
        `task ${task.id} attempted ${task.attempts} times > ${t.maxTaskAttempts}`,
      );
    }
  }
  const phase = observation.phase;
  if (phase) {
    const elapsed = nowMs - toMs(phase.startedAt, 'phase.startedAt');
    const limit = phase.expectedMs * t.phaseOverrunFactor;
    if (elapsed > limit) {
      runaway(
        'runaway.phase-duration',
        `p${phase.phase}-i${phase.iteration}`,
        `phase ${phase.phase} (iteration ${phase.iteration}) running ${minutes(elapsed)} > ${t.phaseOverrunFactor}× expected ${minutes(phase.expectedMs)}`,
      );
    }
  }

  for (const [role, score] of Object.entries(observation.trust ?? {})) {
    if (score !== undefined && score < t.trustEmergencyBelow) {
      hit('emergency.trust-low', 2, role, `trust of ${role} is ${score} < ${t.trustEmergencyBelow}`);
    }
  }
  for (const e of observation.criticalErrors ?? []) {
    hit('emergency.critical-error', 2, e.role ?? 'system', `critical error: ${e.description}`, e.id);
  }
  if (observation.director) {
    const last = toMs(observation.director.lastHeartbeatAt, 'director.lastHeartbeatAt');
    const silent = nowMs - last;
    if (silent > t.directorSilentMs) {
      hit(
        'emergency.director-silent',
        2,
        'director',
        `no Director heartbeat for ${minutes(silent)}`,
        String(last),
      );
    }
  }
  return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
}

function minutes(ms: number): string {
  return ms >= 60_000 ? `${(ms / 60_000).toFixed(1)} min` : `${Math.round(ms / 1000)} s`;
}
