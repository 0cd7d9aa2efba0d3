// Issue 24 with issue 21's archive: a finished run moved out of Redis to MEMORY_DIR/archive still
// teaches the planner — `simulate --from-run` replays it, and `plan` and the ETAs count it as
// history — read through the run store with the archive, call log included. Real Redis, real
// archive files; the failure path: with another MEMORY_DIR the run is nowhere to be found.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openControl } from '@nightshift/client';
import {
  archiveRuns,
  createKeys,
  createRedisClient,
  createRunStore,
  enqueueRun,
  openRunArchive,
  RunQueues,
  runArchiveDir,
} from '@nightshift/redis';
import { startRedis, type TestRedis, uniquePrefix } from '@nightshift/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliHarness } from '../test-support/cli-harness.js';
import { RUN_T0, recordRun } from '../test-support/recorded-run.js';

let redis: TestRedis;
const prefix = uniquePrefix();
const keys = createKeys(prefix);
const memory = mkdtempSync(join(tmpdir(), 'ns-archived-history-'));
const elsewhere = mkdtempSync(join(tmpdir(), 'ns-archived-none-'));
let duration = 0;

const cli = (memoryDir: string) =>
  cliHarness(
    { REDIS_URL: redis.url, NIGHTSHIFT_PREFIX: prefix, MEMORY_DIR: memoryDir },
    new Date('2026-12-07T22:00:00Z'),
  );

beforeAll(async () => {
  redis = await startRedis();
  duration = await recordRun(redis.url, prefix, 'run_old');
  await recordRun(redis.url, prefix, 'run_new', { t0: RUN_T0 + 60_000 });
  const client = createRedisClient(redis.url);
  const queues = new RunQueues(client, keys);
  try {
    const result = await archiveRuns({
      redis: client,
      keys,
      archive: openRunArchive(runArchiveDir(memory), keys),
      queues,
      runs: [{ runId: 'run_old', createdAt: null, endedAt: null }],
      now: new Date(),
    });
    expect(result.failed).toEqual([]);
    // Gone from Redis: its events and its call log are only in the archive now.
    expect(await createRunStore(client, keys).list()).toEqual(['run_new']);
    expect(await client.exists(keys.custom('run', 'run_old', 'llm'))).toBe(0);
  } finally {
    await queues.close();
    client.disconnect();
  }
});
afterAll(async () => {
  await redis?.stop();
  rmSync(memory, { recursive: true, force: true });
  rmSync(elsewhere, { recursive: true, force: true });
});

describe('archived runs as the planner history', () => {
  it('simulate --from-run replays a run archived out of Redis; without its archive it is not found', async () => {
    const h = cli(memory);
    expect(await h.run('simulate', '--from-run', 'run_old', '--json'), h.err.join('')).toBe(0);
    const replay = JSON.parse(h.out.join(''));
    // Its calls came back from the archive too: the replay is the run's own length, not its events alone.
    expect(replay.measuredMs).toBe(duration);
    expect(replay.result.makespanMs).toBe(duration);
    expect(replay.result.slotWaits.architect.calls).toBe(1);
    const none = cli(elsewhere);
    expect(await none.run('simulate', '--from-run', 'run_old')).toBe(2);
    expect(none.err.join('')).toMatch(/run_old has not finished \(or has no events\)/);
  });

  it('plan and the ETAs learn from archived runs beside those in Redis', async () => {
    await enqueueRun(redis.url, { task: 'tonight' }, { prefix, jobId: 'tonight' });
    const h = cli(memory);
    expect(await h.run('plan', '--json', '--samples', '5'), h.err.join('')).toBe(0);
    expect(JSON.parse(h.out.join('')).history).toBe(2);
    const without = cli(elsewhere);
    expect(await without.run('plan', '--json', '--samples', '5')).toBe(0);
    expect(JSON.parse(without.out.join('')).history).toBe(1);

    const control = openControl({
      url: redis.url,
      prefix,
      archiveDir: runArchiveDir(memory),
      eta: { historyRuns: 20, samples: 5, cacheMs: 0 },
    });
    try {
      const board = await control.etas();
      expect(board.history).toBe(2);
      expect(board.runs.map((r) => r.runId)).toEqual(['run_tonight']);
      // Two past runs: a p90 of its own, no "one run" note.
      expect(board.runs[0]?.p90At).toMatch(/^\d{4}-/);
      expect(board.runs[0]?.note).toBeNull();
    } finally {
      await control.close();
    }
  });
});
