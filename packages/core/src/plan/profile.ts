// What the planner knows of past runs (issue 24 §1): each recorded run cut into its workflow
// steps, and each step into what really takes time — the Director's dispatch, the model calls
// (role, latency: the slot's service time, never the wait for a slot), the gaps between them
// (tools, commands, bus hops, Anthropic calls, which hold no slot) — plus the calls that belong to
// no step (the Scribe's rolling summaries). Waits are left out on purpose: the simulator
// recomputes them for the night it forecasts. Pure: events and the gateway's call log in.
import { ROLES, type Role, WORKER_ROLES } from '@nightshift/protocol';
import type { RunEvent } from '../run/events.js';
import type { RunState } from '../run/state.js';
import { PHASE_STEPS, type RunPhase, STEPS, type StepId } from '../run/steps.js';

/** One model call of the gateway's per-run log (`run:<id>:llm`), epoch ms. */
export interface RecordedCall {
  role: string;
  enqueuedAt: number;
  startedAt: number;
  endedAt: number;
}

export interface CallSpec {
  role: Role;
  /** The model's service time, ms (the slot is held this long). */
  latencyMs: number;
  /** From the start of its group, ms (calls of one group run side by side, e.g. a debate round's votes). */
  offsetMs: number;
}

/** Calls issued together; the next group starts after the last of them ends (a tool loop's turns). */
export interface CallGroup {
  /** Slot-free time before the group: after the step's start or the previous group's end, ms. */
  gapMs: number;
  calls: CallSpec[];
}

/** A call that belongs to no step (a Scribe summary, a Director checkpoint decision). */
export interface FollowerCall {
  role: Role;
  latencyMs: number;
  /** After the step's completion, ms. */
  delayMs: number;
}

export interface StepSample {
  step: StepId;
  iteration: number;
  /** From the moment the step could start (its `after` steps done, its phase begun) to its REQUEST, ms. */
  dispatchMs: number;
  groups: CallGroup[];
  /** After the last group's end (or the start, without calls) until the step completes, ms. */
  tailMs: number;
  followers: FollowerCall[];
  /**
   * Runs of the history under way while it ran, itself included (time-weighted over its window;
   * absent: 1, alone): the load its slot-free time was measured at (`withLoads`).
   */
  load?: number;
  /** When it could start and when it completed, ms after its run's creation (for `withLoads`). */
  span?: { from: number; to: number };
}

export interface RunSample {
  runId: string;
  iterations: number;
  steps: StepSample[];
  /** From the last verify decision to `run.finished`, ms. */
  finishMs: number;
  /** `run.created` → `run.finished`, ms, as measured. */
  durationMs: number;
  /** `run.created`, epoch ms. */
  createdAt?: number;
}

/** History: the recorded runs the simulator draws from. */
export interface Profile {
  runs: RunSample[];
}

const isRole = (role: string): role is Role => (ROLES as readonly string[]).includes(role);
const isWorker = (role: Role) => (WORKER_ROLES as readonly string[]).includes(role);

/** Steps of one iteration in workflow order (iteration 1 plans first; later ones start at P2). */
export function iterationSteps(iteration: number): readonly StepId[] {
  return iteration === 1 ? FIRST_ITERATION : LATER_ITERATIONS;
}
const stepsOf = (phases: readonly RunPhase[]): readonly StepId[] =>
  Object.freeze(phases.flatMap((p) => [...PHASE_STEPS[p]]));
// Computed once: the simulator asks for them at every step of every draw.
const FIRST_ITERATION = stepsOf([1, 2, 3]);
const LATER_ITERATIONS = stepsOf([2, 3]);

/**
 * Cuts one finished run into step samples. Returns undefined for a run that has not finished
 * (or never verified): an unfinished run says nothing yet about how long a run takes.
 *
 * `pickedUp`: when an agent took each REQUEST (epoch ms, by its message id; BullMQ's
 * `processedOn`). A step of a night with several runs may have waited for its agent; that wait is
 * the simulator's to recompute, so its first gap counts from the pick-up, not the REQUEST.
 * Without it (a job aged out) the gap holds the wait, as measured.
 */
