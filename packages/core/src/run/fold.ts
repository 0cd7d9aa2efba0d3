// A run's state is a pure fold of its events (ARCHITECTURE §3): fold = events.reduce(apply, initialState).
import { addUsage } from '../budget.js';
import { laterIso } from '../time.js';
import { applyAlertRaised, applyDecisionMade } from './decisions.js';
import type { RunEvent, RunEventOf } from './events.js';
import { applyHumanDecided } from './human.js';
import {
  activeStatus,
  type CompletedStep,
  defaultTrust,
  initialState,
  isTerminal,
  type RunState,
  type RunStatus,
} from './state.js';
import { isDecideStep, PHASE_STEPS, type StepId } from './steps.js';
import { ignore, progressOf, withoutInFlight, withProgress } from './updates.js';

/** The state after all events, in order. */
export function fold(events: readonly RunEvent[], from: RunState = initialState): RunState {
  return events.reduce(apply, from);
}

// After the run ended only accounting still moves: money spent and trust earned are facts.
const AFTER_END = new Set<RunEvent['type']>([
  'budget.used',
  'trust.changed',
  'review.finding',
  'alert.raised',
]);

/**
 * The state after one more event. Never throws for a schema-valid event and never mutates its
 * input. An event that does not fit (a stale completion, a duplicate request) changes only the
 * version and is listed in `ignored` with the reason, so a replay shows what was skipped.
 */
export function apply(state: RunState, event: RunEvent): RunState {
  const s: RunState = {
    ...state,
    version: state.version + 1,
    lastEventAt: laterIso(state.lastEventAt, event.at),
    budget: { ...state.budget, asOf: laterIso(state.budget.asOf, event.at) },
  };
  if (event.type !== 'run.created' && state.runId === null) return ignore(s, event, 'no run.created yet');
  if (isTerminal(state.status) && !AFTER_END.has(event.type))
    return ignore(s, event, `run is ${state.status}`);
  switch (event.type) {
    case 'run.created':
      return runCreated(s, event);
    case 'phase.started':
      return phaseStarted(s, event);
    case 'step.requested':
      return stepRequested(s, event);
    case 'step.completed':
      return stepCompleted(s, event);
    case 'step.failed':
      return stepFailed(s, event);
    case 'checkpoint.requested':
      return {
        ...s,
        checkpoints: [...s.checkpoints, { trigger: event.trigger, iteration: s.iteration, at: event.at }],
      };
    case 'review.finding':
      return reviewFinding(s, event);
    case 'decision.made':
      return applyDecisionMade(s, event);
    case 'budget.used':
      return { ...s, budget: addUsage(s.budget, event.tokens, event.usd) };
    case 'alert.raised':
      return applyAlertRaised(s, event);
    case 'run.waiting-human': {
      const waiting = { cause: event.cause ?? 'other', reason: event.reason, since: event.at };
      return {
        ...s,
        status: 'waiting-human',
        statusBeforePause: null,
        waiting: event.step === undefined ? waiting : { ...waiting, step: event.step },
        pendingEscalation: null,
      };
    }
    case 'human.decided':
      return applyHumanDecided(s, event);
    case 'run.paused':
      if (s.status === 'paused') return ignore(s, event, 'already paused');
      return { ...s, status: 'paused', statusBeforePause: s.status };
    case 'run.resumed':
      if (s.status !== 'paused') return ignore(s, event, `not paused (${s.status})`);
      return { ...s, status: s.statusBeforePause ?? activeStatus(s.phase), statusBeforePause: null };
    case 'run.finished': {
      const status: RunStatus =
        event.outcome === 'success' ? 'finished' : event.outcome === 'aborted' ? 'aborted' : 'failed';
      const done = {
        ...s,
        status,
        statusBeforePause: null,
        outcome: event.outcome,
        stop: null,
        waiting: null,
      };
      return event.summary === undefined ? done : { ...done, summary: event.summary };
    }
    case 'trust.changed':
      return { ...s, trust: { ...s.trust, [event.role]: event.to } };
  }
}

function runCreated(s: RunState, e: RunEventOf<'run.created'>): RunState {
  if (s.runId !== null) return ignore(s, e, 'duplicate run.created');
  const created: RunState = {
    ...s,
    runId: e.runId,
    task: e.task,
    createdAt: e.at,
    status: 'planning',
    budget: { ...s.budget, limit: e.budget ?? {}, startedAt: e.at },
    trust: e.trust ?? defaultTrust(),
  };
  const titled = e.title === undefined ? created : { ...created, title: e.title };
  const placed = e.workspace === undefined ? titled : { ...titled, workspace: e.workspace };
  return e.checkout === undefined ? placed : { ...placed, checkout: e.checkout };
}

