// Against real Redis: a finished run moves out of Redis into its archive file and reads back the
// same through the run store; another run's data is untouched; a crash between writing the
// archive and removing the keys is finished by the next pass without losing anything.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBus } from '../bus/index.js';
import { createRedis } from '../connection.js';
import { createKeys, QUEUE_NAMES } from '../keys.js';
import { createRunStore } from '../runs/store.js';
import { deletePrefix, REDIS_URL, uniquePrefix, waitFor } from '../test-support.js';
import { archiveRuns } from './archive-runs.js';
import { writeArchiveFile } from './format.js';
import { openRunArchive } from './reader.js';
import { RunQueues, snapshotRun } from './snapshot.js';

const prefix = uniquePrefix('archive');
const keys = createKeys(prefix);
const redis = createRedis(REDIS_URL);
const bus = createBus({ url: REDIS_URL, keys, onError: () => undefined });
const dir = mkdtempSync(join(tmpdir(), 'ns-archive-int-'));
const archive = openRunArchive(dir, keys);
const store = createRunStore(redis, keys, { archive });
const queues = new RunQueues(redis, keys);
const workers: Worker[] = [];

function msg(runId: string, n: number, extra: Record<string, unknown> = {}) {
  return {
    id: `msg_${runId}_${n}`,
    runId,
    from: 'director',
    to: 'ALL',
    type: 'STATUS',
    priority: 'NORMAL',
    timestamp: new Date().toISOString(),
    content: `status ${n} of ${runId}`,
    ...extra,
  };
}

/** A finished run with every kind of data a real one leaves: events, messages, jobs, keys. */
async function seedRun(runId: string): Promise<void> {
  const at = new Date().toISOString();
  await store.append(runId, 0, [
    { type: 'run.created', runId, at, task: 't' },
    { type: 'run.finished', at, outcome: 'success' },
  ]);
  await bus.publish(msg(runId, 1));
  await bus.publish(msg(runId, 2, { type: 'REQUEST', to: 'builder', content: 'build it' }));
  await redis.set(keys.custom('task', `msg_${runId}_2`, 'started'), '1', 'PX', 60_000);
  await redis.rpush(keys.runCheckpoints(runId), '{"n":1}');
  // The gateway's call log names the call's llm job (the archive finds the run's llm jobs by it).
  await redis.xadd(
    keys.custom('run', runId, 'llm'),
    '*',
    'call',
    JSON.stringify({ role: 'builder', jobId: `llm_${runId}` }),
  );
  await redis.set(keys.custom('run', runId, 'summary'), 'a summary');
  await redis.hset(keys.custom('run', runId, 'summary', 'state'), 'cursor:1', '2');
  await new Queue(QUEUE_NAMES.runs, { connection: redis, prefix }).add(
    'run',
    { task: 't' },
    { jobId: runId.slice(4) },
  );
  await new Queue(QUEUE_NAMES.llm, { connection: redis, prefix }).add(
    'chat',
    { runId, role: 'builder' },
    { jobId: `llm_${runId}` },
  );
}

/** One archiving pass over the given runs (ids only: the times matter to the policy, not here). */
function archivePass(...runIds: string[]) {
  return archiveRuns({
    redis,
    keys,
    archive,
    queues,
    runs: runIds.map((runId) => ({ runId, createdAt: null, endedAt: null })),
    now: new Date(),
  });
}

async function runKeys(runId: string): Promise<string[]> {
  const all = await redis.keys(`${prefix}:*`);
  return all.filter((k) => k.includes(runId)).sort();
}

beforeAll(async () => {
  await seedRun('run_gone');
  await seedRun('run_kept');
  await seedRun('run_crash');
  for (const name of [QUEUE_NAMES.runs, QUEUE_NAMES.llm, QUEUE_NAMES.agent('builder')])
    workers.push(
      new Worker(name, async () => 'done', {
        connection: createRedis(REDIS_URL, { maxRetriesPerRequest: null }),
        prefix,
      }),
    );
  await waitFor(async () => {
    const counts = await Promise.all(
      [QUEUE_NAMES.runs, QUEUE_NAMES.llm, QUEUE_NAMES.agent('builder')].map((q) =>
        queues.get(q).getCompletedCount(),
      ),
    );
    return counts.every((c) => c === 3);
  }, 'every seeded job completed');
});

