// One acting Sentinel per deployment, against a real Redis (REDIS_URL, default the local 6379):
// in process, a standby judges nothing and a leader that loses its lease stops; as processes
// (the built dist/main.js, read from SENTINEL_* variables), kill -9 of the leader hands over.
import { type ChildProcess, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  createBus,
  createKeys,
  createRedisClient,
  createRunStore,
  type HeartbeatRecord,
  listHeartbeats,
} from '@nightshift/redis';
import { createLogger } from '@nightshift/runtime';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SentinelService } from './sentinel.js';
import { until as untilIn } from './test-support.js';

const until = <T>(check: () => Promise<T | undefined | false>, what: string | (() => string)) =>
  untilIn(check, what, 60_000);

const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const MAIN = join(dirname(fileURLToPath(import.meta.url)), '../dist/main.js');
const prefix = `{nss-${randomBytes(6).toString('hex')}}`;
const keys = createKeys(prefix);
const client = createRedisClient(REDIS_URL);
let memoryDir: string;

const beats = (): Promise<HeartbeatRecord[]> => listHeartbeats(client, keys, 'sentinel');

beforeAll(() => {
  memoryDir = mkdtempSync(join(tmpdir(), 'ns-sentinel-lead-'));
});

afterAll(async () => {
  for (const key of await client.keys(`${prefix}:*`)) await client.del(key);
  client.disconnect();
  rmSync(memoryDir, { recursive: true, force: true });
});

describe('sentinel leadership, in process', () => {
  const bus = createBus({ url: REDIS_URL, keys });
  const blocking = createRedisClient(REDIS_URL, { maxRetriesPerRequest: null });
  const sentinels: SentinelService[] = [];
  const make = (instance: string) => {
    const s = new SentinelService({
      redis: client,
      connection: blocking,
      keys,
      bus,
      store: createRunStore(client, keys),
      logger: createLogger({ service: 'sentinel', level: 'silent' }),
      memoryDir,
      thresholds: { directorSilentMs: 24 * 3600_000 },
      intervalMs: 3_600_000, // rounds are driven by the test
      memory: null,
      leaseTtlMs: 900,
      heartbeatMs: 100,
      heartbeatTtlMs: 5000,
      instance,
    });
    sentinels.push(s);
    return s;
  };

  afterEach(async () => {
    for (const s of sentinels.splice(0)) await s.stop();
  });

  afterAll(async () => {
    await bus.close();
    blocking.disconnect();
  });

  it('only the lease holder judges; a leader that loses its lease stands down; one of them leads again', async () => {
    const a = make('sentinel-a');
    const b = make('sentinel-b');
    await a.start();
    await b.start();
    expect(a.isLeader).toBe(true);
    expect(b.isLeader).toBe(false);
    expect(await b.tick()).toBeUndefined(); // a standby does not judge
    expect(b.rounds).toBe(0);
    expect(await a.tick()).toBeDefined();
    await until(async () => {
      const all = await beats();
      const of = (instance: string) => all.find((x) => x.instance === instance)?.status;
      return of('sentinel-a') === 'leading' && of('sentinel-b') === 'standby';
    }, 'a leading and b standby in the heartbeats');

    // Someone else holds the lease now (as after a pause longer than the TTL): a must stop acting.
    await client.set(keys.lease('sentinel'), 'intruder', 'PX', 600_000);
    await until(async () => !a.isLeader, 'a to stand down');
    expect(await a.tick()).toBeUndefined();
    const rounds = a.rounds;
    expect(b.isLeader).toBe(false);

    // The intruder goes away: exactly one of the two takes the lease and judges again.
    await client.del(keys.lease('sentinel'));
    const leader = await until(async () => sentinels.find((s) => s.isLeader), 'a new leader');
    expect(sentinels.filter((s) => s.isLeader)).toEqual([leader]);
    expect(await leader.tick()).toBeDefined();
    expect(a.rounds + b.rounds).toBeGreaterThan(rounds);
  });

  it('stop releases the lease, so a spare leads without waiting for the TTL to run out', async () => {
    const a = make('sentinel-c');
    await a.start();
    expect(a.isLeader).toBe(true);
    expect(await client.get(keys.lease('sentinel'))).toBe('sentinel-c');
    await a.stop();
    expect(await client.get(keys.lease('sentinel'))).toBeNull();
    expect((await beats()).some((x) => x.instance === 'sentinel-c')).toBe(false);
  });
});

describe('sentinel leadership, as processes', () => {
  const procs: { child: ChildProcess; output: string[]; exited: Promise<number | null> }[] = [];
  let env: NodeJS.ProcessEnv;

  beforeAll(() => {
    // Host memory is whatever the machine has: this suite is about leadership, not alerts.
    const configFile = join(memoryDir, 'nightshift.config.json');
    writeFileSync(configFile, JSON.stringify({ detection: { memoryPercent: 100 } }));
    env = {
      PATH: process.env.PATH,
      REDIS_URL,
      NIGHTSHIFT_PREFIX: prefix,
      NIGHTSHIFT_CONFIG: configFile,
      MEMORY_DIR: memoryDir,
      WORKSPACE_DIR: join(memoryDir, 'ws'),
      LOG_LEVEL: 'info',
      SENTINEL_LEASE_TTL_MS: '1000',
      SENTINEL_INTERVAL_MS: '200',
      HEARTBEAT_INTERVAL_MS: '200',
      HEARTBEAT_TTL_MS: '3000',
    };
  });

  afterAll(async () => {
    for (const p of procs) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
  });

  function start() {
    const child = spawn(process.execPath, [MAIN], { env, cwd: memoryDir, stdio: ['ignore', 'pipe', 'pipe'] });
    const output: string[] = [];
    child.stdout?.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    child.stderr?.on('data', (chunk: Buffer) => output.push(chunk.toString('utf8')));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const p = { child, output, exited };
    procs.push(p);
    return p;
  }

  const status = async (pid: number | undefined) => (await beats()).find((x) => x.pid === pid);

  it('kill -9 of the leading process: the spare takes over and judges; SIGTERM lets go of the lease', async () => {
    const first = start();
    await until(
      async () => {
        const beat = await status(first.child.pid);
        return beat?.status === 'leading' && Number(beat.info.rounds) >= 2;
      },
      () => `the first sentinel to lead\n${first.output.join('')}`,
    );
    // SENTINEL_LEASE_TTL_MS is what the process leases for (the default would be 10 s).
    const ttl = await client.pttl(keys.lease('sentinel'));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(1000);
    const spare = start();
    await until(
      async () => (await status(spare.child.pid))?.status === 'standby',
      () => `the spare to stand by\n${spare.output.join('')}`,
    );
    expect((await status(first.child.pid))?.status).toBe('leading');

    first.child.kill('SIGKILL');
    await first.exited;
    await until(
      async () => {
        const beat = await status(spare.child.pid);
        return beat?.status === 'leading' && Number(beat.info.rounds) >= 2;
      },
      () => `the spare to take over\n${spare.output.join('')}`,
    );
    expect(spare.output.join('')).toContain('acquired the sentinel lease');

    spare.child.kill('SIGTERM');
    expect(await spare.exited).toBe(0);
    expect(await client.get(keys.lease('sentinel'))).toBeNull();
  });
});
