// What a run has in Redis, gathered for its archive, and its removal once the archive is on disk.
// A run's data: every key under `run:<id>:` (events, meta, checkpoints, LLM call log, summaries,
// checkpoint dedupe set, phase-archive marks, forecast…), its bus:log entries, the publish guards
// and task marks of its messages, its `runs` job, the agent jobs its REQUESTs became and the `llm`
// jobs of its completed calls (named by the call log). Jobs that have not finished are neither archived nor removed: BullMQ's own
// removeOnComplete/removeOnFail ages clear them once they end.
import type { Message } from '@nightshift/protocol';
import { type Job, Queue } from 'bullmq';
import { decodeEntry, fieldsToRecord, toEntries } from '../bus/entries.js';
import { isCluster, type RedisClient } from '../connection.js';
import { type Keys, QUEUE_NAMES } from '../keys.js';
import type { ArchiveContent, ArchivedJob, ArchivedKey, ArchivedMessage } from './format.js';

const PAGE = 1000;
const DEL_CHUNK = 500;
const FINISHED = new Set(['completed', 'failed']);

/** A key name without the prefix (what the archive stores), and back. */
export function relativeKey(keys: Keys, key: string): string {
  return key.startsWith(`${keys.prefix}:`) ? key.slice(keys.prefix.length + 1) : key;
}

function absoluteKey(keys: Keys, rel: string): string {
  return `${keys.prefix}:${rel}`;
}

function globEscape(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}

/** Keys matching a pattern on every master (a Cluster scans node by node). */
async function scanKeys(redis: RedisClient, pattern: string): Promise<string[]> {
  const nodes = isCluster(redis) ? redis.nodes('master') : [redis];
  const found = new Set<string>();
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', PAGE);
      for (const k of batch) found.add(k);
      cursor = next;
    } while (cursor !== '0');
  }
  return [...found].sort();
}

async function dumpKey(redis: RedisClient, keys: Keys, key: string): Promise<ArchivedKey | undefined> {
  const type = await redis.type(key);
  const pttl = await redis.pttl(key);
  const base = { kind: 'key' as const, key: relativeKey(keys, key), ttlMs: pttl > 0 ? pttl : null };
  switch (type) {
    case 'string': {
      const value = await redis.get(key);
      return value === null ? undefined : { ...base, type, value };
    }
    case 'hash':
      return { ...base, type, value: Object.entries(await redis.hgetall(key)).flat() };
    case 'list':
      return { ...base, type, value: await redis.lrange(key, 0, -1) };
    case 'set':
      return { ...base, type, value: (await redis.smembers(key)).sort() };
    case 'zset':
      return { ...base, type, value: await redis.zrange(key, 0, -1, 'WITHSCORES') };
    case 'stream': {
      const entries = toEntries(await redis.xrange(key, '-', '+'));
      return {
        ...base,
        type,
        value: entries.map((e): [string, string[]] => [e.id, Object.entries(e.fields ?? {}).flat()]),
      };
    }
    default:
      return undefined; // gone meanwhile ('none'), or a type Nightshift never writes under run:<id>:
  }
}

/**
 * The bus:log entries of the given runs, from `fromMs` on (one pass over the log for a whole batch
 * of runs: bus:log interleaves every run, so reading it once per run would read it N times).
 */
export async function runMessages(
  redis: RedisClient,
  keys: Keys,
  runIds: ReadonlySet<string>,
  fromMs: number,
): Promise<Map<string, ArchivedMessage[]>> {
  const out = new Map<string, ArchivedMessage[]>([...runIds].map((id) => [id, []]));
  let start = `${Math.max(0, Math.floor(fromMs))}-0`;
  for (;;) {
    const page = toEntries(await redis.xrange(keys.busLog, start, '+', 'COUNT', PAGE));
    for (const entry of page) {
      if (!entry.fields) continue;
      const decoded = decodeEntry(entry.fields);
      const list = decoded.ok ? out.get(decoded.message.runId) : undefined;
      list?.push({ kind: 'message', logId: entry.id, fields: Object.entries(entry.fields).flat() });
    }
    const last = page.at(-1);
    if (!last || page.length < PAGE) return out;
    start = `(${last.id}`;
  }
}

/** The message an archived bus:log entry holds, or undefined when it holds none. */
export function archivedMessage(record: ArchivedMessage): Message | undefined {
  const decoded = decodeEntry(fieldsToRecord(record.fields) ?? {});
  return decoded.ok ? decoded.message : undefined;
}

/**
 * The run's `llm` jobs, named by the gateway's call log (`run:<id>:llm`, one record per completed
 * call with its job id): reading the queue instead would mean every job's prompt. A failed call
 * is not in the log; BullMQ's removeOnFail age clears its job.
 */