afterAll(async () => {
  await Promise.all(workers.map((w) => w.close()));
  await queues.close();
  await bus.close();
  await deletePrefix(redis, prefix);
  await redis.quit();
  rmSync(dir, { recursive: true, force: true });
});

describe('archiveRuns', () => {
  it('moves a finished run out of Redis and the store reads it back unchanged', async () => {
    const before = {
      events: await store.read('run_gone'),
      version: await store.version('run_gone'),
      messages: (await bus.readLog({ count: 100 }))
        .filter((e) => e.message?.runId === 'run_gone')
        .map((e) => e.message),
    };
    expect(before.events).toHaveLength(2);
    expect((await runKeys('run_gone')).length).toBeGreaterThan(8);

    const result = await archivePass('run_gone');
    expect(result.failed).toEqual([]);
    expect(result.archived).toMatchObject([{ runId: 'run_gone', messages: 2, jobs: 3 }]);

    // Nothing of the run is left in Redis: keys, guards, bus:log entries, jobs, index entry.
    expect(await runKeys('run_gone')).toEqual([]);
    expect(await redis.zscore(keys.runsIndex, 'run_gone')).toBeNull();
    expect((await bus.readLog({ count: 100 })).filter((e) => e.message?.runId === 'run_gone')).toEqual([]);
    expect(await queues.get(QUEUE_NAMES.llm).getJobs(['completed'])).toHaveLength(2);

    // … and everything reads back the same from the archive.
    expect(await store.read('run_gone')).toEqual(before.events);
    expect(await store.version('run_gone')).toBe(before.version);
    expect(await store.exists('run_gone')).toBe(true);
    const archived = await store.archived('run_gone');
    expect(archived?.messages()).toEqual(before.messages);
    expect(archived?.list(keys.runCheckpoints('run_gone'))).toEqual(['{"n":1}']);
    expect(archived?.stream(keys.custom('run', 'run_gone', 'llm'))).toHaveLength(1);
    expect(archived?.content.jobs.map((j) => `${j.queue}/${j.state}`).sort()).toEqual([
      'agent.builder/completed',
      'llm/completed',
      'runs/completed',
    ]);

    // The other run is untouched and still read from Redis.
    expect(await store.archived('run_kept')).toBeUndefined();
    expect(await store.read('run_kept')).toHaveLength(2);
    expect((await runKeys('run_kept')).length).toBeGreaterThan(8);
    expect(await store.list()).toContain('run_kept');
    expect(await store.list()).not.toContain('run_gone');
  });

  it('after a crash between archive and removal, the run reads whole and the next pass finishes', async () => {
    const events = await store.read('run_crash');
    const content = await snapshotRun(redis, keys, queues, {
      runId: 'run_crash',
      messages: [],
      endedAt: null,
      now: new Date(),
    });
    await writeArchiveFile(archive.file('run_crash'), content);
    // The crash: the meta and the events were deleted, the rest was not.
    await redis.del(keys.runMeta('run_crash'), keys.runEvents('run_crash'));
    expect(await store.read('run_crash')).toEqual(events);

    const result = await archivePass('run_crash');
    expect(result.archived.map((a) => a.runId)).toEqual(['run_crash']);
    // The existing archive was kept (not re-taken from the half-deleted keys) and the rest removed.
    expect(await store.read('run_crash')).toEqual(events);
    expect(await redis.zscore(keys.runsIndex, 'run_crash')).toBeNull();
    expect(await redis.exists(keys.runCheckpoints('run_crash'))).toBe(0);
  });

  it('a damaged archive stops that run with the file named; its Redis data stays', async () => {
    await store.append('run_damaged', 0, [
      { type: 'run.created', runId: 'run_damaged', at: new Date().toISOString() },
    ]);
    writeFileSync(archive.file('run_damaged'), 'not gzip');
    const result = await archivePass('run_damaged');
    expect(result.archived).toEqual([]);
    expect(result.failed[0]?.error.message).toContain(`run archive ${archive.file('run_damaged')}`);
    expect(await redis.exists(keys.runMeta('run_damaged'))).toBe(1);
    expect(await store.read('run_damaged')).toHaveLength(1);
  });
});
