// The circuit breakers against a real Redis and real BullMQ scripts (REDIS_URL, default the local
// 6379), each test on its own key prefix. Jobs are taken by hand (Worker.getNextJob), so "a second
// worker asks for a job and gets none" is a plain fact, not a race against the clock.
import { randomBytes } from 'node:crypto';
import {
  type Bus,
  createBus,
  createKeys,
  createRedisClient,
  type Keys,
  type RedisClient,
} from '@nightshift/redis';
import { createLogger } from '@nightshift/runtime';
import { type Job, Queue, Worker } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { type Circuit, parseCircuit } from './circuit.js';
import { CircuitBreakers } from './circuits.js';
import { QueueHolds } from './holds.js';
import { until as untilIn } from './test-support.js';

const until = <T>(check: () => Promise<T | undefined | false>, what: string | (() => string)) =>
  untilIn(check, what, 30_000);

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const NAME = 'agent.builder';
const PROVIDER_DOWN = '[LLM_UNAVAILABLE/transient] ollama unavailable: connection refused';
const POISON = 'invalid message: content: a non-empty string';
const CONFIG = { failureThreshold: 2, coolDownMs: 10_000, maxCoolDownMs: 10_000, trialTimeoutMs: 600_000 };

interface Rig {
  keys: Keys;
  client: RedisClient;
  bus: Bus;
  queue: Queue;
  logs: string[];
  clock: { now: number };
  circuits: CircuitBreakers;
  /** A new CircuitBreakers on the same Redis (a Sentinel taking over). */
  breakers(): CircuitBreakers;
  circuit(): Promise<Circuit>;
  /** A fresh worker asks for one job, as an idle worker process would. */
  take(): Promise<{ job: Job; token: string } | undefined>;
  close(): Promise<void>;
}
const rigs: Rig[] = [];
afterEach(async () => {
  for (const rig of rigs.splice(0)) await rig.close();
});

async function makeRig(): Promise<Rig> {
  const prefix = `{nss-${randomBytes(6).toString('hex')}}`;
  const keys = createKeys(prefix);
  const client = createRedisClient(REDIS_URL);
  const blocking = createRedisClient(REDIS_URL, { maxRetriesPerRequest: null });
  const bus = createBus({ url: REDIS_URL, keys });
  const queue = new Queue(NAME, { connection: client, prefix });
  const logs: string[] = [];
  const logger = createLogger({
    service: 'sentinel',
    level: 'debug',
    destination: { write: (line: string) => void logs.push(line) },
  });
  const clock = { now: Date.now() };
  const queueOf = (name: string) => {
    if (name !== NAME) throw new Error(`unexpected queue ${name}`);
    return queue;
  };
  const made: CircuitBreakers[] = [];
  const breakers = () => {
    const b = new CircuitBreakers({
      redis: client,
      keys,
      connection: blocking,
      holds: new QueueHolds(client, keys, queueOf),
      queue: queueOf,
      bus,
      logger,
      now: () => clock.now,
      config: CONFIG,
      queues: [NAME],
    });
    made.push(b);
    return b;
  };
  const workers: Worker[] = [];
  const circuits = breakers();
  await circuits.start();
  const rig: Rig = {
    keys,
    client,
    bus,
    queue,
    logs,
    clock,
    circuits,
    breakers,
    circuit: async () => parseCircuit(await client.hget(keys.custom('circuit'), NAME)),
    async take() {
      const worker = new Worker(NAME, null, { connection: blocking, prefix, autorun: false });
      workers.push(worker);
      const token = `probe-${workers.length}`;
      const job = await worker.getNextJob(token, { block: false });
      return job ? { job, token } : undefined;
    },
    async close() {
      for (const b of made) await b.stop();
      await Promise.allSettled(workers.map((w) => w.close()));
      await queue.obliterate({ force: true });
      await queue.close();
      await bus.close();
      for (const key of await client.keys(`${prefix}:*`)) await client.del(key);
      client.disconnect();
      blocking.disconnect();
    },
  };
  rigs.push(rig);
  return rig;
}

const add = (rig: Rig, n: number) =>
  rig.queue.addBulk(
    Array.from({ length: n }, (_, i) => ({ name: 'REQUEST', data: { i }, opts: { priority: 3 } })),
  );

async function fail(rig: Rig, reason: string): Promise<void> {
  const taken = await rig.take();
  if (!taken) throw new Error('no job to fail');
  await taken.job.moveToFailed(new Error(reason), taken.token, false);
}

