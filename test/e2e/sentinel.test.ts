// Issue 9 acceptance, in process: a SentinelService with injected clock and memory against a real
// Redis, one scripted trigger per test (stuck agent, runaway retries, queue depth, Director silent,
// trust < 3, LLM latency, circuit breaker), a local webhook receiver counting signed POSTs.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fold, incidentKey, parseRunEvent, type RunEvent, type RunEventDraft, stamp } from '@nightshift/core';
import { type Message, newId } from '@nightshift/protocol';
import {
  type AlertRecord,
  type Bus,
  createAlertStore,
  createBus,
  createKeys,
  createRedisClient,
  createRunStore,
  heartbeat,
  type Keys,
  QUEUE_NAMES,
  type RedisClient,
  type RunStore,
} from '@nightshift/redis';
import { createLogger } from '@nightshift/runtime';
import {
  ALERT_ID_HEADER,
  resolveAlert,
  SentinelService,
  type SentinelServiceOptions,
  SIGNATURE_HEADER,
  verifySignature,
  WORKER_QUEUES,
} from '@nightshift/service-sentinel';
import { startRedis, type TestRedis, uniquePrefix, waitFor } from '@nightshift/testkit';
import { Queue, Worker } from 'bullmq';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

const SECRET = 'test-webhook-secret';
let redis: TestRedis;

// ---- a webhook receiver on 127.0.0.1 -------------------------------------------------------
interface Post {
  headers: Record<string, string | string[] | undefined>;
  body: string;
}
let receiver: Server;
let hookUrl: string;
const posts: Post[] = [];

function postsFor(alertId: string): Post[] {
  return posts.filter((p) => p.headers[ALERT_ID_HEADER] === alertId);
}

beforeAll(async () => {
  redis = await startRedis();
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      posts.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => receiver?.close(() => resolve()));
  await redis?.stop();
});

// ---- one Sentinel per test, on its own prefix ----------------------------------------------
interface Rig {
  keys: Keys;
  bus: Bus;
  client: RedisClient;
  store: RunStore;
  sentinel: SentinelService;
  memoryDir: string;
  logs: string[];
  clock: { offsetMs: number };
  memory: { percent: number };
  queue(name: string): Queue;
  /** A fresh connection for a BullMQ Worker (maxRetriesPerRequest null), closed with the rig. */
  blocking(): RedisClient;
  /** Ticks until `check` holds. */
  until<T>(check: () => Promise<T | undefined | false> | T | undefined | false, what: string): Promise<T>;
  close(): Promise<void>;
}
const rigs: Rig[] = [];

afterEach(async () => {
  for (const rig of rigs.splice(0)) await rig.close();
});

async function makeRig(
  extra: Partial<SentinelServiceOptions> = {},
  beforeStart?: (parts: { client: RedisClient; keys: Keys; memoryDir: string }) => Promise<void>,
): Promise<Rig> {
  const prefix = uniquePrefix();
  const keys = createKeys(prefix);
  const bus = createBus({ url: redis.url, keys });
  const client = createRedisClient(redis.url);
  const blocking = createRedisClient(redis.url, { maxRetriesPerRequest: null });
  const store = createRunStore(client, keys);
  const memoryDir = mkdtempSync(join(tmpdir(), 'ns-sentinel-'));
  const logs: string[] = [];
  const clock = { offsetMs: 0 };
  const memory = { percent: 40 };
  const queues = new Map<string, Queue>();
  const extraClients: RedisClient[] = [];
  const logger = createLogger({
    service: 'sentinel',
    level: 'info',
    destination: { write: (line: string) => void logs.push(line) },
  });
  const sentinel = new SentinelService({
    redis: client,
    connection: blocking,
    keys,
    bus,
    store,
    logger,
    memoryDir,
    // Only the trigger under test fires: the Director is "alive" unless a test says otherwise.
    thresholds: { directorSilentMs: 24 * 3600_000 },
    webhook: { url: hookUrl, secret: SECRET, minLevel: 3, retry: { attempts: 5, baseMs: 20, maxMs: 200 } },
    intervalMs: 3_600_000, // rounds are driven by the test
    now: () => Date.now() + clock.offsetMs,
    memory: () => ({ total: 1000, free: 1000 - memory.percent * 10 }),
    leaseTtlMs: 5000,
    heartbeatMs: 500,
    l2GraceMs: 60_000,
    ...extra,
  });
  await beforeStart?.({ client, keys, memoryDir });
  await sentinel.start();
  expect(sentinel.isLeader).toBe(true);
  const rig: Rig = {
    keys,
    bus,
    client,
    store,
    sentinel,
    memoryDir,
    logs,
    clock,
    memory,
    queue(name) {
      let q = queues.get(name);
      if (!q) {
        q = new Queue(name, { connection: client, prefix });
        queues.set(name, q);
      }
      return q;
    },
    blocking() {
      const c = createRedisClient(redis.url, { maxRetriesPerRequest: null });
      extraClients.push(c);
      return c;
    },
    until: (check, what) =>
      waitFor(
        async () => {
          await sentinel.tick();
          return check();
        },
        { timeoutMs: 60_000, intervalMs: 100, what },
      ) as never,
    async close() {
      await sentinel.stop();
      await Promise.allSettled([...queues.values()].map((q) => q.close()));
      await bus.close();
      await deletePrefix(client, prefix);
      client.disconnect();
      blocking.disconnect();
      for (const c of extraClients) c.disconnect();
      rmSync(memoryDir, { recursive: true, force: true });
    },
  };
  rigs.push(rig);
  return rig;
}

