// What the planner reads from Redis (issue 24): past runs (events + the gateway's call log
// `run:<id>:llm`, as the morning report reads it), the runs waiting in `runs`, the runs under way
// with where they are, and the agents alive. `nightshift plan`, `simulate` and the ETAs of
// `status`, the dashboard and the REST API share it; everything else is core's pure planner. A run
// archived out of Redis (issue 21 §2) is read from its archive through the run store, call log
// included, so history and `simulate --from-run` still learn from it.
import {
  fold,
  isTerminal,
  type Profile,
  parseRunEvent,
  progressOf,
  type QueuedRun,
  type RecordedCall,
  type RunEvent,
  type RunSample,
  sampleRun,
  withLoads,
} from '@nightshift/core';
import { type Role, WORKER_ROLES } from '@nightshift/protocol';
import {
  type Keys,
  listHeartbeats,
  QUEUE_NAMES,
  type RedisClient,
  type RunArchive,
  type RunStore,
  runIdForJob,
} from '@nightshift/redis';
import { Queue } from 'bullmq';
import { agentQueueName } from './agents.js';

/** A run as recorded: its events and the gateway's LLM calls (what replay and the planner learn from). */
export interface RecordedRun {
  events: RunEvent[];
  calls: RecordedCall[];
}

/** The gateway's call log of a run (from its archive once it left Redis); a torn or foreign entry is skipped. */
async function readCalls(
  redis: RedisClient,
  store: RunStore,
  keys: Keys,
  runId: string,
): Promise<RecordedCall[]> {
  const key = keys.custom('run', runId, 'llm');
  const archived = await store.archived(runId);
  const raw = archived ? archived.stream(key) : await redis.xrange(key, '-', '+');
  const calls: RecordedCall[] = [];
  for (const [, fields] of raw) {
    try {
      const call = JSON.parse(fields[1] ?? '') as RecordedCall;
      if (typeof call.role === 'string' && Number.isFinite(call.startedAt)) calls.push(call);
    } catch (error) {
      // A torn or foreign entry says nothing about timing; the rest of the log still does.
      if (!(error instanceof SyntaxError)) throw error;
    }
  }
  return calls;
}

/**
 * Reads a run's events and its LLM call log; a torn or foreign call entry is skipped. A run
 * archived out of Redis is read from its archive when the store was given one.
 */
export async function readRecordedRun(
  redis: RedisClient,
  store: RunStore,
  keys: Keys,
  runId: string,
): Promise<RecordedRun> {
  const events = (await store.read(runId)).map((s) => parseRunEvent(s.event));
  return { events, calls: await readCalls(redis, store, keys, runId) };
}

/** How many of the newest runs the planner looks at for history and for runs under way. */
const SCAN_RUNS = 500;

/**
 * Runs that have ended, by id: their sample (undefined: ended without one, e.g. aborted). An ended
 * run never changes, so a long-lived reader (the dashboard) reads each one once.
 */
export type EndedRuns = Map<string, RunSample | undefined>;

/** Options of `readRuns`. */
export interface ReadRunsOptions {
  /** The reader's clock, epoch ms: with it, each run under way says how long its steps are in flight. */
  nowMs?: number;
  /** Kept between calls by a long-lived reader. */
  ended?: EndedRuns;
  /**
   * When an agent took a step in flight (epoch ms); null: no agent has taken it yet (it waits in
   * `agent.<role>`, so none of it has run); undefined: unknown, counted from its REQUEST.
   */
  pickedUp?: PickedUp;
  /**
   * The run archive (MEMORY_DIR/archive, issue 21 §2): finished runs moved out of Redis are history
   * too (the store must be the one created with it). Absent: only runs still in Redis are seen.
   */
  archive?: RunArchive;
}

/**
 * When an agent took a step in flight: epoch ms, `null` when no agent has taken it yet (its REQUEST
 * still waits on `agent.<role>`), `undefined` when unknown (the step is then counted from its REQUEST).
 */
export type PickedUp = (step: { role: Role; messageId: string }) => Promise<number | null | undefined>;

/**
 * Pick-up times from BullMQ: a step's REQUEST is the job `<message id>` on `agent.<role>`, and
 * `processedOn` is when a worker took it. Without it, five steps waiting for one Architect would
 * all count as under way since their REQUEST.
 */
export function pickedUpFromJobs(queueOf: (name: string) => Queue): PickedUp {
  return async ({ role, messageId }) => {
    const name = agentQueueName(role);
    if (name === null) return undefined;
    const job = await queueOf(name).getJob(messageId);
    return job ? (job.processedOn ?? null) : undefined;
  };
}

/**
 * When an agent took each REQUEST of a finished run (by message id): its BullMQ job's `processedOn`
 * while the job is kept (a day), else the job's record in the run's archive. A step of a night with
 * several runs waited for its agent; sampleRun leaves that wait to the simulator.
 */
