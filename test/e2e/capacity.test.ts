// Issue 12: the capacity simulator checked against reality. The same workload (6 Scout tasks of
// one 1 s model call) runs through the real gateway and 1, 2, 3 Scout processes; the
// simulator's makespan and slot utilisation must agree with the measurement within 10%.
// Like `simulate --from-run`, the model's per-call overhead (the gateway's queue hop, HTTP, the
// result's way back) comes from a separate calibration run (4 tasks, 1 Scout), never from the
// run it predicts.
import { simulate } from '@nightshift/core';
import { type Bus, createBus, createKeys } from '@nightshift/redis';
import {
  type FakeOllama,
  startFakeOllama,
  startRedis,
  type TestRedis,
  uniquePrefix,
  waitFor,
} from '@nightshift/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  readWholeLog,
  requestTo,
  type ServiceProcess,
  serviceEnv,
  spawnService,
  stopAll,
} from './agent-harness.js';
import { SERVICE_MAIN } from './support/stack.js';

const TASKS = 6;
const LATENCY_MS = 1000;
const SLOTS = 2;

let redis: TestRedis;
let ollama: FakeOllama;
const procs: ServiceProcess[] = [];

beforeAll(async () => {
  redis = await startRedis();
  // Slack in the fake: the limit under test is the gateway's, not the server's.
  ollama = await startFakeOllama({ numParallel: SLOTS + 2, latencyMs: LATENCY_MS });
});

afterAll(async () => {
  await stopAll(procs);
  await ollama?.stop();
  await redis?.stop();
});

async function measure(scouts: number, tasks = TASKS): Promise<{ makespanMs: number; utilisation: number }> {
  const prefix = uniquePrefix();
  const keys = createKeys(prefix);
  const env = serviceEnv({
    REDIS_URL: redis.url,
    NIGHTSHIFT_PREFIX: prefix,
    OLLAMA_HOST: ollama.url,
    OLLAMA_NUM_PARALLEL: String(SLOTS),
    LOG_LEVEL: 'warn',
  });
  const mine: ServiceProcess[] = [spawnService('llm-gateway', SERVICE_MAIN['llm-gateway'], env)];
  for (let i = 0; i < scouts; i++)
    mine.push(spawnService(`scout-${i}`, SERVICE_MAIN.agent, { ...env, ROLE: 'scout' }));
  procs.push(...mine);
  const bus: Bus = createBus({ url: redis.url, keys });
  try {
    // Wait until every scout has a heartbeat, so start-up is not measured.
    await waitFor(async () => (await bus.redis.keys(`${prefix}:heartbeat:scout:*`)).length >= scouts, {
      timeoutMs: 60_000,
      what: `${scouts} scout heartbeats`,
    });
    // One untimed request per scout warms up connections and code paths (a cold first call is
    // not what a night of work looks like).
    for (let i = 0; i < scouts; i++) await bus.publish(requestTo('scout', `warm-up ${i}`));
    await waitFor(
      async () => (await readWholeLog(bus)).filter((e) => e.message?.type === 'RESPONSE').length >= scouts,
      {
        timeoutMs: 60_000,
        what: 'warm-up responses',
      },
    );
    const before = (await readWholeLog(bus)).filter((e) => e.message?.type === 'RESPONSE').length;
    ollama.reset();
    const started = Date.now();
    for (let i = 0; i < tasks; i++) await bus.publish(requestTo('scout', `capacity task ${i}`));
    await waitFor(
      async () =>
        (await readWholeLog(bus)).filter((e) => e.message?.type === 'RESPONSE').length >= before + tasks,
      { timeoutMs: 120_000, intervalMs: 20, what: 'all responses' },
    );
    const makespanMs = Date.now() - started;
    const busy = ollama.records.reduce((sum, r) => sum + ((r.end ?? 0) - (r.start ?? 0)), 0);
    return { makespanMs, utilisation: busy / (SLOTS * makespanMs) };
  } finally {
    await stopAll(mine);
    await bus.close();
  }
}

describe('capacity simulator vs a measured run', () => {
  let overheadMs = 0;
  beforeAll(async () => {
    const calibration = await measure(1, 4);
    overheadMs = Math.max(0, (calibration.makespanMs - 4 * LATENCY_MS) / 4);
  });

  it.each([1, 2, 3])('agrees within 10 percent with %i scout(s)', async (scouts) => {
    const measured = await measure(scouts);
    const predicted = simulate({
      tasks: Array.from({ length: TASKS }, () => ({
        role: 'scout' as const,
        calls: 1,
        latencyMs: LATENCY_MS,
        slotOverheadMs: overheadMs,
      })),
      agents: { scout: scouts },
      numParallel: SLOTS,
    });
    const error = Math.abs(predicted.makespanMs - measured.makespanMs) / measured.makespanMs;
    expect(
      error,
      `predicted ${predicted.makespanMs} ms, measured ${measured.makespanMs} ms (overhead ${overheadMs} ms/task)`,
    ).toBeLessThan(0.1);
    expect(Math.abs(predicted.utilisation - measured.utilisation)).toBeLessThan(0.1);
  });
});
