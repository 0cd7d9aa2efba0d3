import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { simulate, sweepAgents } from './capacity.js';

const builderTasks = (n: number, latencyMs = 100) =>
  Array.from({ length: n }, () => ({ role: 'builder' as const, calls: 1, latencyMs }));

describe('capacity model', () => {
  it('serialises one agent and parallelises up to the slot limit, no further', () => {
    expect(simulate({ tasks: builderTasks(10), agents: { builder: 1 }, numParallel: 2 }).makespanMs).toBe(
      1000,
    );
    expect(simulate({ tasks: builderTasks(10), agents: { builder: 2 }, numParallel: 2 }).makespanMs).toBe(
      500,
    );
    const three = simulate({ tasks: builderTasks(10), agents: { builder: 3 }, numParallel: 2 });
    expect(three.makespanMs).toBe(500);
    expect(three.utilisation).toBeCloseTo(1, 5);
    expect(three.waits.builder?.max).toBeGreaterThan(0);
  });

  it('finds the point where adding agents stops helping', () => {
    const sweep = sweepAgents({ tasks: builderTasks(12), agents: {}, numParallel: 2 }, 'builder', 5);
    expect(sweep.knee).toBe(2);
    expect(sweep.points.map((p) => p.makespanMs)).toEqual([1200, 600, 600, 600, 600]);
  });

  it('serves higher-priority roles first when slots are short', () => {
    const r = simulate({
      tasks: [
        ...builderTasks(4),
        { role: 'director', calls: 1, latencyMs: 100 },
        { role: 'scribe', calls: 1, latencyMs: 100 },
      ],
      agents: { builder: 4, director: 1, scribe: 1 },
      numParallel: 1,
    });
    // The first builder took the only slot at t=0; the Director is next, ahead of the other
    // builders that asked at the same time; the Scribe goes last.
    expect(r.waits.director?.max).toBe(100);
    expect(r.waits.builder?.max).toBe(400);
    expect(r.waits.scribe?.max).toBe(500);
  });

  it('never beats the slot bound nor the per-agent bound (property)', () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ calls: fc.integer({ min: 1, max: 4 }), latencyMs: fc.integer({ min: 1, max: 200 }) }),
          { minLength: 1, maxLength: 30 },
        ),
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 4 }),
        (specs, agents, slots) => {
          const tasks = specs.map((s) => ({ role: 'builder' as const, ...s }));
          const work = tasks.reduce((sum, t) => sum + t.calls * t.latencyMs, 0);
          const r = simulate({ tasks, agents: { builder: agents }, numParallel: slots });
          expect(r.makespanMs).toBeGreaterThanOrEqual(Math.ceil(work / Math.min(agents, slots)) - 1e-9);
          expect(r.utilisation).toBeLessThanOrEqual(1 + 1e-9);
        },
      ),
    );
  });
});
