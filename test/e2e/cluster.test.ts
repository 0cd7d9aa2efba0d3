// Issue 13 "Redis Cluster": a 3-master cluster of real redis-server processes (`redis-cli --cluster
// create`), and the real services on it through `redis+cluster://` with a {hash-tagged} prefix:
// the limiter (2 gateways, 5 agents, 60 requests, never more than 2 at Ollama) and a scripted run.
import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fold, parseRunEvent, type RunEvent } from '@nightshift/core';
import { type Message, WORKER_ROLES } from '@nightshift/protocol';
import {
  type Bus,
  createBus,
  createKeys,
  createRunStore,
  enqueueRun,
  isCluster,
  listHeartbeats,
} from '@nightshift/redis';
import {
  type FakeAnthropic,
  type FakeOllama,
  startFakeAnthropic,
  startFakeOllama,
  uniquePrefix,
  waitFor,
} from '@nightshift/testkit';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  requestTo,
  responsesByRequest,
  type ServiceProcess,
  serviceEnv,
  spawnService,
  stopAll,
} from './agent-harness.js';
import { SERVICE_MAIN } from './support/stack.js';

const run = promisify(execFile);
const nodes: { port: number; dir: string; child: ChildProcess }[] = [];
let url = '';
let procs: ServiceProcess[] = [];
const closers: (() => Promise<unknown>)[] = [];

/** Three distinct free ports (a free port is only probably free: redis-server failing is reported). */
async function freePorts(n: number): Promise<number[]> {
  const { freePort } = await import('@nightshift/testkit');
  const ports = new Set<number>();
  while (ports.size < n) ports.add(await freePort());
  return [...ports];
}

async function cli(port: number, ...args: string[]): Promise<string> {
  const { stdout } = await run('redis-cli', ['-h', '127.0.0.1', '-p', String(port), ...args], {
    timeout: 30_000,
  });
  return stdout;
}

beforeAll(async () => {
  for (const port of await freePorts(3)) {
    const dir = mkdtempSync(join(tmpdir(), `ns-cluster-${port}-`));
    const child = spawn(
      'redis-server',
      [
        ...['--port', String(port), '--bind', '127.0.0.1', '--dir', dir],
        ...['--cluster-enabled', 'yes', '--cluster-config-file', join(dir, 'nodes.conf')],
        ...['--cluster-node-timeout', '2000', '--appendonly', 'no', '--save', ''],
        // BullMQ requires noeviction (REFERENCE: BullMQ connections).
        ...['--maxmemory-policy', 'noeviction'],
      ],
      { stdio: 'ignore' },
    );
    child.once('error', (error) => {
      throw new Error(`redis-server could not start (is it installed?): ${error.message}`);
    });
    nodes.push({ port, dir, child });
  }
  for (const node of nodes) {
    await waitFor(async () => (await cli(node.port, 'ping')).trim() === 'PONG', {
      timeoutMs: 30_000,
      what: `redis-server on ${node.port}`,
    });
  }
  await run(
    'redis-cli',
    [
      '--cluster',
      'create',
      ...nodes.map((n) => `127.0.0.1:${n.port}`),
      '--cluster-replicas',
      '0',
      '--cluster-yes',
    ],
    { timeout: 60_000 },
  );
  for (const node of nodes) {
    await waitFor(async () => (await cli(node.port, 'cluster', 'info')).includes('cluster_state:ok'), {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: `cluster_state:ok on ${node.port}`,
    });
  }
  url = `redis+cluster://${nodes.map((n) => `127.0.0.1:${n.port}`).join(',')}`;
});

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail' || process.env.DEBUG_E2E)
    for (const p of procs) console.error(p.tail(40));
  await stopAll(procs);
  procs = [];
  for (const close of closers.splice(0).reverse()) await close();
});

afterAll(async () => {
  await stopAll(procs);
  for (const node of nodes) {
    node.child.kill('SIGKILL');
    if (node.child.exitCode === null) await new Promise((r) => node.child.once('exit', r));
    rmSync(node.dir, { recursive: true, force: true });
  }
});

function openBus(prefix: string): Bus {
  const bus = createBus({ url, keys: createKeys(prefix), onError: () => undefined });
  closers.push(() => bus.close());
  return bus;
}

async function waitForHeartbeats(bus: Bus, count: number): Promise<void> {
  await waitFor(async () => (await listHeartbeats(bus.redis, bus.keys)).length >= count, {
    timeoutMs: 120_000,
    intervalMs: 500,
    what: `${count} heartbeats on the cluster\n${procs.map((p) => p.tail(10)).join('\n')}`,
  });
}