function phaseStarted(s: RunState, e: RunEventOf<'phase.started'>): RunState {
  if (e.iteration < s.iteration) return ignore(s, e, `iteration ${e.iteration} is older than ${s.iteration}`);
  const moved = {
    ...s,
    phase: e.phase,
    phaseStartedAt: e.at,
    phases: [...s.phases, { phase: e.phase, iteration: e.iteration, at: e.at }],
  };
  const status = s.status === 'planning' || s.status === 'running' ? activeStatus(e.phase) : s.status;
  if (e.iteration > s.iteration) {
    // A new iteration starts clean: counters, verdict and this iteration's findings.
    return {
      ...moved,
      status,
      iteration: e.iteration,
      inFlight: {},
      progress: {},
      verdict: null,
      findings: { ...s.findings, current: [] },
    };
  }
  // Same iteration: entering (or restarting, guide §4 L2 "may require phase restart") this
  // phase clears the steps of this phase and the later ones, so they run again.
  const reset = new Set<StepId>(
    ([1, 2, 3, 4] as const).filter((p) => p >= e.phase).flatMap((p) => PHASE_STEPS[p]),
  );
  const keep = <T>(rec: Partial<Record<StepId, T>>) =>
    Object.fromEntries(Object.entries(rec).filter(([step]) => !reset.has(step as StepId))) as Partial<
      Record<StepId, T>
    >;
  return {
    ...moved,
    status,
    inFlight: keep(s.inFlight),
    progress: keep(s.progress),
    verdict: e.phase <= 3 ? null : s.verdict,
  };
}

function stepRequested(s: RunState, e: RunEventOf<'step.requested'>): RunState {
  const p = progressOf(s, e.step);
  if (p.done) return ignore(s, e, `${e.step} is already done in iteration ${s.iteration}`);
  if (s.inFlight[e.step]?.messageId === e.messageId) return ignore(s, e, `duplicate request ${e.messageId}`);
  // A new messageId for a step in flight replaces it (a re-request): the old answer becomes stale.
  const attempt = p.attempts + 1;
  const inFlight = {
    step: e.step,
    role: e.role,
    messageId: e.messageId,
    attempt,
    iteration: s.iteration,
    requestedAt: e.at,
  };
  return withProgress({ ...s, inFlight: { ...s.inFlight, [e.step]: inFlight } }, e.step, {
    ...p,
    attempts: attempt,
  });
}

/** A result counts only if it answers the request in flight (or is the Director's own call). */
function answersRequest(s: RunState, step: StepId, messageId: string): boolean {
  const flying = s.inFlight[step];
  if (flying) return flying.messageId === messageId;
  return isDecideStep(step);
}

function stepCompleted(s: RunState, e: RunEventOf<'step.completed'>): RunState {
  const tokens = e.usage ? e.usage.inputTokens + e.usage.outputTokens : 0;
  const usd = e.usage?.usd ?? 0;
  const duplicate = s.completed.some((c) => c.step === e.step && c.messageId === e.messageId);
  if (duplicate) return ignore(s, e, `duplicate completion ${e.messageId}`);
  // A stale answer is not applied, but the tokens it used were really spent.
  const charged = e.usage ? { ...s, budget: addUsage(s.budget, tokens, usd) } : s;
  if (e.step === 'verify') return ignore(charged, e, 'verify completes with decision.made (step: verify)');
  const p = progressOf(s, e.step);
  if (p.done) return ignore(charged, e, `${e.step} is already done in iteration ${s.iteration}`);
  if (!answersRequest(s, e.step, e.messageId))
    return ignore(charged, e, `no request ${e.messageId} in flight`);
  const attempt = s.inFlight[e.step]?.attempt ?? p.attempts + 1;
  const base: CompletedStep = {
    step: e.step,
    role: e.role,
    messageId: e.messageId,
    iteration: s.iteration,
    attempt,
    at: e.at,
  };
  const withOutput = e.output === undefined ? base : { ...base, output: e.output };
  const record = e.usage === undefined ? withOutput : { ...withOutput, usage: e.usage };
  const next = withoutInFlight({ ...charged, completed: [...s.completed, record] }, e.step);
  return withProgress(next, e.step, { ...p, attempts: Math.max(p.attempts, attempt), done: true });
}

function stepFailed(s: RunState, e: RunEventOf<'step.failed'>): RunState {
  const p = progressOf(s, e.step);
  if (p.done) return ignore(s, e, `${e.step} is already done in iteration ${s.iteration}`);
  if (!answersRequest(s, e.step, e.messageId)) return ignore(s, e, `no request ${e.messageId} in flight`);
  const attempts = s.inFlight[e.step] ? p.attempts : p.attempts + 1;
  return withProgress(withoutInFlight(s, e.step), e.step, {
    ...p,
    attempts,
    failures: p.failures + 1,
    lastError: e.reason,
  });
}

function reviewFinding(s: RunState, e: RunEventOf<'review.finding'>): RunState {
  const base = {
    severity: e.severity,
    description: e.description,
    from: e.from,
    iteration: s.iteration,
    phase: s.phase,
    at: e.at,
  };
  const withFile = e.file === undefined ? base : { ...base, file: e.file };
  const finding = e.messageId === undefined ? withFile : { ...withFile, messageId: e.messageId };
  return { ...s, findings: { current: [...s.findings.current, finding], all: [...s.findings.all, finding] } };
}
