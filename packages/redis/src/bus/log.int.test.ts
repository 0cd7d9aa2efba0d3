import { type Message, newId } from '@nightshift/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedis } from '../connection.js';
import { createKeys } from '../keys.js';
import { deletePrefix, REDIS_URL, uniquePrefix, waitFor } from '../test-support.js';
import { createBus } from './index.js';
import type { LogEntry } from './types.js';

const prefix = uniquePrefix('log');
const keys = createKeys(prefix);
const redis = createRedis(REDIS_URL);
const bus = createBus({ url: REDIS_URL, keys });

function msg(overrides: Partial<Message> = {}): Message {
  return {
    id: newId('msg'),
    runId: 'run_log',
    from: 'builder',
    to: 'director',
    type: 'STATUS',
    priority: 'NORMAL',
    timestamp: new Date().toISOString(),
    content: 'progress',
    ...overrides,
  };
}

afterAll(async () => {
  await bus.close();
  await deletePrefix(redis, prefix);
  await redis.quit();
});

describe('readLog and tailLog', () => {
  it('reads the log in order, forwards, backwards and after an id, marking bad entries', async () => {
    const a = msg({ content: 'a' });
    const b = msg({ type: 'REQUEST', from: 'director', to: 'builder', content: 'b' });
    const ra = await bus.publish(a);
    const garbageId = await redis.xadd(keys.busLog, '*', 'message', 'not json');
    const rb = await bus.publish(b);

    const all = await bus.readLog();
    expect(all.map((e) => e.id)).toEqual([ra.logId, garbageId, rb.logId]);
    expect(all[0]?.message).toEqual(a);
    expect(all[1]).toMatchObject({ id: garbageId, raw: { message: 'not json' } });
    expect(all[1]?.error).toMatch(/not JSON/);
    expect(all[1]?.message).toBeUndefined();
    expect(all[2]?.message).toEqual(b);

    expect((await bus.readLog({ after: ra.logId })).map((e) => e.id)).toEqual([garbageId, rb.logId]);
    expect((await bus.readLog({ from: rb.logId })).map((e) => e.id)).toEqual([rb.logId]);
    expect((await bus.readLog({ reverse: true, count: 2 })).map((e) => e.id)).toEqual([rb.logId, garbageId]);
  });

  it('tails only new entries from "$" until aborted', async () => {
    const old = await bus.publish(msg({ content: 'before the tail' }));
    const seen: LogEntry[] = [];
    const controller = new AbortController();
    const tail = bus.tailLog(
      (entry) => {
        seen.push(entry);
      },
      { signal: controller.signal, blockMs: 60_000 },
    );
    // The tail resolves '$' to the newest id before blocking; publish until it reports one.
    const fresh = msg({ content: 'after the tail started' });
    await waitFor(async () => {
      if (seen.length > 0) return true;
      await bus.publish(msg({ content: 'nudge' }));
      return false;
    }, 'the tail to see a new entry');
    await bus.publish(fresh);
    await waitFor(() => seen.some((e) => e.message?.id === fresh.id), 'the fresh entry');
    expect(seen.some((e) => e.id === old.logId)).toBe(false);
    controller.abort();
    await tail;
  });

  it('tails from a given id', async () => {
    const first = await bus.publish(msg({ content: 'one' }));
    const second = await bus.publish(msg({ content: 'two' }));
    const controller = new AbortController();
    const seen: string[] = [];
    const tail = bus.tailLog(
      (entry) => {
        seen.push(entry.id);
        if (entry.id === second.logId) controller.abort();
      },
      { from: first.logId, signal: controller.signal },
    );
    await tail;
    expect(seen).toEqual([second.logId]);
  });
});