export function sampleRun(
  events: readonly RunEvent[],
  calls: readonly RecordedCall[],
  pickedUp?: ReadonlyMap<string, number>,
): RunSample | undefined {
  const created = events.find((e) => e.type === 'run.created');
  const finished = events.find((e) => e.type === 'run.finished');
  if (created?.type !== 'run.created' || !finished) return undefined;
  const t0 = Date.parse(created.at);
  let iteration = 1;
  const requested = new Map<string, number>();
  const taken = new Map<string, number>();
  const done = new Map<string, number>();
  const key = (i: number, step: StepId) => `${i}:${step}`;
  for (const e of events) {
    if (e.type === 'phase.started') iteration = Math.max(iteration, e.iteration);
    const at = Date.parse(e.at);
    if (e.type === 'step.requested' && !requested.has(key(iteration, e.step))) {
      requested.set(key(iteration, e.step), at);
      const pick = pickedUp?.get(e.messageId);
      if (pick !== undefined) taken.set(key(iteration, e.step), pick);
    }
    if (e.type === 'step.completed' && e.step !== 'verify' && !done.has(key(iteration, e.step)))
      done.set(key(iteration, e.step), at);
    if (e.type === 'decision.made' && e.step === 'verify') done.set(key(iteration, 'verify'), at);
  }
  const iterations = iteration;
  const lastVerify = done.get(key(iterations, 'verify'));
  if (lastVerify === undefined) return undefined;
  // Windows of the steps, then each call goes to the step of its role running when it was enqueued.
  const windows: {
    step: StepId;
    iteration: number;
    from: number;
    to: number;
    ready: number;
    /** When an agent took it (from ≤ taken ≤ to); `from` when unknown or a Director step. */
    taken: number;
  }[] = [];
  for (let i = 1; i <= iterations; i++) {
    for (const step of iterationSteps(i)) {
      const ready = readyAt(i, step, done, t0);
      // The Director's own steps may log no step.requested: they start when they can.
      const from = requested.get(key(i, step)) ?? (STEPS[step].kind === 'decide' ? ready : undefined);
      const to = done.get(key(i, step));
      if (from === undefined || to === undefined) return undefined;
      const pick = STEPS[step].kind === 'request' ? taken.get(key(i, step)) : undefined;
      const at = pick === undefined ? from : Math.min(to, Math.max(from, pick));
      windows.push({ step, iteration: i, from, to, ready, taken: at });
    }
  }
  const owned = new Map<number, RecordedCall[]>();
  const stray: RecordedCall[] = [];
  for (const call of [...calls].sort((a, b) => a.enqueuedAt - b.enqueuedAt)) {
    // A step's window holds its whole call (the answer comes after the model's); a call only
    // enqueued in a window (its step timed out meanwhile) still belongs to it.
    const inside = (w: (typeof windows)[number], end: number) =>
      call.enqueuedAt >= w.from && end <= w.to && owns(w.step, call.role);
    let index = windows.findIndex((w) => inside(w, call.endedAt));
    if (index < 0) index = windows.findIndex((w) => inside(w, call.enqueuedAt));
    if (index < 0) stray.push(call);
    else owned.set(index, [...(owned.get(index) ?? []), call]);
  }
  const steps: StepSample[] = windows.map((w, index) => {
    const { groups, end } = groupCalls(owned.get(index) ?? [], w.taken);
    const sample: StepSample = {
      step: w.step,
      iteration: w.iteration,
      dispatchMs: Math.max(0, w.from - w.ready),
      groups,
      tailMs: Math.max(0, w.to - end),
      followers: [],
    };
    return { ...sample, span: { from: w.ready - t0, to: w.to - t0 } };
  });
  // A stray call follows the latest step completed before it (the Scribe summarises what it heard).
  for (const call of stray) {
    if (!isRole(call.role)) continue;
    let best = 0;
    windows.forEach((w, index) => {
      if (w.to <= call.enqueuedAt && w.to >= (windows[best]?.to ?? 0)) best = index;
    });
    const anchor = windows[best];
    steps[best]?.followers.push({
      role: call.role,
      latencyMs: Math.max(0, call.endedAt - call.startedAt),
      delayMs: Math.max(0, call.enqueuedAt - (anchor?.to ?? t0)),
    });
  }
  return {
    runId: created.runId,
    iterations,
    steps,
    finishMs: Math.max(0, Date.parse(finished.at) - lastVerify),
    durationMs: Date.parse(finished.at) - t0,
    createdAt: t0,
  };
}

/** Runs under way over [from, to], time-weighted (the run itself counts: 1 = alone). */
function loadOver(spans: readonly { from: number; to: number }[], from: number, to: number): number {
  if (to <= from) return 1;
  const overlap = spans.reduce((sum, s) => sum + Math.max(0, Math.min(s.to, to) - Math.max(s.from, from)), 0);
  return Math.max(1, overlap / (to - from));
}

