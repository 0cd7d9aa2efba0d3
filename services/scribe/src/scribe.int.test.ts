// The Scribe service in-process against a real Redis and bus: journal, checkpoints and files
// from a scripted run; the consumer group resuming after a stop; the archive with a fake clock.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Message, newId } from '@nightshift/protocol';
import {
  type Bus,
  createBus,
  createKeys,
  createRedisClient,
  createRunStore,
  type RedisClient,
  type RunStore,
} from '@nightshift/redis';
import { createLogger } from '@nightshift/runtime';
import { startRedis, type TestRedis, waitFor } from '@nightshift/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { archiveFile } from './archive.js';
import { readCheckpoints } from './checkpoints.js';
import { ScribeService } from './scribe.js';
import { ScriptedRun } from './test-support/scripted-run.js';
import { checkpointTriggers } from './triggers.js';

const logger = createLogger({ service: 'scribe-test', level: 'silent' });
let server: TestRedis;
let redis: RedisClient;
let blocking: RedisClient;
let bus: Bus;
let store: RunStore;
let dir: string;
let fakeNow: number | undefined;
const services: ScribeService[] = [];

beforeAll(async () => {
  server = await startRedis({ url: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' });
  redis = createRedisClient(server.url, { onError: () => undefined });
  blocking = createRedisClient(server.url, { onError: () => undefined, maxRetriesPerRequest: null });
  bus = createBus({
    url: server.url,
    keys: createKeys(server.prefix),
    onError: () => undefined,
    claimIdleMs: 1000,
  });
  store = createRunStore(redis, createKeys(server.prefix));
  dir = await mkdtemp(join(tmpdir(), 'scribe-svc-'));
});

afterEach(async () => {
  await Promise.allSettled(services.map((s) => s.stop()));
  services.length = 0;
  fakeNow = undefined;
});

afterAll(async () => {
  await bus?.close();
  redis?.disconnect();
  blocking?.disconnect();
  await server?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function startScribe(): Promise<ScribeService> {
  const scribe = new ScribeService({
    redis,
    connection: blocking,
    keys: createKeys(server.prefix),
    bus,
    store,
    memoryDir: dir,
    logger,
    summary: { idleMs: 0 },
    debounceMs: 20,
    sweepMs: 150,
    archiveEveryMs: 3_600_000,
    leaseTtlMs: 2000,
    heartbeatMs: 500,
    heartbeatTtlMs: 2000,
    now: () => new Date(fakeNow ?? Date.now()),
  });
  services.push(scribe);
  await scribe.start();
  await waitFor(() => scribe.isLeader, { what: 'the scribe to lead' });
  return scribe;
}

/** A run written to the store as the Director would, plus the messages the team would send. */
class LiveRun {
  readonly run: ScriptedRun;
  stored = 0;
  readonly sent: string[] = [];
  constructor(readonly runId: string) {
    this.run = new ScriptedRun(runId, { title: `live ${runId}`, clock: () => Date.now() });
  }
  async sync(): Promise<void> {
    const fresh = this.run.events.slice(this.stored);
    const result = await store.append(this.runId, this.stored, fresh);
    if (!result.ok) throw new Error(`append conflict at ${this.stored}`);
    this.stored = this.run.events.length;
  }
  async say(from: Message['from'], content: string, type: Message['type'] = 'RESPONSE'): Promise<void> {
    const to = from === 'director' ? 'ALL' : 'director';
    const message = {
      id: newId('msg'),
      runId: this.runId,
      from,
      to,
      type,
      priority: 'NORMAL',
      content,
      timestamp: new Date().toISOString(),
    };
    await bus.publish(message);
    this.sent.push(message.id);
  }
  /** One phase's worth of work: the Director's steps, the workers' answers, all on the bus. */
  async phase(steps: (r: ScriptedRun) => void, chatter: [Message['from'], string][]): Promise<void> {
    steps(this.run);
    await this.sync();
    for (const [from, content] of chatter)
      await this.say(from, content, from === 'director' ? 'STATUS' : 'RESPONSE');
  }
}

const PHASES: [(r: ScriptedRun) => void, [Message['from'], string][]][] = [
  [
    (r) => r.advance().complete('frame').advance().complete('design').advance(),
    [
      ['director', 'Phase 1 started'],
      ['architect', 'design'],
    ],
  ],
  [
    (r) => r.complete('research').advance(),
    [
      ['scout', 'research'],
      ['director', 'Phase 2 started'],
    ],
  ],
  [
    (r) => r.complete('build').complete('research-exec').advance(),
    [
      ['builder', 'built'],
      ['scout', 'more research'],
    ],
  ],
  [
    (r) => r.complete('checkpoint').advance().complete('refactor').advance(),
    [
      ['director', 'Phase 3 started'],
      ['refactorer', 'refactored'],
    ],
  ],
  [
    (r) => r.inspect([{ severity: 'major', description: 'no CSRF token' }]).advance(),
    [['inspector', '{"findings":[…]}']],
  ],
  [
    (r) => r.verify('finish', 'good').advance(),
    [
      ['director', 'Decision: FINISH'],
      ['director', 'Run finished'],
    ],
  ],
];

async function journalIds(runId: string): Promise<string[]> {
  const path = join(dir, runId, 'messages');
  const ids: string[] = [];
  for (const name of await readdir(path).catch(() => [] as string[])) {
    for (const line of (await readFile(join(path, name), 'utf8')).split('\n')) {
      if (line) ids.push((JSON.parse(line) as { message: Message }).message.id);
    }
  }
  return ids;
}

describe('ScribeService', () => {
  it('marks a checkpoint REQUEST taken when it answers it: re-sent after its job is gone, it is not queued again', async () => {
    await startScribe();
    const live = new LiveRun(newId('run'));
    await live.phase(...(PHASES[0] as (typeof PHASES)[number]));
    const request: Message = {
      id: newId('msg'),
      runId: live.runId,
      from: 'director',
      to: 'scribe',
      type: 'REQUEST',
      priority: 'NORMAL',
      timestamp: new Date().toISOString(),
      content: 'checkpoint',
    };
    const first = await bus.publish(request);
    const answered = await waitFor(async () => bus.publishedAs(`rsp_${request.id}`), {
      what: 'the Scribe to answer',
    });
    expect(answered).toBeTruthy();
    expect(await redis.get(bus.keys.published(request.id))).toBe(`${first.logId} taken`);
    await redis.del(`${bus.keys.prefix}:agent.scribe:${request.id}`);
    expect(await bus.publish(request)).toEqual({ logId: first.logId, jobId: request.id, duplicate: true });
    expect(await redis.exists(`${bus.keys.prefix}:agent.scribe:${request.id}`)).toBe(0);
  });

  it('misses nothing while it is down: the group resumes, the catch-up writes every checkpoint', async () => {
    let scribe = await startScribe();
    const live = new LiveRun('run-outage');
    const keys = createKeys(server.prefix);
    for (const [i, [steps, chatter]] of PHASES.entries()) {
      if (i === 2) await scribe.stop(); // down for the middle third
      if (i === 4) scribe = await startScribe();
      await live.phase(steps, chatter);
    }
    expect(live.run.state.status).toBe('finished');
    const expected = checkpointTriggers(live.run.events).map((t) => t.key);
    await waitFor(
      async () => {
        const ids = await journalIds(live.runId);
        const { records } = await readCheckpoints(redis, keys, live.runId);
        return ids.length === live.sent.length && records.length === expected.length;
      },
      { timeoutMs: 30_000, what: 'the journal and the checkpoints to catch up' },
    );
    const ids = await journalIds(live.runId);
    expect(new Set(ids)).toEqual(new Set(live.sent));
    expect(ids).toHaveLength(live.sent.length); // no duplicate after the restart
    const { records } = await readCheckpoints(redis, keys, live.runId);
    expect(records.map((r) => r.key)).toEqual(expected);
    const teamState = await waitFor(async () => {
      const text = await readFile(join(dir, live.runId, 'team-state.md'), 'utf8').catch(() => '');
      return text.includes('- Status: finished') ? text : undefined;
    });
    expect(teamState).toContain(`## Last Checkpoint: `);
    expect(teamState).toContain(`(CP-${expected.length})`);
    const summary = await waitFor(() => redis.get(keys.custom('run', live.runId, 'summary')));
    expect(summary).toMatch(/EXTRACTIVE FALLBACK: the model was unavailable \(no model is configured/);
  });

  it('archives phases 120 minutes after they ended (fake clock) and deletes only their bus:log entries', async () => {
    await startScribe();
    const keys = createKeys(server.prefix);
    const live = new LiveRun('run-archive');
    for (const [steps, chatter] of PHASES) await live.phase(steps, chatter);
    const other = new LiveRun('run-other');
    await other.phase(PHASES[0]?.[0] ?? (() => undefined), [['director', 'another run, still planning']]);
    const scribe = services.at(-1) as ScribeService;
    const phases = live.run.state.phases.length;
    await waitFor(async () => (await journalIds(live.runId)).length === live.sent.length, {
      timeoutMs: 30_000,
      what: 'the journal',
    });
    const end = Date.parse(live.run.events.at(-1)?.at ?? '');
    fakeNow = end + 119 * 60_000;
    await scribe.sweep({ archive: true });
    expect(await redis.smembers(keys.custom('run', live.runId, 'archived'))).toEqual([]);

    fakeNow = end + 121 * 60_000;
    await waitFor(
      async () => {
        await scribe.sweep({ archive: true });
        return (await redis.scard(keys.custom('run', live.runId, 'archived'))) === phases;
      },
      { timeoutMs: 30_000, what: 'every phase to be archived' },
    );
    const archived: string[] = [];
    for (let n = 1; n <= phases; n++) {
      for (const line of (await readFile(archiveFile(dir, live.runId, n), 'utf8')).split('\n')) {
        if (line) archived.push((JSON.parse(line) as { message: Message }).message.id);
      }
      expect(await readFile(join(dir, live.runId, 'archive', `phase-${n}.summary.md`), 'utf8')).toMatch(
        /^# Phase /,
      );
    }
    expect(archived.sort()).toEqual([...live.sent].sort());
    const log = await bus.readLog({ count: 10_000 });
    expect(log.filter((e) => e.message?.runId === live.runId)).toEqual([]);
    // The other run's entries are not archived and stay in the stream.
    expect(log.filter((e) => e.message?.runId === other.runId)).toHaveLength(other.sent.length);
    expect(await journalIds(live.runId)).toEqual([]);
  });
});
