// The workflow simulator (issue 24 §1): several runs at once, each the DAG of core's STEPS
// (guide §4: planning sequential, build ‖ research-exec, then checkpoint, then refactor →
// inspect → verify; P4 loops to P2), on the team's agents and the gateway's slots. The rules
// are the real system's: a REQUEST step holds one agent of its role from pick-up to completion
// (a worker runs one job at a time, FIFO on `agent.<role>`); a debate vote holds a voter's agent
// for its call and is served before the steps waiting for that agent (the Director sends votes
// HIGH and steps NORMAL on `agent.<role>`), its call at the HIGH slot priority at most (the agent
// passes min(role, request) to the gateway); every model call holds one of `numParallel` slots,
// granted by priority (guide §7, BullMQ: lower first), then arrival; the Director's own steps need no agent, and its calls need
// a slot only on the Ollama fallback (Anthropic: none). Pure and clock-free: simulated ms.
import { BULLMQ_PRIORITY, type Role } from '@nightshift/protocol';
import { GUIDE_PRIORITY } from '../capacity.js';
import { STEPS, type StepId } from '../run/steps.js';
import { EventHeap } from './heap.js';
import { type CallSpec, iterationSteps, type RunSample, type StepSample } from './profile.js';

/** One run to simulate: the step samples it will follow (resolved from history by the caller). */
export interface PlannedRun {
  id: string;
  /** When the run enters, ms (0: at the start of the night). */
  startMs: number;
  iterations: number;
  /** Sample of each step of each iteration, keyed `<iteration>:<step>`. */
  steps: ReadonlyMap<string, StepSample>;
  finishMs: number;
  /** A run under way: the iteration it is in and its steps already done there (`<iteration>:<step>`). */
  progress?: { iteration: number; done: ReadonlySet<string> };
}

export interface EngineInput {
  runs: readonly PlannedRun[];
  /** Processes per role (default 1); the Director drives every run at once and is not counted. */
  agents: Readonly<Partial<Record<Role, number>>>;
  numParallel: number;
  priorities?: Readonly<Partial<Record<Role, number>>>;
  /** The Director's calls go to Anthropic (no slot) instead of the recorded Ollama fallback. */
  directorOnAnthropic?: boolean;
  /**
   * How much a step's slot-free time (tools, commands, git, bus hops, the Director's dispatch)
   * stretches for each other run under way at once, as a fraction (0.05: +5 % per run): the runs
   * share the machine's CPUs, and history is mostly of runs measured alone. A sample measured at a
   * `load` of its own is first brought back to one run alone. 0 (default): no stretch.
   */
  loadStretch?: number;
  /** Told each step and each model call of the simulated night as it ends (to compare with a recorded one). */
  trace?: (event: TraceEvent) => void;
}

/** One step or model call of a simulated night, simulated ms. */
export type TraceEvent =
  | {
      kind: 'step';
      run: string;
      iteration: number;
      step: StepId;
      /** Its `after` steps done, its phase begun. */
      readyAt: number;
      /** Requested (after the dispatch) and, for a REQUEST step, when an agent took it. */
      requestedAt: number;
      takenAt: number;
      endAt: number;
    }
  | { kind: 'call'; run: string; role: Role; enqueuedAt: number; startedAt: number; endedAt: number };

export interface Waits {
  calls: number;
  meanMs: number;
  maxMs: number;
}

export interface EngineResult {
  /** End of each run, ms, by id. */
  ends: Record<string, number>;
  makespanMs: number;
  /** Model time / (numParallel × makespan). */
  utilisation: number;
  /** Waits for a slot, per role. */
  slotWaits: Partial<Record<Role, Waits>>;
  /** Waits of a step or a vote for a free agent, per role. */
  agentWaits: Partial<Record<Role, Waits>>;
}

/** A step's REQUEST on `agent.<role>` (the Director's driver: NORMAL) and a debate vote's (HIGH). */
const STEP_PRIORITY = BULLMQ_PRIORITY.NORMAL;
const VOTE_PRIORITY = BULLMQ_PRIORITY.HIGH;

export const stepKey = (iteration: number, step: StepId) => `${iteration}:${step}`;

