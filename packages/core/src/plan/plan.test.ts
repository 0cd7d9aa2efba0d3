import type { Role } from '@nightshift/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { StepId } from '../run/steps.js';
import { type RunScript, recordRun, type StepScript } from '../test-support/plan.js';
import { type PlannedRun, planFromSample, simulateRuns, type TraceEvent } from './engine.js';
import { forecast, NO_SPREAD, PlanInputError } from './forecast.js';
import { buildProfile, iterationSteps, type StepSample, sampleRun } from './profile.js';

const flat =
  (ms: number, calls = 1, latencyMs = 100): RunScript['step'] =>
  () => ({
    dispatchMs: 10,
    calls: Array.from({ length: calls }, () => ({ gapMs: ms, latencyMs })),
    tailMs: ms,
  });

const script = (over: Partial<RunScript> = {}): RunScript => ({
  runId: 'r1',
  iterations: 1,
  step: flat(50),
  finishMs: 20,
  ...over,
});

describe('history: a recorded run cut into step samples', () => {
  it('keeps dispatch, calls (latency, not waits), tool time and the Scribe summaries apart', () => {
    const { events, calls, durationMs } = recordRun(
      script({
        step: (step) =>
          step === 'build'
            ? {
                dispatchMs: 30,
                calls: [
                  { gapMs: 5, latencyMs: 400 },
                  { gapMs: 200, latencyMs: 300 },
                ],
                tailMs: 40,
              }
            : { dispatchMs: 10, calls: [{ gapMs: 0, latencyMs: 100 }], tailMs: 0 },
        followers: (step) => (step === 'design' ? [{ role: 'scribe', delayMs: 15, latencyMs: 250 }] : []),
      }),
    );
    const sample = sampleRun(events, calls);
    expect(sample?.durationMs).toBe(durationMs);
    const build = sample?.steps.find((s) => s.step === 'build');
    expect(build).toMatchObject({
      dispatchMs: 30,
      tailMs: 40,
      groups: [
        { gapMs: 5, calls: [{ role: 'builder', latencyMs: 400 }] },
        { gapMs: 200, calls: [{ role: 'builder', latencyMs: 300 }] },
      ],
    });
    expect(sample?.steps.find((s) => s.step === 'design')?.followers).toEqual([
      { role: 'scribe', latencyMs: 250, delayMs: 15 },
    ]);
  });

  it("counts a step's first gap from when an agent took it: the wait for the agent is the simulator's", () => {
    // build's first call 500 ms after its REQUEST, of which the Builder took 400 to pick it up.
    const { events, calls } = recordRun(
      script({
        step: (step) =>
          step === 'build'
            ? { dispatchMs: 10, calls: [{ gapMs: 500, latencyMs: 100 }], tailMs: 30 }
            : { dispatchMs: 10, calls: [{ gapMs: 0, latencyMs: 100 }], tailMs: 0 },
      }),
    );
    const request = events.find((e) => e.type === 'step.requested' && e.step === 'build');
    if (request?.type !== 'step.requested') throw new Error('no build request');
    const at = Date.parse(request.at);
    const build = (pickups?: Map<string, number>) =>
      sampleRun(events, calls, pickups)?.steps.find((s) => s.step === 'build');
    expect(build()?.groups[0]?.gapMs).toBe(500);
    expect(build(new Map([[request.messageId, at + 400]]))?.groups[0]?.gapMs).toBe(100);
    // The tail and the dispatch stay; a pick-up outside the step's window is held to it.
    expect(build(new Map([[request.messageId, at + 400]]))).toMatchObject({ dispatchMs: 10, tailMs: 30 });
    expect(build(new Map([[request.messageId, at - 1000]]))?.groups[0]?.gapMs).toBe(500);
    // A Director step has no agent to wait for: a pick-up is ignored.
    const verify = sampleRun(events, calls, new Map([[request.messageId, at + 400]]))?.steps.find(
      (s) => s.step === 'verify',
    );
    expect(verify?.groups[0]?.gapMs).toBe(0);
  });

  it('leaves out a run that has not finished', () => {
    const { events, calls } = recordRun(script());
    expect(sampleRun(events.slice(0, -1), calls)).toBeUndefined();
    expect(buildProfile([{ events: events.slice(0, 5), calls }]).runs).toEqual([]);
  });
});

