// What a step is told (the context of its REQUEST), derived from the run's state alone.
import type { Role } from '@nightshift/protocol';
import type { Decision } from './events.js';
import type { FindingRecord, RunState } from './state.js';
import { type RunPhase, STEPS, type StepId } from './steps.js';

export interface StepContext {
  readonly runId: string;
  readonly task: string;
  readonly title?: string;
  readonly workspace?: string;
  readonly phase: RunPhase;
  readonly iteration: number;
  readonly attempt: number;
  /** The latest output of every step done so far (any iteration): the plan, the design, the build… */
  readonly outputs: Readonly<Partial<Record<StepId, unknown>>>;
  /** P2 of a later iteration: the previous review's findings (guide §4 P4 "back to P2 with findings"); P3: this review's. */
  readonly findings: readonly FindingRecord[];
  /** P2 of a later iteration: why the Director asked for another round. */
  readonly previousVerdict?: { readonly decision: Decision; readonly rationale: string };
  /** Human notes given since the previous iteration started. */
  readonly humanNotes: readonly string[];
  /** Why the previous attempt of this step failed, when this is a retry. */
  readonly lastError?: string;
  readonly trust: Readonly<Partial<Record<Role, number>>>;
}

export function stepContext(state: RunState, step: StepId, attempt: number): StepContext {
  const phase = STEPS[step].phase;
  const outputs: Partial<Record<StepId, unknown>> = {};
  for (const c of state.completed) if (c.output !== undefined) outputs[c.step] = c.output;
  const previous = state.iteration - 1;
  const findings =
    phase === 2
      ? state.findings.all.filter((f) => f.iteration === previous)
      : phase === 3
        ? state.findings.current
        : [];
  const ctx: StepContext = {
    runId: state.runId ?? '',
    task: state.task,
    phase,
    iteration: state.iteration,
    attempt,
    outputs,
    findings,
    humanNotes: state.humanDecisions
      .filter((h) => h.iteration >= previous && h.note)
      .map((h) => h.note ?? ''),
    trust: state.trust,
  };
  const verdict =
    phase === 2
      ? state.decisions.findLast((d) => d.step === 'verify' && d.iteration === previous)
      : undefined;
  const lastError = state.progress[step]?.lastError;
  return {
    ...ctx,
    ...(state.title === undefined ? {} : { title: state.title }),
    // Issue 18: the team works in the run's own checkout, never in the folder the user named.
    ...(state.workspace === undefined && state.checkout === undefined
      ? {}
      : { workspace: state.checkout?.cwd ?? state.workspace }),
    ...(verdict === undefined
      ? {}
      : { previousVerdict: { decision: verdict.decision, rationale: verdict.rationale } }),
    ...(lastError === undefined ? {} : { lastError }),
  };
}