/** Opens the circuit with provider failures, then lets the cool-down pass: half-open. */
async function halfOpen(rig: Rig): Promise<void> {
  await add(rig, CONFIG.failureThreshold);
  for (let i = 0; i < CONFIG.failureThreshold; i++) await fail(rig, PROVIDER_DOWN);
  await until(async () => (await rig.circuit()).state === 'open', 'the circuit to open');
  expect(await rig.queue.isPaused()).toBe(true);
  rig.clock.now += CONFIG.coolDownMs + 1;
  await rig.circuits.tick();
  expect((await rig.circuit()).state).toBe('half-open');
}

describe('circuit breakers (real Redis)', () => {
  it('poison jobs do not open the circuit; provider failures do', async () => {
    const rig = await makeRig();
    await add(rig, 3);
    for (let i = 0; i < 3; i++) await fail(rig, POISON);
    await until(
      async () => rig.logs.filter((l) => l.includes('not for the provider')).length === 3,
      'the three poison failures to be judged',
    );
    await rig.circuits.tick();
    expect((await rig.circuit()).state).toBe('closed');
    expect(await rig.queue.isPaused()).toBe(false);

    await halfOpen(rig); // two provider failures open it
    const states = (await rig.bus.readLog({ count: 100 })).flatMap((e) =>
      e.message?.content.startsWith('circuit') ? [e.message.content.split(' ')[1]] : [],
    );
    expect(states).toEqual(['open', 'half-open']);
  });

  it('half-open admits exactly one trial job; an inconclusive trial admits the next; success closes', async () => {
    const rig = await makeRig();
    await halfOpen(rig);
    await add(rig, 4);

    const trial = await rig.take();
    expect(trial).toBeDefined();
    expect(await rig.take()).toBeUndefined(); // the gate: a second worker gets nothing
    await until(async () => (await rig.circuit()).trialJobId === trial?.job.id, 'the trial to be seen');

    // The trial turns out to be poison: it says nothing about the provider, so one more is let in.
    await trial?.job.moveToFailed(new Error(POISON), trial.token, false);
    await until(async () => (await rig.circuit()).trialJobId === undefined, 'the next trial to be admitted');
    expect((await rig.circuit()).state).toBe('half-open');
    const second = await rig.take();
    expect(second).toBeDefined();
    expect(await rig.take()).toBeUndefined();
    await until(async () => (await rig.circuit()).trialJobId === second?.job.id, 'the second trial');

    await second?.job.moveToCompleted('ok', second.token, false);
    await until(async () => (await rig.circuit()).state === 'closed', 'the circuit to close');
    // The gate is gone: two idle workers both get work again.
    expect(await rig.take()).toBeDefined();
    expect(await rig.take()).toBeDefined();
    expect(await rig.client.hmget(rig.queue.toKey('meta'), 'max', 'duration')).toEqual([null, null]);
  });

  it('a failed trial opens the circuit again: queue paused, no job for anyone', async () => {
    const rig = await makeRig();
    await halfOpen(rig);
    await add(rig, 3);
    const trial = await rig.take();
    expect(trial).toBeDefined();
    await until(async () => (await rig.circuit()).trialJobId === trial?.job.id, 'the trial to be seen');
    await trial?.job.moveToFailed(new Error(PROVIDER_DOWN), trial.token, false);
    await until(async () => (await rig.circuit()).state === 'open', 'the circuit to open again');
    expect(await rig.circuit()).toMatchObject({ opens: 2 });
    expect(await rig.queue.isPaused()).toBe(true);
    expect(await rig.take()).toBeUndefined();
    // The next cool-down gates it again: one trial, not three.
    rig.clock.now += CONFIG.coolDownMs + 1;
    await rig.circuits.tick();
    expect(await rig.take()).toBeDefined();
    expect(await rig.take()).toBeUndefined();
  });

  it('a Sentinel taking over mid-trial finds the trial outcome it never heard', async () => {
    const rig = await makeRig();
    await halfOpen(rig);
    await add(rig, 2);
    const trial = await rig.take();
    await until(async () => (await rig.circuit()).trialJobId === trial?.job.id, 'the trial to be seen');
    await rig.circuits.stop(); // the old leader is gone: nobody hears the trial end
    await trial?.job.moveToCompleted('ok', trial.token, false);

    const next = rig.breakers();
    await next.start();
    expect((await rig.circuit()).state).toBe('half-open');
    await next.tick();
    expect((await rig.circuit()).state).toBe('closed');
    expect(await rig.take()).toBeDefined();
  });
});
