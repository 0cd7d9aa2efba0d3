import { type Message, newId } from '@nightshift/protocol';
import { Queue } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedis } from '../connection.js';
import { createKeys, QUEUE_NAMES } from '../keys.js';
import { deletePrefix, REDIS_URL, uniquePrefix, waitFor } from '../test-support.js';
import { createBus } from './index.js';
import type { DeadLetterData, MessageMeta } from './types.js';

const prefix = uniquePrefix('consume');
const keys = createKeys(prefix);
const redis = createRedis(REDIS_URL);
const errors: Error[] = [];
const bus = createBus({
  url: REDIS_URL,
  keys,
  claimIdleMs: 200,
  maxDeliveries: 3,
  onError: (e) => errors.push(e),
});
const deadLetters = new Queue(QUEUE_NAMES.deadLetter, { connection: redis, prefix });

function msg(overrides: Partial<Message> = {}): Message {
  return {
    id: newId('msg'),
    runId: 'run_consume',
    from: 'director',
    to: 'builder',
    type: 'STATUS',
    priority: 'NORMAL',
    timestamp: new Date().toISOString(),
    content: 'hello',
    ...overrides,
  };
}

async function deadLettered(entryId: string): Promise<DeadLetterData | undefined> {
  const jobs = await deadLetters.getJobs(['prioritized', 'waiting']);
  return jobs.map((j) => j.data as DeadLetterData).find((d) => d.entryId === entryId);
}

async function pendingCount(stream: string, group: string): Promise<number> {
  const summary = (await redis.xpending(stream, group)) as [number, ...unknown[]];
  return Number(summary[0]);
}

afterAll(async () => {
  await bus.close();
  await deadLetters.close();
  await deletePrefix(redis, prefix);
  await redis.quit();
});

