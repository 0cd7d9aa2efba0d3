// Issue 21, against a real Redis (REDIS_URL, default the local 6379): the queue-depth rule tells a
// stuck team from a harmless backlog. The gather counts the Scribe's background calls on `llm`
// apart and reads the `llm` circuit from Redis; a provider known to be down raises a Level 1 that
// pauses nothing and closes itself when the provider answers again, where the same backlog with
// the provider answering is a Level 3.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_DETECTION_THRESHOLDS } from '@nightshift/core';
import {
  createAlertStore,
  createBus,
  createKeys,
  createRedisClient,
  createRunStore,
  QUEUE_NAMES,
} from '@nightshift/redis';
import { createLogger } from '@nightshift/runtime';
import { Queue } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { AgentWindow } from './agents.js';
import { Gatherer } from './gather.js';
import { buildObservations } from './observe.js';
import { WORKER_QUEUES } from './planner.js';
import { RunCache } from './runs.js';
import { SentinelService } from './sentinel.js';
import { until } from './test-support.js';

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `{nso-${randomBytes(6).toString('hex')}}`;
const keys = createKeys(prefix);
const client = createRedisClient(REDIS_URL);
const blocking = createRedisClient(REDIS_URL, { maxRetriesPerRequest: null });
const bus = createBus({ url: REDIS_URL, keys });
const logger = createLogger({ service: 'sentinel', level: 'silent' });
const store = createRunStore(client, keys);
const llm = new Queue(QUEUE_NAMES.llm, { connection: client, prefix });
const SCRIBE = 4; // the Scribe's BullMQ priority on `llm` (config.roles.scribe.bullmqPriority)
let memoryDir: string;

const circuitKey = keys.custom('circuit');
const setCircuit = (state: 'open' | 'closed', at: number) =>
  client.hset(
    circuitKey,
    QUEUE_NAMES.llm,
    JSON.stringify(
      state === 'open'
        ? { state, failures: 5, opens: 1, openedAt: at, updatedAt: at }
        : { state, failures: 0, opens: 1, openedAt: at - 60_000, updatedAt: at },
    ),
  );
const addCalls = (n: number, priority: number, tag: string) =>
  llm.addBulk(
    Array.from({ length: n }, (_, i) => ({
      name: 'chat',
      data: { role: priority === SCRIBE ? 'scribe' : 'builder', n: i },
      opts: { priority, jobId: `${tag}-${i}` },
    })),
  );

beforeAll(() => {
  memoryDir = mkdtempSync(join(tmpdir(), 'ns-sentinel-outage-'));
});

afterEach(async () => {
  await llm.obliterate({ force: true });
  for (const key of await client.keys(`${prefix}:*`)) await client.del(key);
});

afterAll(async () => {
  await llm.close();
  await bus.close();
  client.disconnect();
  blocking.disconnect();
  rmSync(memoryDir, { recursive: true, force: true });
});

describe('gather: what the queue-depth and provider rules need', () => {
  const queues = new Map<string, Queue>();
  const queue = (name: string) => {
    let q = queues.get(name);
    if (!q) {
      q = new Queue(name, { connection: client, prefix });
      queues.set(name, q);
    }
    return q;
  };
  afterAll(async () => {
    await Promise.all([...queues.values()].map((q) => q.close()));
  });
  const gatherer = (backgroundPriority?: number) =>
    new Gatherer({
      redis: client,
      keys,
      runs: new RunCache(store, logger),
      queue,
      agentQueues: [],
      llmQueue: QUEUE_NAMES.llm,
      ...(backgroundPriority === undefined ? {} : { backgroundPriority }),
    });

  it('counts the background calls apart and reads the llm circuit from Redis', async () => {
    await addCalls(7, 3, 'team');
    await addCalls(78, SCRIBE, 'summary');
    const now = Date.now();
    const facts = await gatherer(SCRIBE).gather(now);
    expect(facts.background).toEqual({ llm: 78 });
    expect(facts.llmCircuit).toMatchObject({ queue: 'llm', circuit: { state: 'closed' } });
    const [deployment] = buildObservations(facts, new AgentWindow(), []);
    expect(deployment).toMatchObject({
      queues: { llm: 7 },
      backgroundQueues: { llm: 78 },
      provider: { queue: 'llm', down: false },
    });

    await setCircuit('open', now - 5000);
    const open = await gatherer(SCRIBE).gather(now);
    const [during] = buildObservations(open, new AgentWindow(), []);
    expect(during?.provider).toEqual({ queue: 'llm', down: true, since: now - 5000 });
  });

  it('without a background priority every waiting call is the team’s (the rule as before)', async () => {
    await addCalls(7, 3, 'team');
    await addCalls(78, SCRIBE, 'summary');
    const [deployment] = buildObservations(await gatherer().gather(Date.now()), new AgentWindow(), []);
    expect(deployment?.queues).toMatchObject({ llm: 85 });
  });
});