/** The plan of a recorded run, replayed as it happened (`simulate --from-run`). */
export function planFromSample(sample: RunSample, id = sample.runId, startMs = 0): PlannedRun {
  return {
    id,
    startMs,
    iterations: sample.iterations,
    steps: new Map(sample.steps.map((s) => [stepKey(s.iteration, s.step), s])),
    finishMs: sample.finishMs,
  };
}

interface Pool {
  free: number;
  waiting: { grant: () => void; since: number; prio: number; seq: number }[];
}

export function simulateRuns(input: EngineInput): EngineResult {
  if (!Number.isInteger(input.numParallel) || input.numParallel < 1)
    throw new Error('numParallel must be a positive integer');
  const prio = { ...GUIDE_PRIORITY, ...input.priorities };
  const heap = new EventHeap();
  let now = 0;
  let seq = 0;
  let busy = 0;
  const slotWaits = new Map<Role, number[]>();
  const agentWaits = new Map<Role, number[]>();
  const note = (map: Map<Role, number[]>, role: Role, ms: number) => {
    const list = map.get(role) ?? [];
    list.push(ms);
    map.set(role, list);
  };
  const slots: Pool = { free: input.numParallel, waiting: [] };
  const agents = new Map<Role, Pool>();
  const agentPool = (role: Role): Pool => {
    let pool = agents.get(role);
    if (!pool) {
      const count = input.agents[role] ?? 1;
      if (!Number.isInteger(count) || count < 1) throw new Error(`agents.${role} must be a positive integer`);
      pool = { free: count, waiting: [] };
      agents.set(role, pool);
    }
    return pool;
  };
  const serve = (pool: Pool) => {
    while (pool.free > 0 && pool.waiting.length > 0) {
      // The first by (priority, arrival, seq): one scan, not a sort per grant (dozens of runs
      // queue for the slots; the ETA runs this for every draw).
      let best = 0;
      for (let i = 1; i < pool.waiting.length; i++) {
        const a = pool.waiting[i] as Pool['waiting'][number];
        const b = pool.waiting[best] as Pool['waiting'][number];
        if ((a.prio - b.prio || a.since - b.since || a.seq - b.seq) < 0) best = i;
      }
      const [next] = pool.waiting.splice(best, 1);
      pool.free--;
      next?.grant();
    }
  };
  const acquire = (pool: Pool, priority: number, onGrant: (waitedMs: number) => void) => {
    const since = now;
    pool.waiting.push({ since, prio: priority, seq: seq++, grant: () => onGrant(now - since) });
    serve(pool);
  };
  const release = (pool: Pool) => {
    pool.free++;
    serve(pool);
  };

  /** One model call: a slot (unless the Director is on Anthropic) for its latency. */
  const trace = input.trace;
  const stretch = input.loadStretch ?? 0;
  if (!(stretch >= 0)) throw new Error('loadStretch must be a number ≥ 0');
  /** Runs started and not yet ended, now. */
  let underWay = 0;
  /** Slot-free time measured at `load` runs at once, as it takes with the runs under way now. */
  const busyMs = (ms: number, load = 1) =>
    stretch === 0
      ? ms
      : (ms * (1 + stretch * Math.max(0, underWay - 1))) / (1 + stretch * Math.max(0, load - 1));

  const modelCall = (run: string, role: Role, latencyMs: number, done: () => void, priority = prio[role]) => {
    const enqueuedAt = now;
    if (role === 'director' && input.directorOnAnthropic) {
      heap.push(now + latencyMs, done);
      return;
    }
    acquire(slots, priority, (waited) => {
      note(slotWaits, role, waited);
      busy += latencyMs;
      const startedAt = now;
      heap.push(now + latencyMs, () => {
        trace?.({ kind: 'call', run, role, enqueuedAt, startedAt, endedAt: now });
        release(slots);
        done();
      });
    });
  };
  /** A call inside a step; a vote by another worker role first needs that role's agent. */
  const stepCall = (run: string, stepRole: Role, call: CallSpec, done: () => void) => {
    if (call.role === stepRole || call.role === 'director' || call.role === 'scribe') {
      modelCall(run, call.role, call.latencyMs, done);
      return;
    }
    const pool = agentPool(call.role);
    acquire(pool, VOTE_PRIORITY, (waited) => {
      note(agentWaits, call.role, waited);
      modelCall(
        run,
        call.role,
        call.latencyMs,
        () => {
          release(pool);
          done();
        },
        Math.min(prio[call.role], VOTE_PRIORITY),
      );
    });
  };
  const runGroups = (run: string, stepRole: Role, sample: StepSample, index: number, done: () => void) => {
    const group = sample.groups[index];
    if (!group) {
      heap.push(now + busyMs(sample.tailMs, sample.load), done);
      return;
    }
    heap.push(now + busyMs(group.gapMs, sample.load), () => {
      const start = now;
      let left = group.calls.length;
      for (const call of group.calls) {
        heap.push(start + call.offsetMs, () =>
          stepCall(run, stepRole, call, () => {
            left--;
            if (left === 0) runGroups(run, stepRole, sample, index + 1, done);
          }),
        );
      }
    });
  };

  const ends: Record<string, number> = {};
  for (const run of input.runs) {
    // A step in flight when the forecast starts is not done, so it starts again at once; its
    // sample is already only what is left of it (drawPlans: remainderOf).
    const completed = new Set<string>(run.progress?.done ?? []);
    const started = new Set<string>(completed);
    const sampleOf = (iteration: number, step: StepId): StepSample => {
      const s = run.steps.get(stepKey(iteration, step));
      if (!s) throw new Error(`run ${run.id}: no sample for ${step} of iteration ${iteration}`);
      return s;
    };
    const startStep = (iteration: number, step: StepId) => {
      started.add(stepKey(iteration, step));
      const sample = sampleOf(iteration, step);
      const spec = STEPS[step];
      const readyAt = now;
      heap.push(now + busyMs(sample.dispatchMs, sample.load), () => {
        const requestedAt = now;
        const finish = (release?: () => void) => {
          const takenAt = now;
          runGroups(run.id, spec.role, sample, 0, () => {
            release?.();
            trace?.({
              kind: 'step',
              run: run.id,
              iteration,
              step,
              readyAt,
              requestedAt,
              takenAt,
              endAt: now,
            });
            for (const f of sample.followers)
              heap.push(now + f.delayMs, () => modelCall(run.id, f.role, f.latencyMs, noop));
            completeStep(iteration, step);
          });
        };
        if (spec.kind === 'decide') return finish();
        const pool = agentPool(spec.role);
        acquire(pool, STEP_PRIORITY, (waited) => {
          note(agentWaits, spec.role, waited);
          finish(() => release(pool));
        });
      });
    };
    const readySteps = (iteration: number): void => {
      const steps = iterationSteps(iteration);
      // The current phase: the first one of the iteration with a step not done.
      const open = steps.find((s) => !completed.has(stepKey(iteration, s)));
      if (open === undefined) {
        iterationDone(iteration);
        return;
      }
      const phase = STEPS[open].phase;
      for (const step of steps) {
        if (STEPS[step].phase !== phase || started.has(stepKey(iteration, step))) continue;
        if (STEPS[step].after.every((d) => completed.has(stepKey(iteration, d)))) startStep(iteration, step);
      }
    };
    const completeStep = (iteration: number, step: StepId) => {
      completed.add(stepKey(iteration, step));
      readySteps(iteration);
    };
    const iterationDone = (iteration: number): void => {
      if (iteration < run.iterations) {
        readySteps(iteration + 1);
        return;
      }
      heap.push(now + run.finishMs, () => {
        underWay--;
        ends[run.id] = now;
      });
    };
    heap.push(run.startMs, () => {
      underWay++;
      readySteps(run.progress?.iteration ?? 1);
    });
  }
  for (let event = heap.pop(); event; event = heap.pop()) {
    now = event.at;
    event.run();
  }
  const makespanMs = Math.max(0, ...Object.values(ends));
  return {
    ends,
    makespanMs,
    utilisation: makespanMs > 0 ? busy / (input.numParallel * makespanMs) : 0,
    slotWaits: summarise(slotWaits),
    agentWaits: summarise(agentWaits),
  };
}

const noop = () => undefined;

function summarise(map: Map<Role, number[]>): Partial<Record<Role, Waits>> {
  const out: Partial<Record<Role, Waits>> = {};
  for (const [role, list] of map) {
    out[role] = {
      calls: list.length,
      meanMs: list.reduce((s, w) => s + w, 0) / list.length,
      maxMs: Math.max(...list),
    };
  }
  return out;
}
