// A forecast of a queue of runs (issue 24 §1–2): many seeded draws from history through the
// workflow simulator, summarised as p50/p90 per run, slot use, waits, and what one more agent
// of each role or one more slot would change. The same draws serve every what-if (common random
// numbers), so a difference between two answers is the change's, not the dice's.
import { NightshiftError, type Role } from '@nightshift/protocol';
import type { StepId } from '../run/steps.js';
import {
  type EngineInput,
  type PlannedRun,
  planFromSample,
  simulateRuns,
  stepKey,
  type Waits,
} from './engine.js';
import { iterationSteps, type Profile, type RunSample, type StepSample } from './profile.js';
import { pick, quantile, type Rng, seededRng } from './random.js';
import { remainderOf, survivors } from './remainder.js';

export interface QueuedRun {
  id: string;
  /** When it enters, ms after the forecast's start (default 0). */
  startMs?: number;
  /** Replay this recorded run instead of drawing from history (`simulate --from-run`). */
  sample?: RunSample;
  /** A run under way: where it is (from its events); only the rest is forecast. */
  progress?: RunProgress;
}

/** Where a run under way stands: its iteration, the steps done in it, the steps in flight. */
export interface RunProgress {
  iteration: number;
  done: readonly StepId[];
  /** Steps requested and not yet completed, with the time since their REQUEST (ms). */
  inFlight?: readonly { step: StepId; elapsedMs: number }[];
}

export interface ForecastInput extends Omit<EngineInput, 'runs'> {
  profile: Profile;
  runs: readonly QueuedRun[];
  /** Draws (default 200); each is one possible night. */
  samples?: number;
  seed?: number;
  /** A deadline, ms after the start: which runs will not be done by then. */
  untilMs?: number;
  /** Roles to try one more agent of (default: the worker roles the workflow uses). */
  whatIfRoles?: readonly Role[];
  /** false: only the runs' ends (an ETA), none of the what-ifs, which cost one more pass each. */
  whatIf?: boolean;
}

export interface RunForecast {
  id: string;
  p50Ms: number;
  p90Ms: number;
  /** Share of draws in which the run ends after `untilMs` (present with `untilMs`). */
  lateShare?: number;
}

export interface WhatIf {
  change: string;
  makespanP50Ms: number;
  /** Against the forecast as given; negative: it would take longer. */
  savedMs: number;
}

/** What a p90 is worth when history holds one run: every draw is that run, so p90 = p50. */
export const NO_SPREAD = 'p90 from one run: no spread';

export interface Forecast {
  runs: RunForecast[];
  /**
   * Where the p90 comes from: `runs`, the spread across the past runs each step is drawn from;
   * `none`, history of one run (or only replays), so p90 = p50 says nothing (show NO_SPREAD).
   */
  spread: 'runs' | 'none';
  makespan: { p50Ms: number; p90Ms: number };
  utilisation: number;
  slotWaits: Partial<Record<Role, Waits>>;
  agentWaits: Partial<Record<Role, Waits>>;
  whatIf: WhatIf[];
  /** Runs whose p50 end is after `untilMs`, then those only at risk (p90 after it). */
  late?: { likely: string[]; atRisk: string[] };
  samples: number;
}

export const WHAT_IF_ROLES: readonly Role[] = ['architect', 'scout', 'builder', 'refactorer', 'inspector'];

export class PlanInputError extends NightshiftError {
  constructor(message: string) {
    super('PLAN_INPUT', message, { category: 'invalid-input' });
  }
}

/** One night's plans: each queued run with its steps drawn from history (seeded). */
export function drawPlans(
  profile: Profile,
  runs: readonly QueuedRun[],
  rng: Rng,
  pools: ReadonlyMap<string, StepSample[]> = stepPools(profile),
): PlannedRun[] {
  return runs.map((q) => {
    const startMs = q.startMs ?? 0;
    if (q.sample) return planFromSample(q.sample, q.id, startMs);
    // Iterations and the finish come from one past run; each step from every past run's same step.
    const template = pick(rng, profile.runs);
    // A run already past the iterations its template had does at least one more.
    const iterations = Math.max(template.iterations, q.progress?.iteration ?? 1);
    const steps = new Map<string, StepSample>();
    for (let i = 1; i <= iterations; i++) {
      for (const step of iterationSteps(i)) {
        const pool = pools.get(poolKey(i, step)) ?? pools.get(poolKey(1, step)) ?? [];
        steps.set(stepKey(i, step), pool.length > 0 ? pick(rng, pool) : sameStep(template, i, step));
      }
    }
    const plan: PlannedRun = { id: q.id, startMs, iterations, steps, finishMs: template.finishMs };
    if (q.progress) {
      const { iteration, done } = q.progress;
      // A step in flight: drawn among the past ones that outlasted its time so far, minus that time.
      for (const f of q.progress.inFlight ?? []) {
        const key = stepKey(iteration, f.step);
        const pool = pools.get(poolKey(iteration, f.step)) ?? pools.get(poolKey(1, f.step)) ?? [];
        const drawn = pool.length > 0 ? pick(rng, survivors(pool, f.elapsedMs)) : steps.get(key);
        if (drawn) steps.set(key, remainderOf(drawn, f.elapsedMs));
      }
      plan.progress = { iteration, done: new Set(done.map((step) => stepKey(iteration, step))) };
    }
    return plan;
  });
}

