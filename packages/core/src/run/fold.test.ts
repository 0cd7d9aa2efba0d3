import { ROLES } from '@nightshift/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { type RunEvent, RunEventSchema } from './events.js';
import { apply, fold } from './fold.js';
import { initialState, type RunState } from './state.js';
import { STEP_IDS } from './steps.js';

const T0 = Date.parse('2026-01-28T01:00:00Z');
const at = fc.integer({ min: 0, max: 86_400_000 }).map((ms) => new Date(T0 + ms).toISOString());
const id = fc.constantFrom('msg-a', 'msg-b', 'msg-c', 'msg-d');
const role = fc.constantFrom(...ROLES);
const step = fc.constantFrom(...STEP_IDS);
const usage = fc.record({ inputTokens: fc.nat(1000), outputTokens: fc.nat(1000) });

/** Any schema-valid event, from small pools so that events hit each other (same ids, steps). */
const anyEvent: fc.Arbitrary<RunEvent> = fc
  .oneof(
    fc.record({
      type: fc.constant('run.created'),
      runId: fc.constantFrom('run-1', 'run-2'),
      task: fc.constant('t'),
    }),
    fc.record({
      type: fc.constant('phase.started'),
      phase: fc.constantFrom(1, 2, 3, 4),
      iteration: fc.integer({ min: 1, max: 4 }),
    }),
    fc.record({ type: fc.constant('step.requested'), step, role, messageId: id }),
    fc.record({ type: fc.constant('step.completed'), step, role, messageId: id, usage }),
    fc.record({ type: fc.constant('step.failed'), step, role, messageId: id, reason: fc.constant('x') }),
    fc.record({ type: fc.constant('checkpoint.requested'), trigger: fc.constant('milestone') }),
    fc.record({
      type: fc.constant('review.finding'),
      severity: fc.constantFrom('critical', 'major', 'minor'),
      description: fc.constant('bug'),
      from: role,
    }),
    fc.record({
      type: fc.constant('decision.made'),
      decision: fc.constantFrom('continue', 'revise', 'escalate', 'finish', 'abort'),
      by: fc.constantFrom('director', 'human'),
      rationale: fc.constant('r'),
      step: fc.constantFrom('verify', 'checkpoint'),
    }),
    fc.record({
      type: fc.constant('budget.used'),
      tokens: fc.nat(500),
      usd: fc.double({ min: 0, max: 1, noNaN: true }),
    }),
    fc.record({
      type: fc.constant('alert.raised'),
      level: fc.constantFrom(0, 1, 2, 3, 4),
      reason: fc.constant('a'),
      code: fc.constant('c'),
    }),
    fc.record({
      type: fc.constant('run.waiting-human'),
      reason: fc.constant('w'),
      cause: fc.constantFrom('budget', 'step-failed', 'escalated', 'max-iterations'),
    }),
    fc.record({
      type: fc.constant('human.decided'),
      decision: fc.constantFrom('continue', 'revise', 'finish', 'abort'),
    }),
    fc.record({ type: fc.constant('run.paused') }),
    fc.record({ type: fc.constant('run.resumed') }),
    fc.record({
      type: fc.constant('run.finished'),
      outcome: fc.constantFrom('success', 'aborted', 'failed'),
    }),
    fc.record({
      type: fc.constant('trust.changed'),
      role,
      from: fc.constant(7),
      to: fc.integer({ min: 1, max: 10 }),
      delta: fc.constant(0),
      reason: fc.constant('r'),
    }),
  )
  .chain((e) => at.map((t) => RunEventSchema.parse({ ...e, at: t })));

/** A log that starts with run.created, as a real one does, then anything. */
const log = fc
  .tuple(at, fc.array(anyEvent, { maxLength: 60 }))
  .map(([t, rest]): RunEvent[] => [{ type: 'run.created', runId: 'run-1', task: 'task', at: t }, ...rest]);

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

describe('fold', () => {
  it('equals applying the events one by one, from any split point', () => {
    fc.assert(
      fc.property(log, fc.nat(), (events, cut) => {
        const k = cut % (events.length + 1);
        let stepwise: RunState = initialState;
        for (const e of events) stepwise = apply(stepwise, e);
        expect(fold(events)).toEqual(stepwise);
        expect(fold(events.slice(k), fold(events.slice(0, k)))).toEqual(stepwise);
      }),
    );
  });

  it('never throws, never mutates its input, counts every event and keeps its invariants', () => {
    fc.assert(
      fc.property(log, (events) => {
        deepFreeze(events);
        let state: RunState = deepFreeze(initialState);
        for (const e of events) state = deepFreeze(apply(state, e));
        expect(state.version).toBe(events.length);
        expect(state.budget.spent.tokens).toBeGreaterThanOrEqual(0);
        expect(state.iteration).toBeGreaterThanOrEqual(1);
        for (const flying of Object.values(state.inFlight)) {
          expect(state.progress[flying?.step ?? 'frame']?.done).not.toBe(true);
        }
        const applied = state.completed.map((c) => `${c.iteration}:${c.step}:${c.messageId}`);
        expect(new Set(applied).size).toBe(applied.length);
        expect(JSON.parse(JSON.stringify(state))).toEqual(state);
      }),
    );
  });

  it('is the initial state for no events, and ignores everything before run.created', () => {
    expect(fold([])).toBe(initialState);
    const early = RunEventSchema.parse({ type: 'run.paused', at: new Date(T0).toISOString() });
    const state = fold([early]);
    expect(state).toMatchObject({ runId: null, status: 'planning', version: 1 });
    expect(state.ignored).toEqual([{ version: 1, type: 'run.paused', reason: 'no run.created yet' }]);
  });

  it('starts the trust snapshot at 7 for every worker, or from run.created', () => {
    const t = new Date(T0).toISOString();
    expect(fold([{ type: 'run.created', runId: 'r1', task: 'x', at: t }]).trust).toEqual({
      architect: 7,
      scout: 7,
      builder: 7,
      refactorer: 7,
      inspector: 7,
    });
    const seeded = fold([
      { type: 'run.created', runId: 'r1', task: 'x', at: t, trust: { builder: 9 } },
      { type: 'trust.changed', role: 'builder', from: 9, to: 7, delta: -2, reason: 'critical bug', at: t },
    ]);
    expect(seeded.trust).toEqual({ builder: 7 });
  });
});