async function llmJobIds(redis: RedisClient, keys: Keys, runId: string): Promise<string[]> {
  const ids = new Set<string>();
  for (const entry of toEntries(await redis.xrange(keys.custom('run', runId, 'llm'), '-', '+'))) {
    try {
      const call = JSON.parse(entry.fields?.call ?? '') as { jobId?: unknown };
      if (typeof call.jobId === 'string') ids.add(call.jobId);
    } catch (error) {
      void error; // an unreadable record names no job; the morning report skips it too
    }
  }
  return [...ids];
}

/** Opens BullMQ queues on one connection, for reading and removing a run's jobs. */
export class RunQueues {
  readonly #queues = new Map<string, Queue>();
  readonly #redis: RedisClient;
  readonly #keys: Keys;
  readonly #onError: (error: Error) => void;

  constructor(redis: RedisClient, keys: Keys, onError: (error: Error) => void = () => undefined) {
    this.#redis = redis;
    this.#keys = keys;
    this.#onError = onError;
  }

  get(name: string): Queue {
    let queue = this.#queues.get(name);
    if (!queue) {
      queue = new Queue(name, { connection: this.#redis, prefix: this.#keys.prefix });
      queue.on('error', this.#onError);
      this.#queues.set(name, queue);
    }
    return queue;
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#queues.values()].map((q) => q.close()));
    this.#queues.clear();
  }
}

export interface SnapshotInput {
  runId: string;
  messages: readonly ArchivedMessage[];
  endedAt: string | null;
  now: Date;
}

/** Everything the run has in Redis, as the content of its archive. */
export async function snapshotRun(
  redis: RedisClient,
  keys: Keys,
  queues: RunQueues,
  input: SnapshotInput,
): Promise<ArchiveContent> {
  const { runId } = input;
  const names = new Set(
    await scanKeys(redis, `${globEscape(keys.runEvents(runId).replace(/events$/, ''))}*`),
  );
  const jobIds: { queue: string; id: string }[] = [];
  if (runId.startsWith('run_')) jobIds.push({ queue: QUEUE_NAMES.runs, id: runId.slice(4) });
  for (const id of await llmJobIds(redis, keys, runId)) jobIds.push({ queue: QUEUE_NAMES.llm, id });
  for (const record of input.messages) {
    const message = archivedMessage(record);
    if (!message) continue;
    names.add(keys.published(message.id));
    if (message.type !== 'REQUEST') continue;
    names.add(keys.custom('task', message.id, 'started'));
    if (message.to !== 'ALL') jobIds.push({ queue: QUEUE_NAMES.agent(message.to), id: message.id });
  }
  const dumped: ArchivedKey[] = [];
  for (const name of [...names].sort()) {
    const key = await dumpKey(redis, keys, name);
    if (key) dumped.push(key);
  }
  const jobs: ArchivedJob[] = [];
  for (const { queue, id } of jobIds) {
    const job: Job | undefined = await queues.get(queue).getJob(id);
    if (!job) continue;
    const state = await job.getState();
    if (FINISHED.has(state)) jobs.push({ kind: 'job', queue, id, state, job: { ...job.asJSON() } });
  }
  const score = await redis.zscore(keys.runsIndex, runId);
  return {
    header: {
      kind: 'run',
      format: 'nightshift-run-archive',
      version: 1,
      runId,
      prefix: keys.prefix,
      archivedAt: input.now.toISOString(),
      endedAt: input.endedAt,
      indexScore: score === null ? null : Number(score),
    },
    keys: dumped,
    messages: [...input.messages],
    jobs,
  };
}

/**
 * Removes from Redis exactly what the archive holds. The run's meta goes first (readers then turn
 * to the archive: the run never looks half-deleted), its place in the runs index last (a crash
 * in between leaves it listed, so the next pass finds it and finishes). Every step is idempotent.
 */
export async function removeArchived(
  redis: RedisClient,
  keys: Keys,
  queues: RunQueues,
  content: ArchiveContent,
): Promise<void> {
  const { runId } = content.header;
  await redis.del(keys.runMeta(runId));
  const names = content.keys.map((k) => absoluteKey(keys, k.key));
  for (let i = 0; i < names.length; i += DEL_CHUNK) await redis.del(...names.slice(i, i + DEL_CHUNK));
  const ids = content.messages.map((m) => m.logId);
  for (let i = 0; i < ids.length; i += DEL_CHUNK)
    await redis.xdel(keys.busLog, ...ids.slice(i, i + DEL_CHUNK));
  for (const job of content.jobs) await queues.get(job.queue).remove(job.id);
  await redis.zrem(keys.runsIndex, runId);
}
