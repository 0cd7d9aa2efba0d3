// Issue 9 acceptance with the real entry files: the Sentinel as its own process next to a real
// Director and a Builder. kill -9 of the Sentinel stops nothing; kill -9 of the Director is an
// emergency; a queue over 50 is Level 3 with one signed webhook; a restarted Sentinel raises and
// POSTs nothing twice.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { newId } from '@nightshift/protocol';
import {
  type AlertRecord,
  type Bus,
  createAlertStore,
  createBus,
  createKeys,
  listHeartbeats,
  QUEUE_NAMES,
} from '@nightshift/redis';
import {
  ALERT_ID_HEADER,
  resolveAlert,
  SIGNATURE_HEADER,
  verifySignature,
  WORKER_QUEUES,
} from '@nightshift/service-sentinel';
import { startRedis, type TestRedis, uniquePrefix, waitFor } from '@nightshift/testkit';
import { Queue } from 'bullmq';
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

const SECRET = 'process-webhook-secret';
const prefix = uniquePrefix();
const keys = createKeys(prefix);
let redis: TestRedis;
let bus: Bus;
let env: NodeJS.ProcessEnv;
let memoryDir: string;
let receiver: Server;
const posts: { headers: Record<string, string | string[] | undefined>; body: string }[] = [];
const procs: ServiceProcess[] = [];
const queues = new Map<string, Queue>();

function queue(name: string): Queue {
  let q = queues.get(name);
  if (!q) {
    q = new Queue(name, { connection: bus.redis, prefix });
    queues.set(name, q);
  }
  return q;
}

function start(name: string, main: string, extra: Record<string, string> = {}): ServiceProcess {
  const p = spawnService(name, main, { ...env, ...extra });
  procs.push(p);
  return p;
}

async function killHard(p: ServiceProcess): Promise<void> {
  p.child.kill('SIGKILL');
  await p.exited;
}

const tails = () =>
  procs
    .filter((p) => p.alive)
    .map((p) => p.tail(20))
    .join('\n');
const alerts = () => createAlertStore(bus.redis, keys);
const alertsOf = async (rule: string): Promise<AlertRecord[]> =>
  (await alerts().list({ limit: 1000 })).filter((a) => a.rule === rule);

async function paused(): Promise<string[]> {
  const out: string[] = [];
  for (const name of WORKER_QUEUES) if (await queue(name).isPaused()) out.push(name);
  return out;
}

/** The leading Sentinel has finished at least `rounds` rounds (from its heartbeat). */
async function sentinelRounds(pid: number | undefined, rounds: number): Promise<boolean> {
  const beats = await listHeartbeats(bus.redis, keys, 'sentinel');
  return beats.some((b) => b.pid === pid && b.status === 'leading' && Number(b.info.rounds) >= rounds);
}