describe('the workflow simulator', () => {
  it('follows the DAG: a run alone takes its critical path, not the sum of its steps', () => {
    const times: Partial<Record<StepId, number>> = { build: 1000, 'research-exec': 300 };
    const { events, calls, durationMs } = recordRun(
      script({ step: (step) => ({ dispatchMs: 0, calls: [], tailMs: times[step] ?? 100 }) }),
    );
    const sample = sampleRun(events, calls);
    if (!sample) throw new Error('no sample');
    // frame, design, research, max(build, research-exec), checkpoint, refactor, inspect, verify
    expect(durationMs).toBe(3 * 100 + 1000 + 4 * 100 + 20);
    const r = simulateRuns({ runs: [planFromSample(sample)], agents: {}, numParallel: 2 });
    expect(r.ends.r1).toBe(durationMs);
  });

  it('replays a run recorded without contention to its own duration (property)', { timeout: 60_000 }, () => {
    const stepArb = fc.record({
      dispatchMs: fc.integer({ min: 0, max: 50 }),
      calls: fc.array(
        fc.record({ gapMs: fc.integer({ min: 0, max: 50 }), latencyMs: fc.integer({ min: 1, max: 300 }) }),
        {
          maxLength: 3,
        },
      ),
      tailMs: fc.integer({ min: 0, max: 50 }),
    });
    fc.assert(
      fc.property(
        fc.array(stepArb, { minLength: 9, maxLength: 9 }),
        fc.integer({ min: 1, max: 3 }),
        (steps, iterations) => {
          const order: StepId[] = [
            'frame',
            'design',
            'research',
            'build',
            'research-exec',
            'checkpoint',
            'refactor',
            'inspect',
            'verify',
          ];
          const { events, calls, durationMs } = recordRun(
            script({ iterations, step: (step) => steps[order.indexOf(step)] as StepScript }),
          );
          const sample = sampleRun(events, calls);
          if (!sample) throw new Error('no sample');
          // Two slots: at most Builder ‖ Scout call at once, so nobody waited when it was recorded.
          const r = simulateRuns({ runs: [planFromSample(sample)], agents: {}, numParallel: 2 });
          expect(r.ends.r1).toBe(durationMs);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('shares agents and slots: more runs never end sooner than one alone, and a slot is the bound', () => {
    const { events, calls, durationMs } = recordRun(script({ step: flat(10, 2, 500) }));
    const sample = sampleRun(events, calls);
    if (!sample) throw new Error('no sample');
    const runs = ['a', 'b', 'c'].map((id) => planFromSample(sample, id));
    const one = simulateRuns({ runs, agents: {}, numParallel: 1 });
    const two = simulateRuns({ runs, agents: {}, numParallel: 2 });
    for (const end of Object.values(two.ends)) expect(end).toBeGreaterThanOrEqual(durationMs);
    // 3 runs × 9 steps × 2 calls × 500 ms of model time on one slot.
    expect(one.makespanMs).toBeGreaterThanOrEqual(27_000);
    expect(one.utilisation).toBeLessThanOrEqual(1);
    expect(two.makespanMs).toBeLessThan(one.makespanMs);
    // Three designs asked at once, one Architect.
    expect(two.agentWaits.architect?.maxMs).toBeGreaterThan(0);
  });

  it('serves the Director first and the Scribe last; on Anthropic the Director takes no slot', () => {
    const call = (role: Role, latencyMs: number) => ({ gapMs: 0, calls: [{ role, latencyMs, offsetMs: 0 }] });
    const a = plan('a', 0, { frame: { groups: [call('director', 300)] } });
    const b = plan('b', 0, {
      frame: { tailMs: 10, followers: [{ role: 'scribe', delayMs: 0, latencyMs: 100 }] },
    });
    const c = plan('c', 50, { frame: { groups: [call('director', 100)] } });
    const r = simulateRuns({ runs: [a, b, c], agents: {}, numParallel: 1 });
    // At 300 the slot frees: the Scribe has waited since 10, the Director since 50; the Director goes first.
    expect(r.slotWaits.director?.maxMs).toBe(250);
    expect(r.slotWaits.scribe?.maxMs).toBe(390);
    const anthropic = simulateRuns({
      runs: [a, b, c],
      agents: {},
      numParallel: 1,
      directorOnAnthropic: true,
    });
    expect(anthropic.slotWaits.director).toBeUndefined();
    expect(anthropic.slotWaits.scribe?.maxMs).toBe(0);
  });

  it('serves a debate vote before the steps waiting for the same agent, and its call at HIGH', () => {
    // One Inspector. a and b inspect first (a 0–100, b 100–1100); c's inspect has waited since 0.
    // a's verify asks the Inspector for a vote at 100: the Director sends votes HIGH and steps
    // NORMAL on `agent.inspector`, so the vote goes at 1100, before c's inspect (not after, at 2100).
    const vote = { gapMs: 0, calls: [{ role: 'inspector' as Role, latencyMs: 10, offsetMs: 0 }] };
    const a = plan('a', 0, { inspect: { tailMs: 100 }, verify: { groups: [vote] } });
    const b = plan('b', 0, { inspect: { tailMs: 1000 } });
    const c = plan('c', 0, { inspect: { tailMs: 1000 } });
    const trace: TraceEvent[] = [];
    const r = simulateRuns({ runs: [a, b, c], agents: {}, numParallel: 2, trace: (e) => trace.push(e) });
    expect(r.ends).toEqual({ a: 1110, b: 1100, c: 2110 });
    const inspectC = trace.find((e) => e.kind === 'step' && e.run === 'c' && e.step === 'inspect');
    expect(inspectC).toMatchObject({ requestedAt: 0, takenAt: 1110, endAt: 2110 });
    // Its call rides at HIGH (2), ahead of a Builder's (3) that waited longer for the one slot.
    const build = { gapMs: 0, calls: [{ role: 'builder' as Role, latencyMs: 500, offsetMs: 0 }] };
    const hold = { gapMs: 0, calls: [{ role: 'scout' as Role, latencyMs: 300, offsetMs: 0 }] };
    const d = plan('d', 0, { verify: { groups: [{ ...vote, gapMs: 100 }] } });
    const e = plan('e', 0, {
      build: { groups: [{ ...build, gapMs: 50 }] },
      'research-exec': { groups: [hold] },
    });
    const one = simulateRuns({ runs: [d, e], agents: {}, numParallel: 1 });
    // e's scout holds the slot 0–300; the Builder asks at 50, d's vote at 100: the vote goes first.
    expect(one.ends.d).toBe(310);
    expect(one.slotWaits.builder?.maxMs).toBe(260);
  });
});

describe('runs sharing the machine (PLAN_LOAD_STRETCH)', () => {
  it('stretches slot-free time by the runs under way; a sample measured under load is first brought back to one run', () => {
    const runs = ['a', 'b', 'c'].map((id) => plan(id, 0, { frame: { tailMs: 1000 } }));
    // No stretch: three Director steps side by side, 1 s each.
    expect(simulateRuns({ runs, agents: {}, numParallel: 2 }).ends).toEqual({ a: 1000, b: 1000, c: 1000 });
    // +10 % for each of the two other runs under way.
    const shared = simulateRuns({ runs, agents: {}, numParallel: 2, loadStretch: 0.1 });
    expect(shared.ends).toEqual({ a: 1200, b: 1200, c: 1200 });
    // Alone: no stretch, whatever the setting.
    expect(
      simulateRuns({ runs: runs.slice(0, 1), agents: {}, numParallel: 2, loadStretch: 0.1 }).ends.a,
    ).toBe(1000);
    // Measured with 3 runs under way, replayed alone: 1000 / 1.2.
    const loaded = plan('l', 0, { frame: { tailMs: 1200, load: 3 } });
    expect(simulateRuns({ runs: [loaded], agents: {}, numParallel: 2, loadStretch: 0.1 }).ends.l).toBeCloseTo(
      1000,
      6,
    );
    // Model time is not stretched: it is the slot's, not the machine's.
    const call = { gapMs: 0, calls: [{ role: 'director' as Role, latencyMs: 500, offsetMs: 0 }] };
    const calls = ['x', 'y'].map((id) => plan(id, 0, { frame: { groups: [call] } }));
    expect(simulateRuns({ runs: calls, agents: {}, numParallel: 2, loadStretch: 0.5 }).ends).toEqual({
      x: 500,
      y: 500,
    });
    expect(() => simulateRuns({ runs, agents: {}, numParallel: 2, loadStretch: -1 })).toThrow(/loadStretch/);
  });

  it('history says at what load each step was measured: runs that overlapped, and none for a run alone', () => {
    const one = recordRun(script({ runId: 'o1' }));
    const two = recordRun(script({ runId: 'o2' }));
    // Both scripted from the same instant: every step ran with both runs under way.
    const both = buildProfile([one, two]);
    for (const run of both.runs) for (const step of run.steps) expect(step.load).toBe(2);
    for (const step of buildProfile([one]).runs[0]?.steps ?? []) expect(step.load).toBeUndefined();
  });
});

/** A one-iteration run whose steps do nothing but what `over` says. */
function plan(id: string, startMs: number, over: Partial<Record<StepId, Partial<StepSample>>>): PlannedRun {
  const steps = new Map<string, StepSample>();
  for (const step of iterationSteps(1))
    steps.set(`1:${step}`, {
      step,
      iteration: 1,
      dispatchMs: 0,
      groups: [],
      tailMs: 0,
      followers: [],
      ...over[step],
    });
  return { id, startMs, iterations: 1, steps, finishMs: 0 };
}

describe('the forecast', () => {
  const history = [1, 2, 3].map((k) =>
    recordRun(script({ runId: `h${k}`, iterations: k === 3 ? 2 : 1, step: flat(20 * k, 2, 300) })),
  );
  const profile = buildProfile(history);
  const queue = ['q1', 'q2', 'q3', 'q4'].map((id) => ({ id }));

  it('is reproducible for a seed, ordered p50 ≤ p90, and names the runs that will not make the deadline', {
    timeout: 60_000,
  }, () => {
    const input = { profile, runs: queue, agents: {}, numParallel: 2, samples: 40, seed: 7 };
    const f = forecast(input);
    expect(forecast(input)).toEqual(f);
    for (const r of f.runs) expect(r.p50Ms).toBeLessThanOrEqual(r.p90Ms);
    expect(f.makespan.p50Ms).toBeGreaterThanOrEqual(Math.max(...f.runs.map((r) => r.p50Ms)) * 0.5);
    const until = forecast({ ...input, untilMs: f.runs[0]?.p50Ms ?? 0 });
    expect(until.late?.likely.length).toBeGreaterThan(0);
    expect(until.late?.likely).not.toContain('q1');
  });

  it('says what one more agent or slot changes: a slot helps a slot-bound queue, a Director agent is not offered', {
    timeout: 60_000,
  }, () => {
    const f = forecast({ profile, runs: queue, agents: {}, numParallel: 1, samples: 20 });
    const slot = f.whatIf.find((w) => w.change === '+1 slot');
    expect(slot?.savedMs).toBeGreaterThan(0);
    expect(f.whatIf.map((w) => w.change)).not.toContain('+1 director');
    expect(f.utilisation).toBeGreaterThan(0.5);
  });

  it('forecasts only the rest of a run under way', () => {
    const one = recordRun(script({ runId: 'h', step: flat(0, 1, 100) }));
    const alone = buildProfile([one]);
    const all = iterationSteps(1).filter((s) => s !== 'verify');
    const f = forecast({
      profile: alone,
      runs: [{ id: 'late', progress: { iteration: 1, done: all } }],
      agents: {},
      numParallel: 2,
      samples: 3,
    });
    // Only verify (dispatch 10, call 100) and the finish (20) are left.
    expect(f.runs[0]?.p50Ms).toBe(130);
  });

  it('takes the p90 from the spread across past runs, and says when one run gives none', () => {
    const input = { profile, runs: queue, agents: {}, numParallel: 2, samples: 40, seed: 3, whatIf: false };
    const spread = forecast(input);
    expect(spread.spread).toBe('runs');
    // Three past runs of different lengths: some run's p90 lies above its p50.
    expect(spread.runs.some((r) => r.p90Ms > r.p50Ms)).toBe(true);
    const single = forecast({ ...input, profile: { runs: profile.runs.slice(0, 1) } });
    expect(single.spread).toBe('none');
    for (const r of single.runs) expect(r.p90Ms).toBe(r.p50Ms);
    expect(NO_SPREAD).toBe('p90 from one run: no spread');
  });

  it('refuses an empty queue, no history, and duplicate ids with a clear error', () => {
    expect(() => forecast({ profile, runs: [], agents: {}, numParallel: 2 })).toThrow(PlanInputError);
    expect(() => forecast({ profile: { runs: [] }, runs: queue, agents: {}, numParallel: 2 })).toThrow(
      /no history/,
    );
    expect(() => forecast({ profile, runs: [{ id: 'x' }, { id: 'x' }], agents: {}, numParallel: 2 })).toThrow(
      /same id/,
    );
  });
});