/** Every recorded sample of each step, first iteration apart from later ones. */
function stepPools(profile: Profile): Map<string, StepSample[]> {
  const pools = new Map<string, StepSample[]>();
  for (const run of profile.runs) {
    for (const s of run.steps) {
      const key = poolKey(s.iteration, s.step);
      const pool = pools.get(key) ?? [];
      pool.push(s);
      pools.set(key, pool);
    }
  }
  return pools;
}

/** The first iteration plans, later ones only revise: their steps are drawn apart. */
const poolKey = (iteration: number, step: StepId) => `${iteration === 1 ? 'first' : 'later'}:${step}`;

function sameStep(run: RunSample, iteration: number, step: StepId): StepSample {
  const s = run.steps.find((x) => x.iteration === iteration && x.step === step);
  if (!s) throw new PlanInputError(`recorded run ${run.runId} has no ${step} in iteration ${iteration}`);
  return s;
}

export function forecast(input: ForecastInput): Forecast {
  if (input.runs.length === 0) throw new PlanInputError('nothing to forecast: the queue is empty');
  if (input.profile.runs.length === 0 && input.runs.some((r) => !r.sample))
    throw new PlanInputError('no history: no finished run to learn step times from (finish one run first)');
  const ids = new Set(input.runs.map((r) => r.id));
  if (ids.size !== input.runs.length) throw new PlanInputError('two queued runs have the same id');
  const samples = input.samples ?? 200;
  if (!Number.isInteger(samples) || samples < 1)
    throw new PlanInputError('samples must be a positive integer');
  const rng = seededRng(input.seed ?? 1);
  const pools = stepPools(input.profile);
  const nights = Array.from({ length: samples }, () => drawPlans(input.profile, input.runs, rng, pools));
  const engine = (over: Partial<EngineInput>) =>
    nights.map((runs) =>
      simulateRuns({
        agents: input.agents,
        numParallel: input.numParallel,
        ...(input.priorities ? { priorities: input.priorities } : {}),
        ...(input.directorOnAnthropic ? { directorOnAnthropic: true } : {}),
        ...(input.loadStretch ? { loadStretch: input.loadStretch } : {}),
        ...over,
        runs,
      }),
    );
  const base = engine({});
  const makespans = base.map((r) => r.makespanMs);
  const p50 = quantile(makespans, 0.5);
  const whatIf: WhatIf[] = [];
  for (const role of input.whatIf === false ? [] : (input.whatIfRoles ?? WHAT_IF_ROLES)) {
    const agents = { ...input.agents, [role]: (input.agents[role] ?? 1) + 1 };
    const m = quantile(
      engine({ agents }).map((r) => r.makespanMs),
      0.5,
    );
    whatIf.push({ change: `+1 ${role}`, makespanP50Ms: m, savedMs: p50 - m });
  }
  if (input.whatIf !== false) {
    const slot = quantile(
      engine({ numParallel: input.numParallel + 1 }).map((r) => r.makespanMs),
      0.5,
    );
    whatIf.push({ change: '+1 slot', makespanP50Ms: slot, savedMs: p50 - slot });
  }
  const runs: RunForecast[] = input.runs.map((q) => {
    const ends = base.map((r) => r.ends[q.id] ?? Number.NaN);
    const f: RunForecast = { id: q.id, p50Ms: quantile(ends, 0.5), p90Ms: quantile(ends, 0.9) };
    if (input.untilMs !== undefined) {
      const until = input.untilMs;
      f.lateShare = ends.filter((e) => e > until).length / ends.length;
    }
    return f;
  });
  const out: Forecast = {
    runs,
    spread: input.profile.runs.length > 1 && input.runs.some((r) => !r.sample) ? 'runs' : 'none',
    makespan: { p50Ms: p50, p90Ms: quantile(makespans, 0.9) },
    utilisation: base.reduce((s, r) => s + r.utilisation, 0) / base.length,
    slotWaits: mergeWaits(base.map((r) => r.slotWaits)),
    agentWaits: mergeWaits(base.map((r) => r.agentWaits)),
    whatIf,
    samples,
  };
  if (input.untilMs !== undefined) {
    const until = input.untilMs;
    out.late = {
      likely: runs.filter((r) => r.p50Ms > until).map((r) => r.id),
      atRisk: runs.filter((r) => r.p50Ms <= until && r.p90Ms > until).map((r) => r.id),
    };
  }
  return out;
}

/** Waits over all draws: calls per night, mean over every call, the worst seen. */
function mergeWaits(list: readonly Partial<Record<Role, Waits>>[]): Partial<Record<Role, Waits>> {
  const out: Partial<Record<Role, Waits>> = {};
  const roles = new Set(list.flatMap((w) => Object.keys(w) as Role[]));
  for (const role of roles) {
    const all = list.map((w) => w[role]).filter((w): w is Waits => w !== undefined);
    const calls = all.reduce((s, w) => s + w.calls, 0);
    out[role] = {
      calls: calls / list.length,
      meanMs: calls > 0 ? all.reduce((s, w) => s + w.meanMs * w.calls, 0) / calls : 0,
      maxMs: Math.max(0, ...all.map((w) => w.maxMs)),
    };
  }
  return out;
}
