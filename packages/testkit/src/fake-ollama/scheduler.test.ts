// The slot scheduler alone: FIFO grants, queue limit, aborts while queued, peaks.
import { describe, expect, it } from 'vitest';
import { SlotScheduler } from './scheduler.js';

describe('SlotScheduler', () => {
  it('runs numParallel, queues maxQueue in order, refuses the rest', async () => {
    const s = new SlotScheduler(2, 2);
    const a = await s.admit();
    const b = await s.admit();
    const c = s.admit();
    const d = s.admit();
    expect(s.admit()).toBeNull();
    expect([s.running, s.queued]).toEqual([2, 2]);
    a?.();
    const releaseC = await c;
    expect(releaseC).toBeTypeOf('function');
    expect([s.running, s.queued]).toEqual([2, 1]);
    a?.(); // releasing twice must not free a second slot
    expect(s.running).toBe(2);
    b?.();
    releaseC?.();
    (await d)?.();
    expect([s.running, s.queued, s.maxConcurrent, s.maxQueued]).toEqual([0, 0, 2, 2]);
  });

  it('drops a queued request whose client went away', async () => {
    const s = new SlotScheduler(1, 5);
    const first = await s.admit();
    const controller = new AbortController();
    const queued = s.admit(controller.signal);
    controller.abort();
    expect(await queued).toBeNull();
    expect(s.queued).toBe(0);
    first?.();
    expect(s.running).toBe(0);
  });

  it('rejects nonsense limits', () => {
    expect(() => new SlotScheduler(0, 1)).toThrow(RangeError);
    expect(() => new SlotScheduler(1, -1)).toThrow(RangeError);
  });
});