describe('on a 3-master Redis Cluster', () => {
  it('spreads slots over three masters, and a hash-tagged prefix keeps a deployment in one slot', async () => {
    const info = await cli(nodes[0]?.port ?? 0, 'cluster', 'nodes');
    expect(info.split('\n').filter((l) => l.includes('master')).length).toBe(3);
    const prefix = uniquePrefix();
    const keys = createKeys(prefix);
    const slots = new Set<string>();
    for (const key of [keys.busLog, keys.busTo('director'), keys.runEvents('run_x'), `${prefix}:llm:wait`])
      slots.add((await cli(nodes[0]?.port ?? 0, 'cluster', 'keyslot', key)).trim());
    expect(slots.size).toBe(1);
    const bus = openBus(prefix);
    expect(isCluster(bus.redis)).toBe(true);
  });

  it('holds the limiter: 2 gateways + 5 agents, 60 requests, at most 2 calls at Ollama, each answered once', async () => {
    const prefix = uniquePrefix();
    // Slack slots: a third concurrent call would show up in maxConcurrent instead of queueing.
    const fake: FakeOllama = await startFakeOllama({ numParallel: 4, maxQueue: 200, latencyMs: 50 });
    closers.push(() => fake.stop());
    const base = {
      REDIS_URL: url,
      NIGHTSHIFT_PREFIX: prefix,
      OLLAMA_HOST: fake.url,
      OLLAMA_NUM_PARALLEL: '2',
      LOG_LEVEL: 'warn',
    };
    for (let i = 0; i < 2; i++)
      procs.push(spawnService(`gateway-${i}`, SERVICE_MAIN['llm-gateway'], serviceEnv(base)));
    for (const role of WORKER_ROLES) {
      const env = serviceEnv({ ...base, ROLE: role, [`ROLE_CONCURRENCY_${role.toUpperCase()}`]: '4' });
      procs.push(spawnService(`agent-${role}`, SERVICE_MAIN.agent, env));
    }
    const bus = openBus(prefix);
    await waitForHeartbeats(bus, 7);

    const sent: Message[] = [];
    for (let i = 0; i < 60; i++) {
      const role = WORKER_ROLES[i % WORKER_ROLES.length] ?? 'builder';
      sent.push(requestTo(role, `cluster task ${i} for ${role}`));
    }
    await Promise.all(sent.map((m) => bus.publish(m)));
    const answered = await waitFor(
      async () => {
        const byRequest = await responsesByRequest(bus);
        return sent.every((m) => byRequest.has(m.id)) ? byRequest : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 500, what: '60 RESPONSEs on the cluster' },
    );
    for (const m of sent) expect(answered.get(m.id), `responses to ${m.id}`).toHaveLength(1);
    expect(fake.records.filter((r) => r.status !== 200)).toEqual([]);
    expect(fake.records).toHaveLength(60);
    expect(fake.maxConcurrent).toBe(2);
    expect(procs.every((p) => p.alive)).toBe(true);
  });

  it('drives a scripted run P1 → P2 → P3 → P4 → finished with the whole team on the cluster', async () => {
    const prefix = uniquePrefix();
    const keys = createKeys(prefix);
    const ollama: FakeOllama = await startFakeOllama({ numParallel: 4, latencyMs: 20 });
    const anthropic: FakeAnthropic = await startFakeAnthropic({});
    closers.push(
      () => anthropic.stop(),
      () => ollama.stop(),
    );
    const verdict = JSON.stringify({ decision: 'finish', rationale: 'clean' });
    anthropic.setScenario([
      { match: { contains: 'Frame the goal' }, reply: { content: 'Goal: make the test pass.' } },
      { match: { contains: 'Verify the review of iteration' }, reply: { content: verdict } },
    ]);
    ollama.setScenario([{ match: { role: 'inspector' }, reply: { content: '{"findings":[]}' } }]);
    const memoryDir = mkdtempSync(join(tmpdir(), 'ns-cluster-mem-'));
    closers.push(async () => rmSync(memoryDir, { recursive: true, force: true }));
    const env = serviceEnv({
      REDIS_URL: url,
      NIGHTSHIFT_PREFIX: prefix,
      OLLAMA_HOST: ollama.url,
      OLLAMA_NUM_PARALLEL: '2',
      ANTHROPIC_API_KEY: 'sk-test-cluster-key',
      ANTHROPIC_BASE_URL: anthropic.url,
      ANTHROPIC_MAX_RETRIES: '0',
      MEMORY_DIR: memoryDir,
      WORKSPACE_DIR: join(memoryDir, 'ws'),
      DIRECTOR_TICK_MS: '200',
      DIRECTOR_LEASE_TTL_MS: '1500',
      QUEUE_LOCK_DURATION_MS: '5000',
      QUEUE_STALLED_INTERVAL_MS: '2000',
      LOG_LEVEL: 'warn',
    });
    procs.push(spawnService('llm-gateway', SERVICE_MAIN['llm-gateway'], env));
    procs.push(spawnService('scribe', SERVICE_MAIN.scribe, env));
    for (const role of WORKER_ROLES)
      procs.push(spawnService(role, SERVICE_MAIN.agent, { ...env, ROLE: role }));
    procs.push(spawnService('director', SERVICE_MAIN.director, env));
    // The Sentinel joins when it is built (it is being written alongside this suite).
    if (existsSync(SERVICE_MAIN.sentinel)) procs.push(spawnService('sentinel', SERVICE_MAIN.sentinel, env));
    const bus = openBus(prefix);
    await waitForHeartbeats(bus, procs.length);

    const { runId } = await enqueueRun(url, { task: 'Fix the failing test on the cluster' }, { prefix });
    const store = createRunStore(bus.redis, keys);
    const list = await waitFor(
      async () => {
        const events: RunEvent[] = (await store.read(runId)).map((e) => parseRunEvent(e.event));
        return ['finished', 'aborted', 'failed', 'waiting-human'].includes(fold(events).status)
          ? events
          : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 500, what: `run ${runId} to end on the cluster` },
    );
    expect(fold(list).status).toBe('finished');
    expect(list.filter((e) => e.type === 'phase.started').map((e) => (e as { phase: number }).phase)).toEqual(
      [1, 2, 3, 4],
    );
    expect(ollama.maxConcurrent).toBeLessThanOrEqual(2);
    expect(anthropic.records.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(2);
    const checkpoints = await bus.redis.lrange(keys.runCheckpoints(runId), 0, -1);
    expect(checkpoints.length).toBeGreaterThanOrEqual(1);
    expect(
      procs.every((p) => p.alive),
      procs
        .filter((p) => !p.alive)
        .map((p) => p.tail(20))
        .join('\n'),
    ).toBe(true);
  });
});
