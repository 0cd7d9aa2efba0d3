// Bus.startTask (one script before an agent's work, issue 23 §2) and Bus.markTaken against real Redis.
import { type Message, newId, responseIdFor, ValidationError } from '@nightshift/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { createRedis } from '../connection.js';
import { createKeys } from '../keys.js';
import { deletePrefix, REDIS_URL, uniquePrefix } from '../test-support.js';
import { createBus } from './index.js';

const prefix = uniquePrefix('task');
const keys = createKeys(prefix);
const redis = createRedis(REDIS_URL);
const bus = createBus({ url: REDIS_URL, keys, streamMaxLen: 1000 });

afterAll(async () => {
  await bus.close();
  await deletePrefix(redis, prefix);
  await redis.quit();
});

function request(): Message {
  return {
    id: newId('msg'),
    runId: 'run_task',
    from: 'director',
    to: 'builder',
    type: 'REQUEST',
    priority: 'NORMAL',
    timestamp: new Date().toISOString(),
    content: 'build it',
  };
}

function status(req: Message, overrides: Partial<Message> = {}): Message {
  return {
    id: newId('msg'),
    runId: req.runId,
    from: 'builder',
    to: 'director',
    type: 'STATUS',
    priority: 'NORMAL',
    timestamp: new Date().toISOString(),
    inReplyTo: req.id,
    content: `Working on ${req.id}`,
    ...overrides,
  };
}

async function logged(id: string): Promise<string[]> {
  const entries = await redis.xrange(keys.busLog, '-', '+');
  return entries.filter(([, fields]) => fields[1]?.includes(`"id":"${id}"`)).map(([entryId]) => entryId);
}

async function inDirectorInbox(id: string): Promise<string[]> {
  const entries = await redis.xrange(keys.busTo('director'), '-', '+');
  return entries.filter(([, fields]) => fields[1]?.includes(`"id":"${id}"`)).map(([entryId]) => entryId);
}

const startedKey = (requestId: string) => keys.custom('task', requestId, 'started');

describe('startTask', () => {
  it('marks the request taken, keeps its first start and publishes the STATUS to inbox and log once', async () => {
    const req = request();
    const published = await bus.publish(req);
    const first = status(req);
    const now = Date.now();
    const started = await bus.startTask({
      requestId: req.id,
      responseId: responseIdFor(req.id),
      status: first,
      now,
      keepStartMs: 60_000,
      runTimeoutMs: 30_000,
    });
    expect(started).toEqual({
      state: 'started',
      startedAt: now,
      status: { logId: expect.any(String), streamId: expect.any(String) },
    });
    if (started.state !== 'started') return;
    expect(await logged(first.id)).toEqual([started.status.logId]);
    expect(await inDirectorInbox(first.id)).toEqual([started.status.streamId]);
    expect(await bus.publishedAs(first.id)).toBe(started.status.logId);
    expect(await redis.get(startedKey(req.id))).toBe(String(now));
    expect(await redis.pttl(startedKey(req.id))).toBeGreaterThan(50_000);
    // Taken: the REQUEST's guard carries the mark, keeps its TTL, and publishedAs still names its log entry.
    expect(await redis.get(keys.published(req.id))).toBe(`${published.logId} taken`);
    expect(await redis.pttl(keys.published(req.id))).toBeGreaterThan(0);
    expect(await bus.publishedAs(req.id)).toBe(published.logId);

    // A restarted attempt sees the first start, and its own STATUS is published.
    const second = status(req, { attempt: 2 });
    const again = await bus.startTask({
      requestId: req.id,
      responseId: responseIdFor(req.id),
      status: second,
      now: now + 5000,
      keepStartMs: 60_000,
      runTimeoutMs: 30_000,
    });
    expect(again).toMatchObject({ state: 'started', startedAt: now });
    expect(await logged(second.id)).toHaveLength(1);
    expect(await redis.get(keys.published(req.id))).toBe(`${published.logId} taken`);

    // The same STATUS id a second time is not delivered or logged again.
    const repeat = await bus.startTask({
      requestId: req.id,
      responseId: responseIdFor(req.id),
      status: second,
      now,
    });
    expect(repeat).toMatchObject({ state: 'started', status: { duplicate: true } });
    expect(await logged(second.id)).toHaveLength(1);
    expect(await inDirectorInbox(second.id)).toHaveLength(1);
  });

  it('reports an answered request with its RESPONSE log id and publishes no STATUS', async () => {
    const req = request();
    await bus.publish(req);
    const answer = await bus.publish({
      ...status(req),
      id: responseIdFor(req.id),
      type: 'RESPONSE',
      content: 'done',
    });
    const s = status(req);
    const result = await bus.startTask({
      requestId: req.id,
      responseId: responseIdFor(req.id),
      status: s,
      now: Date.now(),
      keepStartMs: 60_000,
      runTimeoutMs: 30_000,
    });
    expect(result).toEqual({ state: 'answered', logId: answer.logId });
    expect(await logged(s.id)).toEqual([]);
    expect(await redis.exists(startedKey(req.id))).toBe(0);
    expect(await redis.get(keys.published(req.id))).toMatch(/ taken$/);
  });

  it('reports a task past its run timeout from its first start, and publishes no STATUS', async () => {
    const req = request();
    const now = Date.now();
    await redis.set(startedKey(req.id), String(now - 5000));
    const s = status(req);
    const result = await bus.startTask({
      requestId: req.id,
      responseId: responseIdFor(req.id),
      status: s,
      now,
      keepStartMs: 60_000,
      runTimeoutMs: 1000,
    });
    expect(result).toEqual({ state: 'expired', startedAt: now - 5000 });
    expect(await logged(s.id)).toEqual([]);
    // Within its run timeout, the same start goes ahead.
    const within = await bus.startTask({
      requestId: req.id,
      responseId: responseIdFor(req.id),
      status: s,
      now,
      keepStartMs: 60_000,
      runTimeoutMs: 10_000,
    });
    expect(within).toMatchObject({ state: 'started', startedAt: now - 5000 });
  });

  it('keeps no start without keepStartMs: each attempt starts now', async () => {
    const req = request();
    const now = Date.now();
    const result = await bus.startTask({
      requestId: req.id,
      responseId: responseIdFor(req.id),
      status: status(req),
      now,
    });
    expect(result).toMatchObject({ state: 'started', startedAt: now });
    expect(await redis.exists(startedKey(req.id))).toBe(0);
  });

  it('refuses an invalid or misrouted STATUS, or another type, before writing anything', async () => {
    const req = request();
    const published = await bus.publish(req);
    const before = await redis.xlen(keys.busLog);
    const input = {
      requestId: req.id,
      responseId: responseIdFor(req.id),
      now: Date.now(),
      keepStartMs: 60_000,
    };
    await expect(
      bus.startTask({ ...input, status: { ...status(req), priority: 'URGENT' } }),
    ).rejects.toBeInstanceOf(ValidationError);
    await expect(bus.startTask({ ...input, status: status(req, { to: 'scout' }) })).rejects.toThrow(
      /topology|route|may not|cannot/i,
    );
    await expect(bus.startTask({ ...input, status: status(req, { type: 'ALERT' }) })).rejects.toThrow(
      /not a ALERT/,
    );
    expect(await redis.xlen(keys.busLog)).toBe(before);
    expect(await redis.exists(startedKey(req.id))).toBe(0);
    expect(await redis.get(keys.published(req.id))).toBe(published.logId);
  });
});
