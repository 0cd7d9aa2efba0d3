import { randomBytes } from 'node:crypto';
import { type Message, newId } from '@nightshift/protocol';
import { Queue } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedis } from '../connection.js';
import { createKeys, QUEUE_NAMES } from '../keys.js';
import { deletePrefix, REDIS_URL, uniquePrefix, waitFor } from '../test-support.js';
import { createBus } from './index.js';
import type { DeadLetterData } from './types.js';

const prefix = uniquePrefix('poison');
const keys = createKeys(prefix);
const redis = createRedis(REDIS_URL);
const errors: Error[] = [];
const bus = createBus({ url: REDIS_URL, keys, claimIdleMs: 200, onError: (e) => errors.push(e) });
const deadLetters = new Queue(QUEUE_NAMES.deadLetter, { connection: redis, prefix });

function msg(overrides: Partial<Message> = {}): Message {
  return {
    id: newId('msg'),
    runId: 'run_poison',
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

afterAll(async () => {
  await bus.close();
  await deadLetters.close();
  await deletePrefix(redis, prefix);
  await redis.quit();
});

describe('poison entries', () => {
  it('dead-letters each kind of garbage with its reason, acks it, and keeps serving valid messages', async () => {
    const inbox = keys.busTo('builder');
    const handled: Message[] = [];
    const consumer = bus.consume('builder', async (message) => {
      handled.push(message);
    });
    const cases: { fields: string[]; reason: RegExp }[] = [
      { fields: ['foo', 'bar'], reason: /no "message" field \(fields: foo\)/ },
      { fields: ['message', '{not json'], reason: /not JSON/ },
      { fields: ['message', JSON.stringify({ hello: 'world' })], reason: /fails the schema: id: / },
      { fields: ['message', JSON.stringify({ ...msg(), to: 'janitor' })], reason: /fails the schema: to: / },
      {
        fields: ['message', JSON.stringify(msg({ content: randomBytes(512 * 1024).toString('hex') }))],
        reason: /fails the schema: content: /,
      },
      {
        fields: ['message', JSON.stringify(msg({ from: 'architect', type: 'DECISION' }))],
        reason: /topology violation: only the Director/,
      },
      { fields: ['message', JSON.stringify(msg({ to: 'scout', type: 'DECISION' }))], reason: /misrouted/ },
    ];
    const ids: string[] = [];
    for (const c of cases) ids.push((await redis.xadd(inbox, '*', ...c.fields)) ?? '');
    const valid = msg({ to: 'builder', content: 'after the garbage' });
    await bus.publish(valid);

    await waitFor(() => handled.some((m) => m.id === valid.id), 'the valid message');
    for (const [i, c] of cases.entries()) {
      const dead = await waitFor(() => deadLettered(ids[i] ?? ''), `dead letter ${i}`);
      expect(dead.reason).toMatch(c.reason);
      expect(dead.stream).toBe(inbox);
      expect(dead.deliveries).toBe(1);
      const expected: Record<string, string> = {};
      for (let f = 0; f < c.fields.length; f += 2) expected[c.fields[f] ?? ''] = c.fields[f + 1] ?? '';
      expect(dead.fields).toEqual(expected);
    }
    expect(handled.map((m) => m.id)).toEqual([valid.id]);
    const summary = (await redis.xpending(inbox, 'builder')) as [number];
    expect(Number(summary[0])).toBe(0);
    await consumer.stop();
  });

  it('survives its connection being killed and its stream being deleted, then keeps serving', async () => {
    const group = `survivor-${randomBytes(3).toString('hex')}`;
    const handled: Message[] = [];
    const consumer = bus.consume(
      'inspector',
      async (message) => {
        handled.push(message);
      },
      { group, alsoAll: false, blockMs: 200 },
    );
    await consumer.ready;

    const id = await waitFor(async () => {
      const list = String(await redis.client('LIST'));
      const line = list.split('\n').find((l) => l.includes(`name=nightshift-consumer-${group} `));
      return /id=(\d+)/.exec(line ?? '')?.[1];
    }, 'the blocking connection');
    await redis.client('KILL', 'ID', id);
    const first = msg({ to: 'inspector', content: 'after the kill' });
    await bus.publish(first);
    await waitFor(() => handled.some((m) => m.id === first.id), 'a message after reconnecting');

    // Stream and group gone, as after a Redis restart without persistence: NOGROUP, then recreate.
    await redis.del(keys.busTo('inspector'));
    await waitFor(() => errors.some((e) => e.message.includes('NOGROUP')), 'the NOGROUP error');
    const second = msg({ to: 'inspector', content: 'after the stream was deleted' });
    await bus.publish(second);
    await waitFor(() => handled.some((m) => m.id === second.id), 'a message after the group was recreated');
    await consumer.stop();
  });

  it('dead-letters any payload on request, with source and reason', async () => {
    const payload = { id: 'job_1', data: 'whatever the worker could not read' };
    const jobId = await bus.deadLetter({
      source: 'agent.builder',
      reason: 'job data fails the schema',
      payload,
    });
    const job = await deadLetters.getJob(jobId);
    expect(job?.opts.priority).toBeGreaterThan(0);
    expect(job?.data).toMatchObject({
      source: 'agent.builder',
      reason: 'job data fails the schema',
      deliveries: 1,
      payload,
    });
  });
});