beforeAll(async () => {
  redis = await startRedis();
  bus = createBus({ url: redis.url, keys });
  memoryDir = mkdtempSync(join(tmpdir(), 'ns-sentinel-proc-'));
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      posts.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  // Host memory is whatever the CI machine has: this suite is about other triggers.
  const configFile = join(memoryDir, 'nightshift.config.json');
  writeFileSync(configFile, JSON.stringify({ detection: { memoryPercent: 100 } }));
  env = serviceEnv({
    REDIS_URL: redis.url,
    NIGHTSHIFT_PREFIX: prefix,
    NIGHTSHIFT_CONFIG: configFile,
    NIGHTSHIFT_MODEL: 'instant',
    MEMORY_DIR: memoryDir,
    WORKSPACE_DIR: join(memoryDir, 'ws'),
    ALERT_WEBHOOK_URL: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`,
    ALERT_WEBHOOK_SECRET: SECRET,
    DIRECTOR_TICK_MS: '250',
    DIRECTOR_LEASE_TTL_MS: '1500',
    SENTINEL_INTERVAL_MS: '500',
    SENTINEL_LEASE_TTL_MS: '1500',
    // The Director counts as silent 4 s after its last heartbeat (its role timeout).
    ROLE_TIMEOUT_DIRECTOR: '4',
    LOG_LEVEL: 'info',
  });
});

afterAll(async () => {
  await stopAll(procs);
  await Promise.allSettled([...queues.values()].map((q) => q.close()));
  await bus?.close();
  await new Promise<void>((resolve) => receiver?.close(() => resolve()));
  await redis?.stop();
  rmSync(memoryDir, { recursive: true, force: true });
});

describe('the Sentinel process', () => {
  it('watches; its death stops nothing; the Director killed is an emergency; L3 posts once, even across restarts', async () => {
    let director = start('director', SERVICE_MAIN.director);
    start('builder', SERVICE_MAIN.agent, { ROLE: 'builder' });
    let sentinel = start('sentinel', SERVICE_MAIN.sentinel);
    await waitFor(() => sentinelRounds(sentinel.child.pid, 2), {
      timeoutMs: 60_000,
      what: `the sentinel to lead\n${tails()}`,
    });
    await waitFor(async () => (await listHeartbeats(bus.redis, keys, 'director')).length > 0, {
      timeoutMs: 60_000,
      what: `the director heartbeat\n${tails()}`,
    });
    expect(await alerts().list()).toEqual([]);

    // kill -9 the Sentinel: the team goes on (a Builder request is answered).
    await killHard(sentinel);
    const request = requestTo('builder', 'Implement the sum function.');
    await bus.publish(request);
    await waitFor(
      async () =>
        (await readWholeLog(bus)).some(
          (e) => e.message?.type === 'RESPONSE' && e.message.inReplyTo === request.id,
        ),
      { timeoutMs: 60_000, what: `the builder's answer without a sentinel\n${tails()}` },
    );

    sentinel = start('sentinel-2', SERVICE_MAIN.sentinel);
    await waitFor(() => sentinelRounds(sentinel.child.pid, 1), {
      timeoutMs: 60_000,
      what: `sentinel-2 to lead\n${tails()}`,
    });

    // kill -9 the Director: no heartbeat → emergency meeting, every worker pauses.
    await killHard(director);
    const silent = await waitFor(async () => (await alertsOf('emergency.director-silent'))[0], {
      timeoutMs: 90_000,
      intervalMs: 250,
      what: `the director-silent emergency\n${tails()}`,
    });
    expect(silent.level).toBe(2);
    await waitFor(async () => (await paused()).length === WORKER_QUEUES.length, {
      timeoutMs: 30_000,
      what: 'all workers paused',
    });
    expect(existsSync(join(memoryDir, 'deployment', 'emergency.md'))).toBe(true);
    expect(sentinel.tail(400)).toMatch(/EMERGENCY/);

    // A new Director: the emergency closes itself and the workers resume.
    director = start('director-2', SERVICE_MAIN.director);
    await waitFor(async () => (await alerts().get(silent.id))?.status === 'resolved', {
      timeoutMs: 90_000,
      intervalMs: 250,
      what: `the emergency to close\n${tails()}`,
    });
    await waitFor(async () => (await paused()).length === 0, {
      timeoutMs: 30_000,
      what: 'the workers to resume',
    });

    // 51 requests for an Architect nobody runs: Level 3, one signed webhook POST, an alert file.
    await queue(QUEUE_NAMES.agent('architect')).addBulk(
      Array.from({ length: 51 }, (_, i) => ({
        name: 'REQUEST',
        data: { ...requestTo('architect', `design ${i}`), id: newId('msg') },
        opts: { priority: 3 },
      })),
    );
    const depth = await waitFor(async () => (await alertsOf('resources.queue-depth'))[0], {
      timeoutMs: 60_000,
      intervalMs: 250,
      what: `the queue-depth alert\n${tails()}`,
    });
    expect(depth.level).toBe(3);
    await waitFor(() => posts.some((p) => p.headers[ALERT_ID_HEADER] === depth.id), {
      timeoutMs: 30_000,
      what: 'the webhook',
    });
    const mine = posts.filter((p) => p.headers[ALERT_ID_HEADER] === depth.id);
    expect(mine).toHaveLength(1);
    expect(verifySignature(mine[0]?.body ?? '', SECRET, mine[0]?.headers[SIGNATURE_HEADER] as string)).toBe(
      true,
    );
    expect(existsSync(depth.file ?? '')).toBe(true);
    expect(readFileSync(depth.file ?? '', 'utf8')).toContain(`nightshift resolve ${depth.id}`);
    await waitFor(() => /ESCALATE/.test(sentinel.tail(400)), {
      timeoutMs: 30_000,
      what: 'the ESCALATE log line',
    });

    // kill -9 and restart the Sentinel: the same incidents are not raised or POSTed again.
    const before = (await alerts().list({ limit: 1000 })).length;
    await killHard(sentinel);
    sentinel = start('sentinel-3', SERVICE_MAIN.sentinel);
    await waitFor(() => sentinelRounds(sentinel.child.pid, 4), {
      timeoutMs: 60_000,
      what: `sentinel-3 rounds\n${tails()}`,
    });
    expect((await alerts().list({ limit: 1000 })).length).toBe(before);
    expect(await alertsOf('resources.queue-depth')).toHaveLength(1);
    expect(await alertsOf('emergency.director-silent')).toHaveLength(1);
    expect(posts.filter((p) => p.headers[ALERT_ID_HEADER] === depth.id)).toHaveLength(1);
    expect(posts).toHaveLength(1);

    // A human continues: every worker queue resumes (the Architect's work is still queued).
    await resolveAlert({ alerts: alerts(), bus }, depth.id, { decision: 'continue', by: 'human' });
    await waitFor(async () => (await paused()).length === 0, {
      timeoutMs: 30_000,
      what: `resume after continue\n${tails()}`,
    });
    expect(
      await queue(QUEUE_NAMES.agent('architect')).getJobCountByTypes('prioritized', 'waiting', 'paused'),
    ).toBe(51);
  });
});
