// Redis Cluster: a one-node cluster (all 16384 slots on one spawned redis-server) still enforces
// CROSSSLOT, so it proves the hash-tagged prefix keeps the bus, BullMQ and leases in one slot.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type Message, newId } from '@nightshift/protocol';
import { Queue } from 'bullmq';
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBus } from './bus/index.js';
import { createRedis, createRedisClient } from './connection.js';
import { heartbeat, listHeartbeats } from './heartbeats.js';
import { createKeys, QUEUE_NAMES } from './keys.js';
import { acquireLease, releaseLease } from './leases.js';
import { waitFor } from './test-support.js';

let server: ChildProcess | undefined;
let dir = '';
let url = '';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      probe.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

beforeAll(async () => {
  const port = await freePort();
  dir = mkdtempSync(join(tmpdir(), 'nightshift-cluster-'));
  server = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      join(dir, 'nodes.conf'),
      '--cluster-announce-ip',
      '127.0.0.1',
      '--dir',
      dir,
      '--save',
      '',
      '--appendonly',
      'no',
    ],
    { stdio: 'ignore' },
  );
  server.once('error', (error) => {
    throw new Error(`could not start redis-server for the Cluster test (is it installed?): ${error.message}`);
  });
  const admin = createRedis(`redis://127.0.0.1:${port}`);
  try {
    await waitFor(async () => (await admin.ping()) === 'PONG', 'redis-server to start');
    await admin.call('CLUSTER', ['ADDSLOTSRANGE', '0', '16383']);
    await waitFor(
      async () => String(await admin.call('CLUSTER', ['INFO'])).includes('cluster_state:ok'),
      'cluster ok',
    );
  } finally {
    admin.disconnect();
  }
  url = `redis+cluster://127.0.0.1:${port}`;
});

afterAll(() => {
  server?.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function msg(overrides: Partial<Message> = {}): Message {
  return {
    id: newId('msg'),
    runId: 'run_cluster',
    from: 'director',
    to: 'builder',
    type: 'STATUS',
    priority: 'NORMAL',
    timestamp: new Date().toISOString(),
    content: 'hello cluster',
    ...overrides,
  };
}

describe('Redis Cluster with a {hash-tagged} prefix', () => {
  it('publishes, consumes, queues, dead-letters, leases and heartbeats through a Cluster client', async () => {
    const keys = createKeys('{ns}');
    const client = createRedisClient(url) as Cluster;
    const bus = createBus({ url, keys, claimIdleMs: 200 });
    const agentQueue = new Queue(QUEUE_NAMES.agent('builder'), { connection: client, prefix: keys.prefix });
    try {
      const seen: Message[] = [];
      const consumer = bus.consume('builder', async (m) => {
        seen.push(m);
      });
      const status = msg();
      await bus.publish(status);
      const request = msg({ type: 'REQUEST', priority: 'HIGH' });
      const published = await bus.publish(request);
      expect((await bus.publish(request)).duplicate).toBe(true);
      await waitFor(() => seen.some((m) => m.id === status.id), 'the status via the cluster');
      expect((await agentQueue.getJob(published.jobId ?? ''))?.opts.priority).toBe(2);
      expect((await bus.readLog()).map((e) => e.message?.id)).toEqual([status.id, request.id]);
      await client.xadd(keys.busTo('builder'), '*', 'junk', '1');
      const deadLetters = new Queue(QUEUE_NAMES.deadLetter, { connection: client, prefix: keys.prefix });
      await waitFor(async () => (await deadLetters.getJobs(['prioritized'])).length === 1, 'the dead letter');
      await deadLetters.close();
      await consumer.stop();

      expect(await acquireLease(client, keys, 'director', { ttlMs: 10_000, token: 't1' })).toBe(true);
      expect(await acquireLease(client, keys, 'director', { ttlMs: 10_000, token: 't2' })).toBe(false);
      expect(await releaseLease(client, keys, 'director', { token: 't1' })).toBe(true);
      await heartbeat(client, keys, { role: 'builder', instance: 'c1', ttlMs: 10_000 });
      expect((await listHeartbeats(client, keys)).map((h) => h.instance)).toEqual(['c1']);
    } finally {
      await agentQueue.close();
      await bus.close();
      client.disconnect();
    }
  });

  it('refuses an untagged prefix on a Cluster, whose keys would span slots', async () => {
    expect(() => createBus({ url, keys: createKeys('plain') })).toThrow(/hash-tagged/);
    const client = createRedisClient(url);
    try {
      // What the guard prevents: the publish MULTI over two untagged keys fails with CROSSSLOT.
      const plain = createKeys('plain');
      const result = client
        .multi()
        .xadd(plain.busTo('builder'), '*', 'message', '{}')
        .xadd(plain.busLog, '*', 'message', '{}')
        .exec();
      await expect(result).rejects.toThrow(/CROSSSLOT|slot/i);
    } finally {
      client.disconnect();
    }
  });
});