async function pickUps(
  store: RunStore,
  runId: string,
  events: readonly RunEvent[],
  pickedUp: PickedUp | undefined,
): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const archived = await store.archived(runId);
  for (const e of events) {
    if (e.type !== 'step.requested') continue;
    const name = agentQueueName(e.role);
    if (name === null) continue;
    let at: number | null | undefined;
    if (archived) {
      const job = archived.content.jobs.find((j) => j.queue === name && j.id === e.messageId);
      at = typeof job?.job.processedOn === 'number' ? job.job.processedOn : undefined;
    } else at = await pickedUp?.({ role: e.role, messageId: e.messageId });
    if (typeof at === 'number' && Number.isFinite(at)) out.set(e.messageId, at);
  }
  return out;
}

/** The latest `limit` finished runs as history, and the runs still under way with where they are. */
export async function readRuns(
  redis: RedisClient,
  store: RunStore,
  keys: Keys,
  limit: number,
  options: ReadRunsOptions = {},
): Promise<{ profile: Profile; running: QueuedRun[] }> {
  // Archived runs ended before any run still in Redis: oldest archive first, then Redis's index.
  const archived = options.archive ? (await options.archive.list()).map((a) => a.runId) : [];
  const inRedis = await store.list(10_000);
  const known = new Set(inRedis);
  const ids = [...archived.filter((id) => !known.has(id)), ...inRedis];
  const ended = options.ended ?? new Map<string, RunSample | undefined>();
  const samples: RunSample[] = [];
  const running: QueuedRun[] = [];
  // Newest first, and no further back than a few nights: history ages, and a deployment with
  // thousands of runs must not read them all for one forecast.
  for (const runId of [...ids].reverse().slice(0, Math.max(SCAN_RUNS, limit))) {
    if (ended.has(runId)) {
      const sample = ended.get(runId);
      if (sample && samples.length < limit) samples.push(sample);
      continue;
    }
    const events = (await store.read(runId)).map((s) => parseRunEvent(s.event));
    const state = fold(events);
    if (isTerminal(state.status)) {
      const sample =
        state.status === 'finished'
          ? sampleRun(
              events,
              await readCalls(redis, store, keys, runId),
              await pickUps(store, runId, events, options.pickedUp),
            )
          : undefined;
      ended.set(runId, sample);
      if (sample && samples.length < limit) samples.push(sample);
    } else if (state.status === 'planning' || state.status === 'running') {
      const progress = progressOf(state, options.nowMs);
      if (progress?.inFlight && options.pickedUp && options.nowMs !== undefined) {
        for (const f of progress.inFlight) {
          const record = state.inFlight[f.step];
          if (!record) continue;
          const at = await options.pickedUp({ role: record.role, messageId: record.messageId });
          if (at !== undefined) f.elapsedMs = at === null ? 0 : Math.max(0, options.nowMs - at);
        }
      }
      running.push(progress ? { id: runId, progress } : { id: runId });
    }
  }
  // Oldest first, as the queues serve them: steps waiting for one agent are taken in REQUEST
  // order (FIFO on `agent.<role>`), which the simulator follows by the order of the runs.
  // Each step's load: the history runs under way beside it (a night of several runs).
  return { profile: { runs: withLoads(samples) }, running: running.reverse() };
}

/** Runs waiting in the `runs` queue (not yet taken by the Director), oldest first. */
export async function queuedRuns(queue: Queue): Promise<{ id: string; title: string }[]> {
  const jobs = await queue.getJobs(['waiting', 'prioritized', 'delayed', 'active'], 0, -1, true);
  return jobs
    .filter((j) => j.id !== undefined)
    .map((j) => ({
      id: runIdForJob(j.id as string),
      title: String(
        (j.data as { title?: string; task?: string }).title ?? (j.data as { task?: string }).task ?? '',
      ),
    }));
}

/** `queuedRuns` on a queue of its own, for a one-shot command without a control layer. */
export async function readQueued(redis: RedisClient, keys: Keys): Promise<{ id: string; title: string }[]> {
  const queue = new Queue(QUEUE_NAMES.runs, { connection: redis, prefix: keys.prefix });
  queue.on('error', () => undefined);
  try {
    return await queuedRuns(queue);
  } finally {
    await queue.close();
  }
}

/** Agents alive per worker role, from their heartbeats (1 for a role with none). */
export async function liveAgents(redis: RedisClient, keys: Keys): Promise<Partial<Record<Role, number>>> {
  const out: Partial<Record<Role, number>> = {};
  const beats = await listHeartbeats(redis, keys);
  for (const role of WORKER_ROLES) out[role] = Math.max(1, beats.filter((b) => b.role === role).length);
  return out;
}
