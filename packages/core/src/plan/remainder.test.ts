import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fold } from '../run/fold.js';
import { PLAN_T0, type RunScript, recordRun } from '../test-support/plan.js';
import { forecast, type RunProgress } from './forecast.js';
import { buildProfile, type Profile, progressOf, type StepSample } from './profile.js';
import { activeMs, remainderOf, survivors } from './remainder.js';

const sample = (over: Partial<StepSample> = {}): StepSample => ({
  step: 'build',
  iteration: 1,
  dispatchMs: 30,
  groups: [
    { gapMs: 50, calls: [{ role: 'builder', latencyMs: 200, offsetMs: 0 }] },
    {
      gapMs: 100,
      calls: [
        { role: 'builder', latencyMs: 300, offsetMs: 0 },
        { role: 'inspector', latencyMs: 100, offsetMs: 50 },
      ],
    },
  ],
  tailMs: 40,
  followers: [],
  ...over,
});

/** Every step: dispatch 10 ms, one call of 100 ms (or `buildMs` for build), no tail; finish 20 ms. */
const script = (runId: string, buildMs = 100): RunScript => ({
  runId,
  iterations: 1,
  finishMs: 20,
  step: (step) => ({
    dispatchMs: 10,
    calls: [{ gapMs: 0, latencyMs: step === 'build' ? buildMs : 100 }],
    tailMs: 0,
  }),
});

describe('what is left of a step in flight', () => {
  it('drops what is over: the dispatch, a finished group, the answered part of a call under way', () => {
    const s = sample();
    expect(activeMs(s)).toBe(50 + 200 + 100 + 300 + 40);
    // 300 ms in: the first group is over (250), 50 ms into the second group's 100 ms gap.
    expect(remainderOf(s, 300)).toMatchObject({
      dispatchMs: 0,
      groups: [{ gapMs: 50, calls: [{ latencyMs: 300 }, { latencyMs: 100, offsetMs: 50 }] }],
      tailMs: 40,
    });
    // 400 ms in: 50 ms into the second group's calls — the inspector's call is just due.
    expect(remainderOf(s, 400).groups).toEqual([
      {
        gapMs: 0,
        calls: [
          { role: 'builder', latencyMs: 250, offsetMs: 0 },
          { role: 'inspector', latencyMs: 100, offsetMs: 0 },
        ],
      },
    ]);
    // 530 ms in: 180 ms into the second group — the inspector's call (50 → 150) is answered.
    expect(remainderOf(s, 530).groups).toEqual([
      { gapMs: 0, calls: [{ role: 'builder', latencyMs: 120, offsetMs: 0 }] },
    ]);
    // Longer than the sample itself: nothing is left, the step ends at once.
    expect(activeMs(remainderOf(s, 5000))).toBe(0);
    expect(remainderOf(s, 0)).toEqual({ ...s, dispatchMs: 0 });
  });

  it('leaves exactly the active time minus the time elapsed (property)', () => {
    const call = fc.record({
      role: fc.constant('builder' as const),
      latencyMs: fc.integer({ min: 1, max: 400 }),
      offsetMs: fc.integer({ min: 0, max: 100 }),
    });
    const group = fc.record({
      gapMs: fc.integer({ min: 0, max: 200 }),
      calls: fc.array(call, { minLength: 1, maxLength: 3 }),
    });
    fc.assert(
      fc.property(
        fc.array(group, { maxLength: 4 }),
        fc.integer({ min: 0, max: 300 }),
        fc.integer({ min: 0, max: 3000 }),
        (groups, tailMs, elapsed) => {
          const s = sample({ groups, tailMs });
          expect(activeMs(remainderOf(s, elapsed))).toBe(Math.max(0, activeMs(s) - elapsed));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps only the past samples that outlasted the time so far (all of them when none did)', () => {
    const short = sample({ groups: [], tailMs: 100 });
    const long = sample({ groups: [], tailMs: 1000 });
    expect(survivors([short, long], 500)).toEqual([long]);
    expect(survivors([short, long], 2000)).toEqual([short, long]);
  });
});

/** The ETA forecast (no what-ifs) of one run at `progress`. */
const etaAt = (profile: Profile, progress: RunProgress | undefined, samples: number, seed = 1) =>
  forecast({
    profile,
    runs: [{ id: 'live', ...(progress ? { progress } : {}) }],
    agents: {},
    numParallel: 2,
    samples,
    seed,
    whatIf: false,
  });

describe('the re-forecast of a run under way (seeded)', () => {
  const history = buildProfile([recordRun(script('h1'))]);
  /** The run recorded by `script`, seen `ms` after its start: its events up to then. */
  const seenAt = (ms: number) => {
    const { events } = recordRun(script('live'));
    return fold(events.filter((e) => Date.parse(e.at) <= PLAN_T0 + ms));
  };
  // frame, design, research: 110 ms each; build ‖ research-exec requested at 340, answered at 440.
  const midBuild = 340 + 60;

  it('starts from the position: steps done are skipped, the steps in flight get only their rest', () => {
    const progress = progressOf(seenAt(midBuild), PLAN_T0 + midBuild);
    expect(progress?.done).toEqual(expect.arrayContaining(['frame', 'design', 'research']));
    expect(progress?.inFlight).toEqual(
      expect.arrayContaining([
        { step: 'build', elapsedMs: 60 },
        { step: 'research-exec', elapsedMs: 60 },
      ]),
    );
    const f = etaAt(history, progress, 5, 3);
    // 40 ms left of build ‖ research-exec, then checkpoint, refactor, inspect, verify (110 each), finish 20.
    expect(f.runs[0]).toMatchObject({ p50Ms: 40 + 4 * 110 + 20, p90Ms: 40 + 4 * 110 + 20 });
    expect(f.whatIf).toEqual([]);
    // The same position without the time in flight: the steps counted from their start again.
    const { inFlight: _, ...atStart } = progress ?? { iteration: 1, done: [] };
    const again = etaAt(history, atStart, 5);
    expect(again.runs[0]?.p50Ms).toBe(110 + 4 * 110 + 20);
  });

  it('draws a step in flight only from past steps that lasted longer than it has so far', () => {
    // Two past runs: a build of 100 ms and one of 2000 ms. 500 ms into build, only the long one fits.
    const mixed = buildProfile([recordRun(script('fast', 100)), recordRun(script('slow', 2000))]);
    const { events } = recordRun(script('live', 2000));
    const at = 340 + 500;
    const progress = progressOf(fold(events.filter((e) => Date.parse(e.at) <= PLAN_T0 + at)), PLAN_T0 + at);
    const f = etaAt(mixed, progress, 40, 11);
    // Every draw: 1500 ms of build left (never 0, as a 100 ms sample would say), then the rest.
    expect(f.runs[0]?.p50Ms).toBe(1500 + 4 * 110 + 20);
    expect(f.runs[0]?.p90Ms).toBe(1500 + 4 * 110 + 20);
  });
});
