// What `nightshift plan` and `simulate` read from Redis: past runs (events + the gateway's call
// log `run:<id>:llm`, as the morning report reads it), the runs waiting in `runs`, the runs under
// way, and the agents alive. Everything else is core's pure planner.
import {
  buildProfile,
  fold,
  type Profile,
  parseRunEvent,
  progressOf,
  type QueuedRun,
  type RecordedCall,
  type RunEvent,
} from '@nightshift/core';
import { type Role, WORKER_ROLES } from '@nightshift/protocol';
import {
  type Keys,
  listHeartbeats,
  QUEUE_NAMES,
  type RedisClient,
  type RunStore,
  runIdForJob,
} from '@nightshift/redis';
import { Queue } from 'bullmq';

export interface RecordedRun {
  events: RunEvent[];
  calls: RecordedCall[];
}

export async function readRecordedRun(
  redis: RedisClient,
  store: RunStore,
  keys: Keys,
  runId: string,
): Promise<RecordedRun> {
  const events = (await store.read(runId)).map((s) => parseRunEvent(s.event));
  const raw = await redis.xrange(keys.custom('run', runId, 'llm'), '-', '+');
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
  return { events, calls };
}

/** How many of the newest runs `plan` looks at for history and for runs under way. */
const SCAN_RUNS = 500;

/** The latest `limit` finished runs as history, and the runs still under way with where they are. */
export async function readRuns(
  redis: RedisClient,
  store: RunStore,
  keys: Keys,
  limit: number,
): Promise<{ profile: Profile; running: QueuedRun[] }> {
  const ids = await store.list(10_000);
  const finished: RecordedRun[] = [];
  const running: QueuedRun[] = [];
  // Newest first, and no further back than a few nights: history ages, and a deployment with
  // thousands of runs must not read them all for one forecast.
  for (const runId of [...ids].reverse().slice(0, Math.max(SCAN_RUNS, limit))) {
    const recorded = await readRecordedRun(redis, store, keys, runId);
    const state = fold(recorded.events);
    if (state.status === 'finished') {
      if (finished.length < limit) finished.push(recorded);
    } else if (state.status === 'planning' || state.status === 'running') {
      const progress = progressOf(state);
      running.push(progress ? { id: runId, progress } : { id: runId });
    }
  }
  return { profile: buildProfile(finished), running };
}

/** Runs waiting in the `runs` queue (not yet taken by the Director), oldest first. */
export async function readQueued(redis: RedisClient, keys: Keys): Promise<{ id: string; title: string }[]> {
  const queue = new Queue(QUEUE_NAMES.runs, { connection: redis, prefix: keys.prefix });
  queue.on('error', () => undefined);
  try {
    const jobs = await queue.getJobs(['waiting', 'prioritized', 'delayed', 'active'], 0, -1, true);
    return jobs
      .filter((j) => j.id !== undefined)
      .map((j) => ({
        id: runIdForJob(j.id as string),
        title: String(
          (j.data as { title?: string; task?: string }).title ?? (j.data as { task?: string }).task ?? '',
        ),
      }));
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
