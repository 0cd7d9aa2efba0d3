// Checkpoints against a real Redis: one per trigger however often (and however concurrently)
// they are reconciled, a crash between file and record healed, corruption reported and skipped.
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKeys, createRedisClient, type RedisClient } from '@nightshift/redis';
import { startRedis, type TestRedis } from '@nightshift/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  checkpointFile,
  lastGoodCheckpoint,
  readCheckpoints,
  reconcileCheckpoints,
  verifyCheckpointFile,
} from './checkpoints.js';
import { ScriptedRun } from './test-support/scripted-run.js';
import { checkpointTriggers } from './triggers.js';

let server: TestRedis;
let redis: RedisClient;
let dir: string;

beforeAll(async () => {
  server = await startRedis({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' });
  redis = createRedisClient(server.url, { onError: () => undefined });
  dir = await mkdtemp(join(tmpdir(), 'scribe-cp-'));
});

afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

function fullRun(runId: string): ScriptedRun {
  const run = new ScriptedRun(runId, { title: 'checkpoints' });
  run.advance().complete('frame').advance().complete('design').advance().complete('research').advance();
  run.complete('build').complete('research-exec').advance().complete('checkpoint').advance();
  run
    .complete('refactor')
    .advance()
    .inspect([{ severity: 'critical', description: 'MD5 hashing' }]);
  run.advance().verify('finish').advance();
  return run;
}

describe('checkpoints', () => {
  it('writes one checkpoint per trigger, numbered in log order, and nothing on a second pass', async () => {
    const keys = createKeys(server.prefix);
    const run = fullRun('run-once');
    const triggers = checkpointTriggers(run.events);
    const ctx = { redis, keys, memoryDir: dir };
    const first = await reconcileCheckpoints(ctx, 'run-once', triggers);
    expect(first.map((r) => r.n)).toEqual(triggers.map((_, i) => i + 1));
    expect(first.map((r) => r.kind)).toEqual([
      'phase',
      'scout',
      'phase',
      'builder',
      'scout',
      'p2-checkpoint',
      'phase',
      'inspector',
      'phase',
      'end',
    ]);
    expect(await reconcileCheckpoints(ctx, 'run-once', triggers)).toEqual([]);
    const { records, problems } = await readCheckpoints(redis, keys, 'run-once');
    expect(problems).toEqual([]);
    expect(records).toHaveLength(triggers.length);
    for (const r of records) expect(await verifyCheckpointFile(r)).toBeUndefined();
    const inspector = await readFile(checkpointFile(dir, 'run-once', 8), 'utf8');
    expect(inspector).toContain(
      '- Trigger: Inspector found issues: 1 critical, 0 major, 0 minor (iteration 1)',
    );
    expect(inspector).toContain('## 4. Decision\n**Revise**');
  });

  it('stays exactly-once when passes race and when the log grows between them', async () => {
    const keys = createKeys(server.prefix);
    const run = fullRun('run-race');
    const ctx = { redis, keys, memoryDir: dir };
    const half = checkpointTriggers(run.events.slice(0, 20));
    await Promise.all([1, 2, 3].map(() => reconcileCheckpoints(ctx, 'run-race', half)));
    const all = checkpointTriggers(run.events);
    await Promise.all([1, 2, 3].map(() => reconcileCheckpoints(ctx, 'run-race', all)));
    const { records } = await readCheckpoints(redis, keys, 'run-race');
    expect(records.map((r) => r.key)).toEqual(all.map((t) => t.key));
    expect(new Set(records.map((r) => r.n)).size).toBe(records.length);
    // Racing writers wrote the same bytes (the file is a pure function of its trigger).
    for (const r of records) expect(await verifyCheckpointFile(r)).toBeUndefined();
  });

  it('heals a crash between the file and the record (the file is rewritten, the record committed)', async () => {
    const keys = createKeys(server.prefix);
    const run = fullRun('run-crash');
    const triggers = checkpointTriggers(run.events);
    // The crash: CP-1's file exists (cut short), its record never made it to Redis.
    await mkdir(join(dir, 'run-crash', 'checkpoints'), { recursive: true });
    await writeFile(checkpointFile(dir, 'run-crash', 1), '# Checkpoint CP-1 — cut sh');
    await reconcileCheckpoints({ redis, keys, memoryDir: dir }, 'run-crash', triggers);
    const { records } = await readCheckpoints(redis, keys, 'run-crash');
    expect(records).toHaveLength(triggers.length);
    expect(await verifyCheckpointFile(records[0] as (typeof records)[number])).toBeUndefined();
  });

  it('reports a corrupt record and a corrupt file with where they are, and falls back to the previous good one', async () => {
    const keys = createKeys(server.prefix);
    const run = fullRun('run-bad');
    await reconcileCheckpoints({ redis, keys, memoryDir: dir }, 'run-bad', checkpointTriggers(run.events));
    const listKey = keys.runCheckpoints('run-bad');
    const count = await redis.llen(listKey);
    // The newest record is unreadable and the file of the one before it was altered on disk.
    await redis.lset(listKey, count - 1, '{"n": 10, "trunc');
    const previous = checkpointFile(dir, 'run-bad', count - 1);
    await appendFile(previous, 'garbage appended by a disk error');
    const { checkpoint, problems } = await lastGoodCheckpoint(redis, keys, 'run-bad');
    expect(checkpoint?.n).toBe(count - 2);
    expect(problems).toEqual([
      expect.objectContaining({
        where: `redis ${listKey}[${count - 1}]`,
        reason: expect.stringMatching(/^not JSON/),
      }),
      expect.objectContaining({ where: previous, n: count - 1, reason: expect.stringMatching(/corrupted/) }),
    ]);
    // A record whose shape is wrong is a problem too, never a crash.
    await redis.rpush(listKey, JSON.stringify({ n: 'eleven' }));
    const again = await lastGoodCheckpoint(redis, keys, 'run-bad');
    expect(again.checkpoint?.n).toBe(count - 2);
    expect(again.problems.some((p) => p.where === `redis ${listKey}[${count}]`)).toBe(true);
  });
});
