import { MESSAGE_TYPES, type Message, newId, TopologyViolation, ValidationError } from '@nightshift/protocol';
import { Queue } from 'bullmq';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedis } from '../connection.js';
import { createKeys, QUEUE_NAMES } from '../keys.js';
import { deletePrefix, REDIS_URL, uniquePrefix } from '../test-support.js';
import { createBus } from './index.js';

const prefix = uniquePrefix('publish');
const keys = createKeys(prefix);
const redis = createRedis(REDIS_URL);
const bus = createBus({ url: REDIS_URL, keys, streamMaxLen: 1000 });
const queues: Queue[] = [];

function queue(name: string): Queue {
  const q = new Queue(name, { connection: redis, prefix });
  queues.push(q);
  return q;
}

function msg(overrides: Partial<Message> = {}): Message {
  return {
    id: newId('msg'),
    runId: 'run_publish',
    from: 'director',
    to: 'builder',
    type: 'STATUS',
    priority: 'NORMAL',
    timestamp: new Date().toISOString(),
    content: 'hello',
    ...overrides,
  };
}

async function streamMessages(key: string): Promise<{ id: string; fields: string[] }[]> {
  const entries = await redis.xrange(key, '-', '+');
  return entries.map(([id, fields]) => ({ id, fields }));
}

afterAll(async () => {
  await bus.close();
  await Promise.all(queues.map((q) => q.close()));
  await deletePrefix(redis, prefix);
  await redis.quit();
});