describe('the Sentinel during and after a provider outage', () => {
  const sentinels: SentinelService[] = [];
  const make = (instance: string) => {
    const s = new SentinelService({
      redis: client,
      connection: blocking,
      keys,
      bus,
      store,
      logger,
      memoryDir,
      thresholds: { ...DEFAULT_DETECTION_THRESHOLDS, directorSilentMs: 24 * 3600_000 },
      backgroundPriority: SCRIBE,
      intervalMs: 3_600_000, // rounds are driven by the test
      memory: null,
      // An open circuit stays open for the whole test: the outage ends when the test says so.
      circuit: { coolDownMs: 3_600_000 },
      leaseTtlMs: 900,
      heartbeatMs: 100,
      heartbeatTtlMs: 5000,
      instance,
    });
    sentinels.push(s);
    return s;
  };
  const leader = async (instance: string) => {
    const s = make(instance);
    await s.start();
    await until(async () => s.isLeader, `${instance} to lead`, 30_000);
    return s;
  };
  const alerts = createAlertStore(client, keys);
  const alertsOf = async (rule: string) => (await alerts.list({ limit: 100 })).filter((a) => a.rule === rule);
  const paused = async (s: SentinelService) => {
    const out: string[] = [];
    for (const q of WORKER_QUEUES) if ((await s.holds.holders(q)).length > 0) out.push(q);
    return out;
  };

  afterEach(async () => {
    for (const s of sentinels.splice(0)) await s.stop();
  });

  it('down: Level 1 provider-down, no queue-depth L3, nothing paused; back: it closes itself, and the same backlog is a Level 3', async () => {
    await setCircuit('open', Date.now() - 2000);
    await addCalls(60, 3, 'team'); // more than 50 of the team's calls wait: explained by the outage
    await addCalls(120, SCRIBE, 'summary');
    const during = await leader('sentinel-during');
    const round = await during.tick();
    expect(round?.detections.map((d) => `${d.rule}@L${d.level}`)).toEqual(['resources.provider-down@L1']);
    const [down] = await alertsOf('resources.provider-down');
    expect(down).toMatchObject({ level: 1, status: 'open', subject: 'llm' });
    expect(down?.reason).toMatch(/180 call\(s\) wait for it/);
    expect(await alertsOf('resources.queue-depth')).toEqual([]);
    expect(await paused(during)).toEqual([]);
    await during.stop();

    // The provider answers again (a trial succeeded: the circuit closed). A new leader judges.
    await setCircuit('closed', Date.now());
    const after = await leader('sentinel-after');
    await after.tick(); // a new leader also judges once on taking over: either round may close it
    expect(await alerts.get(down?.id ?? '')).toMatchObject({
      status: 'resolved',
      resolution: { decision: 'continue', by: 'sentinel', note: 'the condition cleared' },
    });
    // The team's 60 calls still waiting while the model answers: a stuck team, Level 3 (paused, a human).
    const [stuck] = await alertsOf('resources.queue-depth');
    expect(stuck).toMatchObject({ level: 3, subject: 'llm', status: 'open' });
    expect(await paused(after)).toEqual([...WORKER_QUEUES]);
  });
});
