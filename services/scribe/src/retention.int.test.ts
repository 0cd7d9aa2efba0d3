// The Scribe's retention pass against a real Redis: which runs go (age, count, never a running
// one, not before the Scribe is done with them), and the memory directory's own retention.
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { RetentionConfig } from '@nightshift/config';
import {
  createKeys,
  createRedisClient,
  createRunStore,
  type Keys,
  openRunArchive,
  type RedisClient,
  type RunArchive,
  type RunStore,
} from '@nightshift/redis';
import { createLogger } from '@nightshift/runtime';
import { startRedis, type TestRedis } from '@nightshift/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RunRetention } from './retention.js';
import { ScriptedRun } from './test-support/scripted-run.js';

const HOUR = 3_600_000;
const logger = createLogger({ service: 'retention-test', level: 'silent' });
const now = new Date('2026-03-01T12:00:00Z');
let server: TestRedis;
let redis: RedisClient;
let keys: Keys;
let store: RunStore;
let archive: RunArchive;
let dir: string;

const POLICY: RetentionConfig = {
  runMaxAgeHours: 24,
  keepRuns: 0,
  checkSeconds: 60,
  batch: 20,
  memoryDays: 0,
};

/** A run in Redis created `startedHoursAgo` and, unless `running`, ended a minute later (ScriptedRun's step). */
async function seed(runId: string, startedHoursAgo: number, running = false): Promise<void> {
  const run = new ScriptedRun(runId, { start: now.getTime() - startedHoursAgo * HOUR });
  if (!running) run.add({ type: 'run.finished', outcome: 'success', summary: 'done' });
  await store.append(runId, 0, run.events);
}

function retention(policy: Partial<RetentionConfig>, ready?: (runId: string) => Promise<boolean>) {
  return new RunRetention({
    redis,
    keys,
    store,
    archive,
    memoryDir: dir,
    logger,
    policy: { ...POLICY, ...policy },
    ...(ready ? { ready } : {}),
  });
}

beforeAll(async () => {
  server = await startRedis({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' });
  redis = createRedisClient(server.url, { onError: () => undefined });
  keys = createKeys(server.prefix);
  dir = await mkdtemp(join(tmpdir(), 'scribe-retention-'));
  archive = openRunArchive(join(dir, 'archive'), keys);
  store = createRunStore(redis, keys, { archive });
  await seed('run_old', 48);
  await seed('run_recent', 3);
  await seed('run_open_old', 200, true);
  await seed('run_held', 30);
});

afterAll(async () => {
  redis?.disconnect();
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('RunRetention', () => {
  it('archives only ended runs past the age, and none the Scribe is not done with', async () => {
    const r = retention({}, async (runId) => runId !== 'run_held');
    const pass = await r.pass(now);
    await r.close();
    expect(pass).toEqual({ archived: ['run_old'], failed: [], deleted: [] });
    expect(await store.list()).toEqual(expect.arrayContaining(['run_recent', 'run_open_old', 'run_held']));
    expect(await store.list()).not.toContain('run_old');
    expect((await store.archived('run_old'))?.content.header.endedAt).toBe(
      new Date(now.getTime() - 48 * HOUR + 120_000).toISOString(),
    );
    expect(await store.archived('run_open_old')).toBeUndefined();
  });

  it('with a count, keeps the newest ended runs and never a running one', async () => {
    const r = retention({ runMaxAgeHours: 0, keepRuns: 1 });
    const pass = await r.pass(now);
    await r.close();
    expect(pass.archived).toEqual(['run_held']);
    expect((await store.list()).sort()).toEqual(['run_open_old', 'run_recent']);
  });

  it('MEMORY_RETENTION_DAYS deletes archives older than that, with the run memory folder', async () => {
    await mkdir(join(dir, 'run_old'), { recursive: true });
    await writeFile(join(dir, 'run_old', 'team-state.md'), '# team');
    const old = new Date(now.getTime() - 3 * 24 * HOUR);
    await utimes(archive.file('run_old'), old, old);
    const r = retention({ runMaxAgeHours: 0, memoryDays: 2 });
    const pass = await r.pass(now);
    await r.close();
    expect(pass.deleted).toEqual(['run_old']);
    expect(existsSync(archive.file('run_old'))).toBe(false);
    expect(existsSync(join(dir, 'run_old'))).toBe(false);
    // The younger archive stays, and so does everything with the setting off.
    expect(existsSync(archive.file('run_held'))).toBe(true);
    expect((await retention({ runMaxAgeHours: 0 }).pass(now)).deleted).toEqual([]);
  });
});
