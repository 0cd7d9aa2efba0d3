// Leadership takes over at once from a holder on this host that is known dead, and waits the TTL
// for any other holder (issue 21 §3).
import { spawnSync } from 'node:child_process';
import { hostname } from 'node:os';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedis } from './connection.js';
import { createKeys } from './keys.js';
import { Leadership } from './leadership.js';
import { thisProcess } from './lease-holder.js';
import { acquireLease, leaseHolder } from './leases.js';
import { deletePrefix, REDIS_URL, uniquePrefix } from './test-support.js';

const prefix = uniquePrefix('leadership');
const keys = createKeys(prefix);
const redis = createRedis(REDIS_URL);
const quiet = { info: () => undefined, warn: () => undefined, error: () => undefined };
const started: Leadership[] = [];

afterAll(async () => {
  for (const l of started) await l.stop();
  await deletePrefix(redis, prefix);
  await redis.quit();
});

/** The pid of a process that has exited (so it is known dead on this host). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], {
    encoding: 'utf8',
  });
  return Number(child.stdout);
}

function leadership(name: string, token: string): { l: Leadership; led: Promise<void> } {
  let resolve = (): void => undefined;
  const led = new Promise<void>((r) => {
    resolve = r;
  });
  const l = new Leadership({
    redis,
    keys,
    logger: quiet,
    name,
    token,
    ttlMs: 60_000,
    heartbeatMs: 60_000,
    heartbeatTtlMs: 60_000,
    local: thisProcess(),
    lead: async () => resolve(),
    standDown: async () => undefined,
  });
  started.push(l);
  return { l, led };
}

describe('Leadership after a crash', () => {
  it('takes the lease at once from a dead holder on this host, not after its 60 s TTL', async () => {
    const dead = `${hostname()}-${deadPid()}-old000`;
    expect(await acquireLease(redis, keys, 'director', { ttlMs: 60_000, token: dead })).toBe(true);
    const { l } = leadership('director', `${hostname()}-${process.pid}-new111`);
    await l.start();
    expect(l.isLeader).toBe(true);
    expect(await leaseHolder(redis, keys, 'director')).toBe(`${hostname()}-${process.pid}-new111`);
  });

  it('leaves a holder on another host, or alive here, to its TTL', async () => {
    for (const [name, holder] of [
      ['scribe', `elsewhere-${deadPid()}-far000`],
      ['sentinel', `${hostname()}-${process.ppid}-live00`],
    ] as const) {
      expect(await acquireLease(redis, keys, name, { ttlMs: 60_000, token: holder })).toBe(true);
      const { l } = leadership(name, `${hostname()}-${process.pid}-spare${name.length}`);
      await l.start();
      expect(l.isLeader, name).toBe(false);
      expect(await leaseHolder(redis, keys, name)).toBe(holder);
    }
  });
});

describe('Leadership after its lease vanished (a Redis restart from its AOF)', () => {
  it('leads again even when its stand-down never finishes', async () => {
    let leads = 0;
    let standDowns = 0;
    let hang = true;
    const name = 'stand-down-test';
    const l = new Leadership({
      redis,
      keys,
      logger: quiet,
      name,
      token: `${hostname()}-${process.pid}-hang01`,
      ttlMs: 600,
      heartbeatMs: 60_000,
      heartbeatTtlMs: 60_000,
      standDownLimitMs: 300,
      lead: async () => {
        leads++;
      },
      // A worker closing around a job that hangs: never resolves.
      standDown: () => {
        standDowns++;
        return hang ? new Promise<void>(() => undefined) : Promise.resolve();
      },
    });
    started.push(l);
    try {
      await l.start();
      expect(l.isLeader).toBe(true);
      expect(leads).toBe(1);
      // The lease key is gone, as after an AOF cut took its last renewals and it expired on load.
      await redis.del(keys.lease(name));
      const deadline = Date.now() + 20_000;
      while (leads < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
      expect(standDowns).toBeGreaterThanOrEqual(1);
      expect(leads).toBe(2);
      expect(l.isLeader).toBe(true);
    } finally {
      hang = false; // so that stopping it after the tests returns
    }
  }, 30_000);
});