/** Whose calls a step makes: its own role's; a Director decision also gathers the review's votes. */
function owns(step: StepId, role: string): boolean {
  if (!isRole(role)) return false;
  if (STEPS[step].role === role) return true;
  return STEPS[step].kind === 'decide' && step === 'verify' && isWorker(role);
}

/** When a step could have been requested: its `after` steps done, else its phase begun. */
function readyAt(iteration: number, step: StepId, done: Map<string, number>, t0: number): number {
  const spec = STEPS[step];
  const at = (i: number, s: StepId) => done.get(`${i}:${s}`) ?? t0;
  if (spec.after.length > 0) return Math.max(...spec.after.map((s) => at(iteration, s)));
  if (spec.phase === 1) return t0;
  if (spec.phase === 2)
    return iteration === 1 ? Math.max(...PHASE_STEPS[1].map((s) => at(1, s))) : at(iteration - 1, 'verify');
  return Math.max(...PHASE_STEPS[(spec.phase - 1) as RunPhase].map((s) => at(iteration, s)));
}

/** Splits a step's calls into groups: a call enqueued before the running group ends joins it. */
function groupCalls(calls: readonly RecordedCall[], from: number): { groups: CallGroup[]; end: number } {
  const groups: CallGroup[] = [];
  let end = from;
  let groupStart = from;
  for (const call of calls) {
    const role = call.role as Role;
    const latencyMs = Math.max(0, call.endedAt - call.startedAt);
    const current = groups.at(-1);
    if (current && call.enqueuedAt < end) {
      current.calls.push({ role, latencyMs, offsetMs: Math.max(0, call.enqueuedAt - groupStart) });
    } else {
      groups.push({ gapMs: Math.max(0, call.enqueuedAt - end), calls: [{ role, latencyMs, offsetMs: 0 }] });
      groupStart = call.enqueuedAt;
    }
    end = Math.max(end, call.endedAt);
  }
  return { groups, end };
}

/** The history of several runs; runs that did not finish are left out. */
export function buildProfile(
  runs: readonly { events: readonly RunEvent[]; calls: readonly RecordedCall[] }[],
): Profile {
  return {
    runs: withLoads(
      runs.flatMap((r) => {
        const sample = sampleRun(r.events, r.calls);
        return sample ? [sample] : [];
      }),
    ),
  };
}

/**
 * The history with the load each step was measured at: how many of these runs were under way
 * during it (time-weighted, itself included). A step measured alone has none. Derived from the
 * set in use, so a run's load counts the runs of its night that are in the history too.
 */
export function withLoads(runs: readonly RunSample[]): RunSample[] {
  const spans = runs.flatMap((r) =>
    r.createdAt === undefined ? [] : [{ from: r.createdAt, to: r.createdAt + r.durationMs }],
  );
  return runs.map((r) => ({
    ...r,
    steps: r.steps.map(({ load: _, ...step }) => {
      const t0 = r.createdAt;
      if (spans.length < 2 || t0 === undefined || !step.span) return step;
      const load = loadOver(spans, t0 + step.span.from, t0 + step.span.to);
      return load > 1.01 ? { ...step, load: Math.round(load * 100) / 100 } : step;
    }),
  }));
}

/**
 * Where a run under way stands, for a forecast of the rest (undefined: it has not started). With
 * `nowMs`, its steps in flight and how long since their REQUEST (the clock is the caller's).
 */
export function progressOf(
  state: RunState,
  nowMs?: number,
): { iteration: number; done: StepId[]; inFlight?: { step: StepId; elapsedMs: number }[] } | undefined {
  if (state.phase === null) return undefined;
  const done = (Object.keys(state.progress) as StepId[]).filter((step) => state.progress[step]?.done);
  // verify is done once it has a verdict (its step.completed is not how it completes).
  if (state.verdict !== null && !done.includes('verify')) done.push('verify');
  if (nowMs === undefined) return { iteration: state.iteration, done };
  const inFlight = Object.values(state.inFlight).flatMap((f) =>
    f && !done.includes(f.step)
      ? [{ step: f.step, elapsedMs: Math.max(0, nowMs - Date.parse(f.requestedAt)) }]
      : [],
  );
  return { iteration: state.iteration, done, inFlight };
}
