// One snapshot of the whole deployment, the same for `nightshift status` and the team view:
// runs, the run in focus, the seven agents, LLM slots, queue depths and open alerts.
import { isTerminal, type RunState } from '@nightshift/core';
import { ROLES, type Role } from '@nightshift/protocol';
import { listHeartbeats, QUEUE_NAMES } from '@nightshift/redis';
import { AGENT_QUEUE_ROLES, agentQueueName } from './agents.js';
import { listOpenAlerts } from './alerts.js';
import { runNotFound } from './errors.js';
import type { ControlParts } from './parts.js';
import { detail, type LoadedRun, loadRun, readCheckpoints, recentRunIds, summarise } from './runs.js';
import type { AgentInfo, EtaBoard, QueueCounts, QueueInfo, Status } from './schemas.js';

/** Options of `status`. */
export interface StatusOptions {
  /** The run in focus (default: the newest open run, else the newest run). */
  runId?: string;
  /** How many recent runs to list (default 20). */
  runs?: number;
}

/** Every Nightshift queue: runs, llm, dead-letter and one per agent role with a queue. */
export function queueNames(): string[] {
  return [
    QUEUE_NAMES.runs,
    QUEUE_NAMES.llm,
    QUEUE_NAMES.deadLetter,
    ...AGENT_QUEUE_ROLES.map((r) => QUEUE_NAMES.agent(r)),
  ];
}

const STATES = ['waiting', 'prioritized', 'active', 'delayed', 'completed', 'failed', 'paused'] as const;

/** One queue's state: paused or not, job counts by state and its depth. */
export async function queueInfo(parts: ControlParts, name: string): Promise<QueueInfo> {
  const queue = parts.queue(name);
  const [raw, paused] = await Promise.all([queue.getJobCounts(...STATES), queue.isPaused()]);
  const counts = Object.fromEntries(STATES.map((s) => [s, raw[s] ?? 0])) as QueueCounts;
  return { name, paused, counts, depth: counts.waiting + counts.prioritized + counts.paused };
}

/** LLM slots: in use = active jobs of `llm`; limit = the gateway's global concurrency (else config). */
export async function llmSlots(
  parts: ControlParts,
  llm: QueueInfo,
): Promise<{ inUse: number; limit: number; waiting: number }> {
  const global = await parts.queue(QUEUE_NAMES.llm).getGlobalConcurrency();
  const limit = typeof global === 'number' && global > 0 ? global : parts.numParallel;
  return { inUse: llm.counts.active, limit, waiting: llm.depth };
}

async function deploymentTrust(parts: ControlParts): Promise<Partial<Record<Role, number>>> {
  const raw = await parts.redis.hgetall(parts.keys.trust);
  const out: Partial<Record<Role, number>> = {};
  for (const role of ROLES) {
    const value = Number(raw[role]);
    if (raw[role] !== undefined && Number.isFinite(value)) out[role] = value;
  }
  return out;
}

function agentsOf(
  heartbeats: Awaited<ReturnType<typeof listHeartbeats>>,
  queues: Map<string, QueueInfo>,
  open: readonly RunState[],
  trust: Partial<Record<Role, number>>,
): AgentInfo[] {
  return ROLES.map((role) => {
    const beats = heartbeats.filter((h) => h.role === role);
    const last =
      beats
        .map((h) => h.ts)
        .sort()
        .at(-1) ?? null;
    const tasks = open.flatMap((s) =>
      Object.values(s.inFlight).flatMap((f) =>
        f && f.role === role ? [{ runId: s.runId as string, step: f.step, since: f.requestedAt }] : [],
      ),
    );
    const currentTask = tasks.sort((a, b) => b.since.localeCompare(a.since))[0] ?? null;
    const queueName = agentQueueName(role);
    const queue = queueName === null ? undefined : queues.get(queueName);
    const queuePaused = queue?.paused ?? false;
    const busy = beats.some((h) => h.status === 'busy');
    const state: AgentInfo['state'] = queuePaused
      ? 'paused'
      : beats.length === 0
        ? 'offline'
        : currentTask !== null || busy
          ? 'working'
          : 'idle';
    return {
      role,
      state,
      instances: beats.length,
      lastHeartbeat: last,
      currentTask,
      trust: trust[role] ?? null,
      queue: queueName,
      queuePaused,
      depth: queue?.depth ?? 0,
    };
  });
}

/**
 * The deployment at a glance, read from Redis ({@link Status}); what `Control.status` returns.
 * `etas`: the ETA board (the control layer's cached one); without it every eta is null.
 */
export async function statusSnapshot(
  parts: ControlParts,
  options: StatusOptions = {},
  etas?: () => Promise<EtaBoard>,
): Promise<Status> {
  const ids = await recentRunIds(parts.redis, parts.keys, options.runs ?? 20);
  if (options.runId !== undefined && !ids.includes(options.runId)) {
    if (!(await parts.store.exists(options.runId))) throw runNotFound(options.runId);
    ids.unshift(options.runId);
  }
  const loaded = new Map<string, LoadedRun>();
  await Promise.all(ids.map(async (id) => loaded.set(id, await loadRun(parts.store, id))));
  const states = ids.flatMap((id) => {
    const run = loaded.get(id);
    return run && run.state.runId !== null ? [{ id, run }] : [];
  });
  const open = states.filter((s) => !isTerminal(s.run.state.status));
  const focusId = options.runId ?? open[0]?.id ?? states[0]?.id;
  const focus = focusId === undefined ? undefined : loaded.get(focusId);

  const names = queueNames();
  const [queueList, heartbeats, alerts, hashTrust, checkpoints, eta] = await Promise.all([
    Promise.all(names.map((n) => queueInfo(parts, n))),
    listHeartbeats(parts.redis, parts.keys),
    listOpenAlerts(parts),
    deploymentTrust(parts),
    focusId === undefined ? Promise.resolve([]) : readCheckpoints(parts, focusId),
    etas ? etas() : Promise.resolve(undefined),
  ]);
  const queues = new Map(queueList.map((q) => [q.name, q]));
  const llm = await llmSlots(parts, queues.get(QUEUE_NAMES.llm) as QueueInfo);
  // The run's own trust (folded from trust.changed) when one is in focus; else the deployment's.
  const trust = focus?.state.runId ? { ...hashTrust, ...focus.state.trust } : hashTrust;
  const openByLevel: Record<string, number> = { '0': 0, '1': 0, '2': 0, '3': 0, '4': 0 };
  for (const a of alerts) openByLevel[String(a.level)] = (openByLevel[String(a.level)] ?? 0) + 1;

  return {
    at: parts.now().toISOString(),
    prefix: parts.keys.prefix,
    run:
      focus && focusId !== undefined && focus.state.runId !== null
        ? detail(focus, focusId, checkpoints, eta)
        : null,
    runs: states.map((s) => summarise(s.run.state, s.id, eta)),
    agents: agentsOf(
      heartbeats,
      queues,
      open.map((s) => s.run.state),
      trust,
    ),
    llm,
    queues: queueList,
    eta: eta ?? { madeAt: parts.now().toISOString(), history: 0, samples: 0, runs: [] },
    alerts: { open: alerts, openByLevel },
  };
}