async function deletePrefix(client: RedisClient, prefix: string): Promise<void> {
  const pattern = `${prefix.replace(/[[\]*?\\]/g, '\\$&')}:*`;
  let cursor = '0';
  do {
    const [next, found] = await (client as import('ioredis').Redis).scan(
      cursor,
      'MATCH',
      pattern,
      'COUNT',
      1000,
    );
    if (found.length > 0) await client.del(...found);
    cursor = next;
  } while (cursor !== '0');
}

async function createRun(rig: Rig, ...drafts: RunEventDraft[]): Promise<string> {
  const runId = newId('run');
  const at = new Date().toISOString();
  const events = [
    { type: 'run.created', runId, task: 'make the sum test pass' } as RunEventDraft,
    { type: 'phase.started', phase: 2, iteration: 1 } as RunEventDraft,
    ...drafts,
  ].map((d) => stamp(d, at));
  const result = await rig.store.append(runId, 0, events);
  expect(result.ok).toBe(true);
  return runId;
}

async function appendRun(rig: Rig, runId: string, ...drafts: RunEventDraft[]): Promise<void> {
  const version = await rig.store.version(runId);
  const result = await rig.store.append(
    runId,
    version,
    drafts.map((d) => stamp(d, new Date().toISOString())),
  );
  expect(result.ok).toBe(true);
}

async function runEvents(rig: Rig, runId: string): Promise<RunEvent[]> {
  return (await rig.store.read(runId)).map((e) => parseRunEvent(e.event));
}

async function alertsOf(rig: Rig, rule: string): Promise<AlertRecord[]> {
  return (await rig.sentinel.alerts.list({ limit: 1000 })).filter((a) => a.rule === rule);
}

async function pausedQueues(rig: Rig): Promise<string[]> {
  const out: string[] = [];
  for (const name of WORKER_QUEUES) if (await rig.queue(name).isPaused()) out.push(name);
  return out;
}

async function sentinelMessages(rig: Rig): Promise<Message[]> {
  const log = await rig.bus.readLog({ count: 1000 });
  return log.flatMap((e) => (e.message?.from === 'sentinel' ? [e.message] : []));
}

/** Exactly one webhook POST for the alert, signed with the secret, carrying the alert. */
function expectOneSignedPost(alert: AlertRecord): void {
  const mine = postsFor(alert.id);
  expect(mine).toHaveLength(1);
  const [post] = mine;
  const signature = post?.headers[SIGNATURE_HEADER];
  expect(typeof signature).toBe('string');
  expect(verifySignature(post?.body ?? '', SECRET, signature as string)).toBe(true);
  expect(JSON.parse(post?.body ?? '{}')).toMatchObject({
    alert: { id: alert.id, level: alert.level, rule: alert.rule },
  });
}

function agentAlert(runId: string, error: string): Message {
  const request = newId('msg');
  return {
    id: newId('msg'),
    runId,
    from: 'builder',
    to: 'director',
    type: 'ALERT',
    priority: 'HIGH',
    timestamp: new Date().toISOString(),
    inReplyTo: request,
    attempt: 1,
    content: `builder failed request ${request} (attempt 1): ${error}`,
    context: 'code: BAD_REPLY',
  };
}