describe('consume', () => {
  it('delivers inbox and ALL messages and acks after the handler succeeds', async () => {
    const seen: { message: Message; meta: MessageMeta }[] = [];
    const consumer = bus.consume('refactorer', async (message, meta) => {
      seen.push({ message, meta });
    });
    const direct = msg({ to: 'refactorer', type: 'DECISION' });
    const broadcast = msg({ to: 'ALL', type: 'DECISION' });
    await bus.publish(direct);
    await bus.publish(broadcast);
    await waitFor(() => seen.length >= 2, 'two deliveries');
    expect(seen.map((s) => s.message)).toEqual(expect.arrayContaining([direct, broadcast]));
    expect(seen.every((s) => s.meta.deliveries === 1)).toBe(true);
    await waitFor(async () => (await pendingCount(keys.busTo('refactorer'), 'refactorer')) === 0, 'ack');
    await waitFor(async () => (await pendingCount(keys.busTo('ALL'), 'refactorer')) === 0, 'ack on ALL');
    await consumer.stop();
  });

  it('leaves a failed entry pending and redelivers it with a higher delivery count', async () => {
    const deliveries: number[] = [];
    const consumer = bus.consume(
      'inspector',
      async (_message, meta) => {
        deliveries.push(meta.deliveries);
        if (deliveries.length === 1) throw new Error('transient failure');
      },
      { alsoAll: false },
    );
    await bus.publish(msg({ to: 'inspector' }));
    await waitFor(() => deliveries.length >= 2, 'a redelivery');
    expect(deliveries.slice(0, 2)).toEqual([1, 2]);
    await waitFor(
      async () => (await pendingCount(keys.busTo('inspector'), 'inspector')) === 0,
      'ack after success',
    );
    expect(errors.some((e) => e.message === 'transient failure')).toBe(true);
    await consumer.stop();
  });

  it('reclaims with XAUTOCLAIM what a dead consumer read but never acked', async () => {
    const stream = keys.busTo('scout');
    await redis.xgroup('CREATE', stream, 'scout', '0', 'MKSTREAM');
    const m = msg({ to: 'scout', type: 'DECISION' });
    await bus.publish(m);
    // Consumer A reads it and "dies" without acking.
    const read = await redis.xreadgroup('GROUP', 'scout', 'consumer-a', 'COUNT', 10, 'STREAMS', stream, '>');
    expect(JSON.stringify(read)).toContain(m.id);
    const got: { message: Message; meta: MessageMeta }[] = [];
    const b = bus.consume(
      'scout',
      async (message, meta) => {
        got.push({ message, meta });
      },
      { consumer: 'consumer-b', alsoAll: false },
    );
    await waitFor(() => got.length >= 1, 'consumer B to take over');
    expect(got[0]?.message).toEqual(m);
    expect(got[0]?.meta.deliveries).toBe(2);
    await waitFor(async () => (await pendingCount(stream, 'scout')) === 0, 'ack by B');
    await b.stop();
  });

  it('dead-letters an entry whose handler always fails after maxDeliveries, with the count', async () => {
    let calls = 0;
    const consumer = bus.consume(
      'architect',
      async () => {
        calls++;
        throw new Error('always broken');
      },
      { alsoAll: false },
    );
    const m = msg({ to: 'architect', type: 'DECISION' });
    const { streamId } = await bus.publish(m);
    const dead = await waitFor(() => deadLettered(streamId ?? ''), 'the dead letter');
    expect(calls).toBe(3);
    expect(dead.deliveries).toBe(3);
    expect(dead.reason).toContain('always broken');
    expect(dead.stream).toBe(keys.busTo('architect'));
    expect(dead.group).toBe('architect');
    expect(dead.fields).toEqual({ message: JSON.stringify(m) });
    await waitFor(async () => (await pendingCount(keys.busTo('architect'), 'architect')) === 0, 'the ack');
    await consumer.stop();
  });

  it('dead-letters an entry already delivered more than maxDeliveries times without reaching the handler', async () => {
    const stream = keys.busTo('scribe');
    await redis.xgroup('CREATE', stream, 'scribe', '0', 'MKSTREAM');
    const { streamId } = await bus.publish(msg({ to: 'scribe', from: 'director', type: 'STATUS' }));
    // Three consumers in a row "crash" while handling it (read, never ack).
    await redis.xreadgroup('GROUP', 'scribe', 'crashed-1', 'STREAMS', stream, '>');
    for (const name of ['crashed-2', 'crashed-3']) {
      await redis.xclaim(stream, 'scribe', name, 0, streamId ?? '');
    }
    let handled = 0;
    const consumer = bus.consume(
      'scribe',
      async () => {
        handled++;
      },
      { alsoAll: false },
    );
    const dead = await waitFor(() => deadLettered(streamId ?? ''), 'the dead letter');
    expect(dead.deliveries).toBe(4);
    expect(dead.reason).toMatch(/delivered 4 times/);
    expect(handled).toBe(0);
    await consumer.stop();
  });

  it('stop() ends a blocked read promptly and waits for the handler in flight', async () => {
    let release: () => void = () => undefined;
    let finished = false;
    let started = false;
    const consumer = bus.consume(
      'builder',
      async () => {
        started = true;
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        finished = true;
      },
      { blockMs: 60_000, alsoAll: false },
    );
    await bus.publish(msg({ to: 'builder' }));
    await waitFor(() => started, 'the handler to start');
    const stopping = consumer.stop();
    let stopped = false;
    void stopping.then(() => {
      stopped = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(stopped).toBe(false);
    release();
    await stopping;
    expect(finished).toBe(true);
    // Acked on the way out: nothing is left pending.
    expect(await pendingCount(keys.busTo('builder'), 'builder')).toBe(0);

    // A consumer idle in a 60 s BLOCK stops without waiting for the block to end.
    const idle = bus.consume('builder', async () => undefined, { blockMs: 60_000, group: 'idle' });
    await idle.ready;
    await idle.stop();
  });
});