describe('publish', () => {
  it('turns a REQUEST into a job on agent.<to> with the message id, explicit priority and the message as data', async () => {
    for (const [priority, expected] of [
      ['EMERGENCY', 1],
      ['HIGH', 2],
      ['NORMAL', 3],
      ['LOW', 4],
    ] as const) {
      const m = msg({ type: 'REQUEST', priority, to: 'builder', content: `do it ${priority}` });
      const result = await bus.publish(m);
      expect(result.jobId).toBe(m.id);
      expect(result.streamId).toBeUndefined();
      const job = await queue(QUEUE_NAMES.agent('builder')).getJob(m.id);
      expect(job?.name).toBe('REQUEST');
      expect(job?.opts.priority).toBe(expected);
      expect(job?.data).toEqual(m);
      // REQUESTs never go to the inbox stream, but always to the log.
      const log = await streamMessages(keys.busLog);
      const entry = log.find((e) => e.id === result.logId);
      expect(entry?.fields).toEqual(['message', JSON.stringify(m)]);
    }
    expect(await redis.exists(keys.busTo('builder'))).toBe(0);
  });

  it('does not queue or log a re-published REQUEST id twice', async () => {
    const m = msg({ type: 'REQUEST', to: 'scout', from: 'builder', content: 'look this up' });
    const first = await bus.publish(m);
    const second = await bus.publish({ ...m, content: 'changed on the retry' });
    expect(second).toEqual({ logId: first.logId, jobId: m.id, duplicate: true });
    const scout = queue(QUEUE_NAMES.agent('scout'));
    const counts = await scout.getJobCounts('prioritized', 'waiting');
    expect((counts.prioritized ?? 0) + (counts.waiting ?? 0)).toBe(1);
    expect((await scout.getJob(m.id))?.data.content).toBe('look this up');
    const logged = (await streamMessages(keys.busLog)).filter((e) => e.fields[1]?.includes(m.id));
    expect(logged).toHaveLength(1);
  });

  it('still logs a REQUEST once if its job existed before its log entry (a job added around publish)', async () => {
    const m = msg({ type: 'REQUEST', to: 'inspector', content: 'inspect' });
    await queue(QUEUE_NAMES.agent('inspector')).add('REQUEST', m, { jobId: m.id, priority: 3 });
    const result = await bus.publish(m);
    expect(result.duplicate).toBeUndefined();
    const logged = (await streamMessages(keys.busLog)).filter((e) => e.fields[1]?.includes(m.id));
    expect(logged.map((e) => e.id)).toEqual([result.logId]);
    expect(await queue(QUEUE_NAMES.agent('inspector')).count()).toBe(1);
  });

  it('queues a REQUEST whose job was lost after its log entry when it is published again, logging it once', async () => {
    const m = msg({ type: 'REQUEST', to: 'refactorer', content: 'tidy up' });
    const work = queue(QUEUE_NAMES.agent('refactorer'));
    const first = await bus.publish(m);
    // The crash (or AOF cut) between the log append and the job add: the job is gone, the log entry and guard stay.
    await (await work.getJob(m.id))?.remove();
    expect(await work.getJob(m.id)).toBeUndefined();
    const again = await bus.publish(m);
    expect(again).toEqual({ logId: first.logId, jobId: m.id, duplicate: true });
    expect((await work.getJob(m.id))?.data).toEqual(m);
    const logged = (await streamMessages(keys.busLog)).filter((e) => e.fields[1]?.includes(m.id));
    expect(logged.map((e) => e.id)).toEqual([first.logId]);
  });

  it('never queues a REQUEST again once a consumer took it, even after its finished job was removed', async () => {
    const m = msg({ type: 'REQUEST', to: 'architect', content: 'design it' });
    const work = queue(QUEUE_NAMES.agent('architect'));
    const first = await bus.publish(m);
    expect(await bus.markTaken(m.id)).toBe(true);
    expect(await bus.markTaken(m.id)).toBe(false);
    // The guard keeps its TTL and still names the log entry.
    expect(await redis.pttl(keys.published(m.id))).toBeGreaterThan(0);
    expect(await bus.publishedAs(m.id)).toBe(first.logId);
    await (await work.getJob(m.id))?.remove();
    const again = await bus.publish(m);
    expect(again).toEqual({ logId: first.logId, jobId: m.id, duplicate: true });
    expect(await work.getJob(m.id)).toBeUndefined();
    const logged = (await streamMessages(keys.busLog)).filter((e) => e.fields[1]?.includes(m.id));
    expect(logged).toHaveLength(1);
    // Nothing to mark for an id that was never published.
    expect(await bus.markTaken(newId('msg'))).toBe(false);
  });

  it('XADDs every other type to bus:to:<to> and bus:log, one field "message" each', async () => {
    const cases: Message[] = [
      msg({ type: 'STATUS', from: 'builder', to: 'director' }),
      msg({ type: 'RESPONSE', from: 'scout', to: 'architect', inReplyTo: 'msg_x' }),
      msg({ type: 'DECISION', from: 'director', to: 'ALL', phase: 2 }),
      msg({ type: 'ALERT', from: 'inspector', to: 'director', priority: 'EMERGENCY' }),
    ];
    expect(new Set([...cases.map((c) => c.type), 'REQUEST'])).toEqual(new Set(MESSAGE_TYPES));
    for (const m of cases) {
      const result = await bus.publish(m);
      expect(result.jobId).toBeUndefined();
      const inbox = await streamMessages(keys.busTo(m.to));
      expect(inbox.find((e) => e.id === result.streamId)?.fields).toEqual(['message', JSON.stringify(m)]);
      const log = await streamMessages(keys.busLog);
      expect(log.find((e) => e.id === result.logId)?.fields).toEqual(['message', JSON.stringify(m)]);
    }
  });

  it('delivers and logs any other message id once, however many attempts publish it at once', async () => {
    const m = msg({ type: 'RESPONSE', from: 'builder', to: 'director', inReplyTo: 'msg_once' });
    expect(await bus.publishedAs(m.id)).toBeNull();
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => bus.publish({ ...m, content: `attempt ${i}` })),
    );
    const fresh = results.filter((r) => r.duplicate !== true);
    expect(fresh).toHaveLength(1);
    const winner = fresh[0];
    expect(new Set(results.map((r) => r.logId))).toEqual(new Set([winner?.logId]));
    expect(results.filter((r) => r.duplicate === true && r.streamId === undefined)).toHaveLength(7);
    expect(await bus.publishedAs(m.id)).toBe(winner?.logId);
    const inbox = (await streamMessages(keys.busTo('director'))).filter((e) => e.fields[1]?.includes(m.id));
    const logged = (await streamMessages(keys.busLog)).filter((e) => e.fields[1]?.includes(m.id));
    expect(inbox.map((e) => e.id)).toEqual([winner?.streamId]);
    expect(logged.map((e) => e.id)).toEqual([winner?.logId]);
    // Another id is its own message.
    const other = await bus.publish({ ...m, id: newId('msg') });
    expect(other.duplicate).toBeUndefined();
  });

  it('refuses a topology violation with TopologyViolation and writes nothing', async () => {
    const before = await redis.xlen(keys.busLog);
    const m = msg({ type: 'DECISION', from: 'architect', to: 'ALL' });
    await expect(bus.publish(m)).rejects.toBeInstanceOf(TopologyViolation);
    const asRequest = msg({ type: 'REQUEST', from: 'architect', to: 'builder' });
    await expect(bus.publish(asRequest)).rejects.toBeInstanceOf(TopologyViolation);
    expect(await redis.xlen(keys.busLog)).toBe(before);
    expect(await redis.exists(keys.published(asRequest.id))).toBe(0);
    expect(await queue(QUEUE_NAMES.agent('builder')).getJob(asRequest.id)).toBeUndefined();
    const all = await streamMessages(keys.busTo('ALL'));
    expect(all.some((e) => e.fields[1]?.includes(m.id))).toBe(false);
  });

  it('refuses an invalid message with a ValidationError naming the fields, and writes nothing', async () => {
    const before = await redis.xlen(keys.busLog);
    const bad = { ...msg(), to: 'janitor', priority: 'URGENT', content: 'x'.repeat(1024 * 1024) };
    const error = await bus.publish(bad).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    const paths = (error as ValidationError).problems.map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining(['to', 'priority', 'content']));
    await expect(bus.publish('not a message')).rejects.toBeInstanceOf(ValidationError);
    await expect(bus.publish({ ...msg(), extra: 1 })).rejects.toBeInstanceOf(ValidationError);
    expect(await redis.xlen(keys.busLog)).toBe(before);
  });

  it('caps streams with MAXLEN ~', async () => {
    const small = createBus({
      url: REDIS_URL,
      keys: createKeys(`${prefix.slice(0, -1)}-cap}`),
      streamMaxLen: 10,
    });
    try {
      for (let i = 0; i < 300; i++) await small.publish(msg({ from: 'builder', to: 'director' }));
      const len = await redis.xlen(small.keys.busLog);
      // Approximate trimming keeps whole macro nodes (100 entries by default), never less than 10.
      expect(len).toBeGreaterThanOrEqual(10);
      expect(len).toBeLessThan(300);
    } finally {
      await small.close();
      await deletePrefix(redis, small.keys.prefix);
    }
  });
});