describe('sentinel triggers', () => {
  it('a stuck agent repeating an error → Level 1: an ALERT to the Director naming it; progress closes it', async () => {
    const rig = await makeRig();
    const runId = await createRun(rig);
    for (let i = 0; i < 3; i++) await rig.bus.publish(agentAlert(runId, 'model reply is not JSON'));
    const [alert] = await rig.until(async () => {
      const found = await alertsOf(rig, 'stuck.same-error');
      return found.length > 0 && found;
    }, 'a stuck.same-error alert');
    expect(alert).toMatchObject({ level: 1, subject: 'builder', runId, status: 'open' });
    expect(await alertsOf(rig, 'stuck.no-progress')).toEqual([]);
    const told = (await sentinelMessages(rig)).filter((m) => m.type === 'ALERT' && m.to === 'director');
    expect(told).toHaveLength(1);
    expect(told[0]).toMatchObject({ priority: 'HIGH', runId });
    expect(told[0]?.content).toMatch(/builder/);
    expect(await pausedQueues(rig)).toEqual([]);
    expect(posts.filter((p) => String(p.body).includes(runId))).toEqual([]);

    // The agent answers: the incident is over, closed by the Sentinel itself.
    await rig.bus.publish({
      ...agentAlert(runId, ''),
      type: 'RESPONSE',
      content: 'done',
      context: undefined,
    } as Message);
    const closed = await rig.until(async () => {
      const a = await rig.sentinel.alerts.get(alert?.id ?? '');
      return a?.status === 'resolved' && a;
    }, 'the L1 alert to close');
    expect(closed.resolution).toMatchObject({ by: 'sentinel', decision: 'continue' });
  });

  it('runaway retries → Level 2 emergency meeting, then Level 3 with one signed webhook; continue resumes', async () => {
    const rig = await makeRig();
    const runId = await createRun(rig);
    for (let i = 0; i < 6; i++) {
      await appendRun(rig, runId, {
        type: 'step.requested',
        step: 'build',
        role: 'builder',
        messageId: newId('msg'),
      });
    }
    const [l2] = await rig.until(async () => {
      const found = await alertsOf(rig, 'runaway.attempts');
      return found.length > 0 && found;
    }, 'a runaway alert');
    expect(l2).toMatchObject({ level: 2, subject: 'i1-build', runId });
    const emergency = readFileSync(join(rig.memoryDir, runId, 'emergency.md'), 'utf8');
    expect(emergency).toMatch(/TRIGGER: runaway\.attempts/);
    expect(emergency).toMatch(/Resolve internally/);
    expect(emergency).toMatch(/Abort current phase/);
    // The Director needs the Builder for this task: the others pause, the Builder keeps going.
    expect(await pausedQueues(rig)).toEqual(WORKER_QUEUES.filter((q) => q !== 'agent.builder'));
    const toDirector = (await sentinelMessages(rig)).filter((m) => m.type === 'ALERT' && m.to === 'director');
    expect(toDirector.map((m) => m.priority)).toEqual(['EMERGENCY']);
    expect(rig.logs.some((l) => l.includes('EMERGENCY'))).toBe(true);
    expect(
      (await runEvents(rig, runId)).filter((e) => e.type === 'alert.raised').map((e) => e.level),
    ).toEqual([2]);
    expect(postsFor(l2?.id ?? '')).toEqual([]);

    // Unsettled past the grace: Level 3 (guide §4.5 "Level 2, then Level 3").
    rig.clock.offsetMs += 61_000;
    const l3 = await rig.until(
      async () => (await alertsOf(rig, 'runaway.attempts')).find((a) => a.level === 3),
      'L3',
    );
    expect(await pausedQueues(rig)).toEqual([...WORKER_QUEUES]);
    expect(l3.file && existsSync(l3.file)).toBe(true);
    expect(readFileSync(l3.file ?? '', 'utf8')).toMatch(new RegExp(`nightshift resolve ${l3.id} --continue`));
    const dump = JSON.parse(readFileSync(join(rig.memoryDir, runId, 'state-dump.json'), 'utf8'));
    expect(dump.runs[runId].runId).toBe(runId);
    expect(Object.keys(dump.queues)).toContain('agent.builder');
    expect(rig.logs.some((l) => l.includes('ESCALATE'))).toBe(true);
    expectOneSignedPost(l3);
    expect(fold(await runEvents(rig, runId)).pendingEscalation?.cause).toBe('alert');

    await resolveAlert({ alerts: rig.sentinel.alerts, bus: rig.bus }, l3.id, {
      decision: 'continue',
      by: 'human',
      note: 'go on',
    });
    await rig.until(async () => (await pausedQueues(rig)).length === 0, 'the queues to resume');
    const state = fold(await runEvents(rig, runId));
    expect(state.status).toBe('running');
    expect(state.humanDecisions.map((d) => d.decision)).toEqual(['continue']);
    expect((await rig.sentinel.alerts.get(l2?.id ?? ''))?.status).toBe('resolved');
    // Still attempted > 5 times: the same incident, already answered, is not raised again.
    for (let i = 0; i < 3; i++) await rig.sentinel.tick();
    expect(await alertsOf(rig, 'runaway.attempts')).toHaveLength(2);
    expect(postsFor(l3.id)).toHaveLength(1);
  });

  it('queue depth > 50 → Level 3 for every run; RESOLVE continue on the bus resumes; no job is lost', async () => {
    const rig = await makeRig();
    const runId = await createRun(rig);
    const builder = rig.queue(QUEUE_NAMES.agent('builder'));
    const N = 51;
    await builder.addBulk(
      Array.from({ length: N }, (_, i) => ({
        name: 'REQUEST',
        data: { n: i, runId },
        opts: { priority: 3, jobId: `job-${i}` },
      })),
    );
    const alert = await rig.until(
      async () => (await alertsOf(rig, 'resources.queue-depth'))[0],
      'queue depth alert',
    );
    expect(alert).toMatchObject({ level: 3, subject: 'agent.builder' });
    expect(alert.runId).toBeUndefined();
    expect(await pausedQueues(rig)).toEqual([...WORKER_QUEUES]);
    expect(existsSync(join(rig.memoryDir, 'deployment', 'state-dump.json'))).toBe(true);
    expect(alert.file).toMatch(/alerts\/ALERT-.*\.md$/);
    expect(readFileSync(alert.file ?? '', 'utf8')).toMatch(/## What is needed/);
    expectOneSignedPost(alert);
    const raised = (await runEvents(rig, runId)).filter((e) => e.type === 'alert.raised');
    expect(raised).toMatchObject([{ level: 3, key: alert.key }]);

    // A worker starts while the queue is paused: it takes nothing.
    let completed = 0;
    const worker = new Worker(builder.name, async () => 'ok', {
      connection: rig.blocking(),
      prefix: rig.keys.prefix,
      concurrency: 4,
    });
    worker.on('completed', () => completed++);
    try {
      await worker.waitUntilReady();
      for (let i = 0; i < 3; i++) await rig.sentinel.tick();
      expect(completed).toBe(0);
      expect(await builder.getJobCountByTypes('prioritized', 'waiting', 'paused')).toBe(N);

      // What the CLI and the dashboard do: a human DECISION "RESOLVE <id> continue" to ALL.
      await rig.bus.publish({
        id: newId('msg'),
        runId,
        from: 'human',
        to: 'ALL',
        type: 'DECISION',
        priority: 'HIGH',
        timestamp: new Date().toISOString(),
        content: `RESOLVE ${alert.id} continue`,
      });
      await rig.until(async () => completed === N, `all ${N} jobs to complete (done ${completed})`);
    } finally {
      await worker.close();
    }
    expect((await rig.sentinel.alerts.get(alert.id))?.resolution).toMatchObject({
      decision: 'continue',
      by: 'human',
    });
    expect(await builder.getJobCountByTypes('completed')).toBe(N);
    expect(fold(await runEvents(rig, runId)).humanDecisions.map((d) => d.decision)).toEqual(['continue']);
    expect(postsFor(alert.id)).toHaveLength(1);
  });

  it('the Director silent → emergency (all workers pause); its heartbeat back → closed and resumed', async () => {
    const rig = await makeRig({ thresholds: { directorSilentMs: 5000 } });
    await heartbeat(rig.client, rig.keys, { role: 'director', instance: 'd1', ttlMs: 60_000 });
    for (let i = 0; i < 2; i++) await rig.sentinel.tick();
    expect(await alertsOf(rig, 'emergency.director-silent')).toEqual([]);

    await rig.client.del(rig.keys.heartbeat('director', 'd1')); // kill -9: the heartbeat is gone
    rig.clock.offsetMs += 6000;
    const alert = await rig.until(
      async () => (await alertsOf(rig, 'emergency.director-silent'))[0],
      'director-silent',
    );
    expect(alert).toMatchObject({ level: 2, subject: 'director' });
    expect(await pausedQueues(rig)).toEqual([...WORKER_QUEUES]);
    expect(readFileSync(join(rig.memoryDir, 'deployment', 'emergency.md'), 'utf8')).toMatch(
      /no Director heartbeat/,
    );
    expect((await sentinelMessages(rig)).some((m) => m.to === 'director' && m.priority === 'EMERGENCY')).toBe(
      true,
    );
    for (let i = 0; i < 2; i++) await rig.sentinel.tick();
    expect(await alertsOf(rig, 'emergency.director-silent')).toHaveLength(1);

    await heartbeat(rig.client, rig.keys, { role: 'director', instance: 'd2', ttlMs: 60_000 });
    await rig.until(
      async () => (await rig.sentinel.alerts.get(alert.id))?.status === 'resolved',
      'the emergency to close',
    );
    expect(await pausedQueues(rig)).toEqual([]);
  });

  it('trust falling below 3 → emergency meeting; the agent concerned keeps working; resolve continue resumes', async () => {
    const rig = await makeRig();
    const runId = await createRun(rig);
    for (let i = 0; i < 2; i++) await rig.sentinel.tick();
    await appendRun(rig, runId, {
      type: 'trust.changed',
      role: 'builder',
      from: 7,
      to: 3,
      delta: -4,
      reason: 'x',
    });
    for (let i = 0; i < 2; i++) await rig.sentinel.tick();
    expect(await alertsOf(rig, 'emergency.trust-low')).toEqual([]); // 3 is not below 3
    await appendRun(rig, runId, {
      type: 'trust.changed',
      role: 'builder',
      from: 3,
      to: 2,
      delta: -1,
      reason: 'md5 hashing',
    });
    const alert = await rig.until(async () => (await alertsOf(rig, 'emergency.trust-low'))[0], 'trust-low');
    expect(alert).toMatchObject({ level: 2, subject: 'builder', runId });
    expect(await pausedQueues(rig)).toEqual(WORKER_QUEUES.filter((q) => q !== 'agent.builder'));
    expect(readFileSync(join(rig.memoryDir, runId, 'emergency.md'), 'utf8')).toMatch(
      /trust of builder is 2 < 3/,
    );
    expect((await runEvents(rig, runId)).filter((e) => e.type === 'alert.raised')).toMatchObject([
      { level: 2, key: alert.key },
    ]);
    expect(postsFor(alert.id)).toEqual([]); // Level 2: no webhook (minLevel 3)

    await resolveAlert({ alerts: rig.sentinel.alerts, bus: rig.bus }, alert.id, {
      decision: 'continue',
      by: 'director',
    });
    await rig.until(async () => (await pausedQueues(rig)).length === 0, 'the queues to resume');
    for (let i = 0; i < 2; i++) await rig.sentinel.tick();
    expect(await alertsOf(rig, 'emergency.trust-low')).toHaveLength(1);
  });

  it('LLM latency > 5 min (fake clock) → Level 3 with one signed webhook', async () => {
    const rig = await makeRig();
    let release: () => void = () => undefined;
    const held = new Promise<void>((resolve) => {
      release = resolve;
    });
    const llm = new Worker(QUEUE_NAMES.llm, () => held, {
      connection: rig.blocking(),
      prefix: rig.keys.prefix,
    });
    try {
      await rig.queue(QUEUE_NAMES.llm).add('chat', { role: 'builder' }, { priority: 3 });
      await waitFor(async () => (await rig.queue(QUEUE_NAMES.llm).getActiveCount()) === 1, {
        what: 'the call to start',
      });
      for (let i = 0; i < 2; i++) await rig.sentinel.tick();
      expect(await alertsOf(rig, 'resources.llm-latency')).toEqual([]);
      rig.clock.offsetMs += 5 * 60_000 + 1000;
      const alert = await rig.until(
        async () => (await alertsOf(rig, 'resources.llm-latency'))[0],
        'llm latency',
      );
      expect(alert).toMatchObject({ level: 3, subject: 'llm' });
      expect(await pausedQueues(rig)).toEqual([...WORKER_QUEUES]);
      expectOneSignedPost(alert);
      // Resolved in the store only (as the dashboard may): the Sentinel notices and resumes.
      await rig.sentinel.alerts.resolve(alert.id, { decision: 'note', note: 'Ollama restarted', by: 'ops' });
      await rig.until(async () => (await pausedQueues(rig)).length === 0, 'the queues to resume');
    } finally {
      release();
      await llm.close();
    }
  });

  it('a prompt that may have been cut to fit num_ctx → Level 1 ALERT to the Director, once per run; nothing paused', async () => {
    const rig = await makeRig();
    const runId = await createRun(rig);
    const other = await createRun(rig);
    // What the gateway returns for a call whose prompt Ollama may have cut (issue 20).
    const llm = new Worker(
      QUEUE_NAMES.llm,
      async (job) => ({ text: 'ok', promptCut: (job.data as { cut?: boolean }).cut === true }),
      { connection: rig.blocking(), prefix: rig.keys.prefix },
    );
    try {
      const queue = rig.queue(QUEUE_NAMES.llm);
      await queue.add('chat', { role: 'scout', runId: other, cut: false });
      for (let i = 0; i < 2; i++) await queue.add('chat', { role: 'builder', runId, cut: true });
      const alert = await rig.until(
        async () => (await alertsOf(rig, 'resources.prompt-cut'))[0],
        'a prompt-cut alert',
      );
      expect(alert).toMatchObject({ level: 1, subject: 'llm', runId, status: 'open' });
      expect(alert.reason).toMatch(/OLLAMA_NUM_CTX/);
      await queue.add('chat', { role: 'builder', runId, cut: true });
      await waitFor(async () => (await queue.getCompletedCount()) === 4, { what: 'the calls to finish' });
      for (let i = 0; i < 3; i++) await rig.sentinel.tick();
      expect((await alertsOf(rig, 'resources.prompt-cut')).map((a) => a.runId)).toEqual([runId]);
      const told = (await sentinelMessages(rig)).filter((m) => m.type === 'ALERT' && m.to === 'director');
      expect(told).toHaveLength(1);
      expect(told[0]?.content).toMatch(/context window/);
      expect(await pausedQueues(rig)).toEqual([]);
    } finally {
      await llm.close();
    }
  });

  it('circuit breaker: N failures open it (queue paused, STATUS), cool-down half-opens, a success closes it', async () => {
    const rig = await makeRig({ circuit: { failureThreshold: 3, coolDownMs: 10_000 } });
    const name = QUEUE_NAMES.agent('refactorer');
    let failing = true;
    const worker = new Worker(
      name,
      async () => {
        if (failing) throw new Error('[LLM_UNAVAILABLE/transient] ollama unavailable: model down');
        return 'ok';
      },
      { connection: rig.blocking(), prefix: rig.keys.prefix },
    );
    const circuit = async () => JSON.parse((await rig.client.hget(rig.keys.custom('circuit'), name)) ?? '{}');
    try {
      for (let i = 0; i < 3; i++) await rig.queue(name).add('REQUEST', { i }, { priority: 3 });
      await rig.until(async () => (await circuit()).state === 'open', 'the circuit to open');
      expect(await rig.queue(name).isPaused()).toBe(true);
      await waitFor(
        async () =>
          (await sentinelMessages(rig)).some((m) => m.content.startsWith('circuit open for refactorer')),
        {
          what: 'the STATUS',
        },
      );
      failing = false;
      await rig.queue(name).add('REQUEST', { i: 'trial' }, { priority: 3 });
      for (let i = 0; i < 2; i++) await rig.sentinel.tick();
      expect((await circuit()).state).toBe('open'); // still cooling down
      rig.clock.offsetMs += 11_000;
      await rig.until(async () => (await circuit()).state === 'closed', 'the circuit to close');
      expect(await rig.queue(name).isPaused()).toBe(false);
      const states = (await sentinelMessages(rig))
        .filter((m) => m.content.startsWith('circuit'))
        .map((m) => m.content.split(' ')[1]);
      expect(states).toEqual(['open', 'half-open', 'closed']);
    } finally {
      await worker.close();
    }
  });

  it('a second Sentinel on the same deployment does not raise or POST an alert again', async () => {
    const rig = await makeRig();
    rig.memory.percent = 95;
    const alert = await rig.until(async () => (await alertsOf(rig, 'resources.memory'))[0], 'memory alert');
    expect(alert.level).toBe(3);
    await rig.sentinel.stop();
    const again = new SentinelService({
      redis: rig.client,
      connection: createRedisClient(redis.url, { maxRetriesPerRequest: null }),
      keys: rig.keys,
      bus: rig.bus,
      store: rig.store,
      logger: createLogger({ service: 'sentinel', level: 'silent' }),
      memoryDir: rig.memoryDir,
      thresholds: { directorSilentMs: 24 * 3600_000 },
      webhook: { url: hookUrl, secret: SECRET, minLevel: 3 },
      intervalMs: 3_600_000,
      memory: () => ({ total: 1000, free: 50 }),
    });
    try {
      await again.start();
      for (let i = 0; i < 3; i++) await again.tick();
      expect(again.rounds).toBeGreaterThanOrEqual(3);
      expect(await alertsOf(rig, 'resources.memory')).toHaveLength(1);
      expectOneSignedPost(alert);
    } finally {
      await again.stop();
    }
  });
  it('a phase past 2× its expected time (fake clock) → Level 2; abort → the run is aborted and the queues resume', async () => {
    const rig = await makeRig();
    const runId = await createRun(rig);
    for (let i = 0; i < 2; i++) await rig.sentinel.tick();
    rig.clock.offsetMs += 2 * 30 * 60_000 - 60_000; // P2 expects 30 min: 59 min is not over 2×
    for (let i = 0; i < 2; i++) await rig.sentinel.tick();
    expect(await alertsOf(rig, 'runaway.phase-duration')).toEqual([]);
    rig.clock.offsetMs += 2 * 60_000;
    const alert = await rig.until(
      async () => (await alertsOf(rig, 'runaway.phase-duration'))[0],
      'phase overrun',
    );
    expect(alert).toMatchObject({ level: 2, subject: 'p2-i1', runId });
    expect(await pausedQueues(rig)).toEqual([...WORKER_QUEUES]);
    await resolveAlert({ alerts: rig.sentinel.alerts, bus: rig.bus }, alert.id, {
      decision: 'abort',
      by: 'human',
    });
    await rig.until(async () => (await pausedQueues(rig)).length === 0, 'the queues to resume');
    const state = fold(await runEvents(rig, runId));
    expect(state.stop?.outcome).toBe('aborted');
    expect(state.humanDecisions.map((d) => d.decision)).toEqual(['abort']);
  });

  it('a Sentinel killed halfway through a plan finishes it, and never re-sends what it had claimed', async () => {
    // What a Sentinel killed right after claiming the webhook leaves behind: the alert and one claim.
    let alert: AlertRecord | undefined;
    const rig = await makeRig(
      { memory: () => ({ total: 1000, free: 50 }) },
      async ({ client, keys, memoryDir }) => {
        const at = new Date().toISOString();
        ({ alert } = await createAlertStore(client, keys).raise({
          key: incidentKey('deployment', 'resources.memory', 'memory', 3),
          level: 3,
          rule: 'resources.memory',
          subject: 'memory',
          reason: 'memory at 95% > 90%',
          actions: ['pause-all', 'state-dump', 'human-summary', 'notify-human', 'wait-human'],
          at,
          file: join(memoryDir, 'alerts', `ALERT-${at.replace(/[:.]/g, '-')}.md`),
        }));
        await client.hset(keys.custom('sentinel', 'ledger'), `${alert.id}:webhook`, 'started');
      },
    );
    await rig.until(
      async () => (await pausedQueues(rig)).length === WORKER_QUEUES.length,
      'the rest of the plan',
    );
    await rig.until(() => existsSync(alert?.file ?? ''), 'the alert file');
    expect(await alertsOf(rig, 'resources.memory')).toHaveLength(1);
    expect(postsFor(alert?.id ?? '')).toEqual([]);
    expect((await sentinelMessages(rig)).filter((m) => m.type === 'ALERT')).toHaveLength(1);
  });
});
