// Test support (excluded from the build): a recorded run written from a timing script, with
// its event log and the gateway's call log, laid out on its own timeline (no waits for slots).
import type { Role } from '@nightshift/protocol';
import type { RecordedCall } from '../plan/profile.js';
import { iterationSteps } from '../plan/profile.js';
import { type RunEvent, type RunEventDraft, stamp } from '../run/events.js';
import { STEPS, type StepId } from '../run/steps.js';

export interface StepScript {
  dispatchMs: number;
  /** Sequential calls of the step's role: slot-free gap before each, then its latency. */
  calls: { gapMs: number; latencyMs: number }[];
  tailMs: number;
}

export interface RunScript {
  runId: string;
  iterations: number;
  step: (step: StepId, iteration: number) => StepScript;
  finishMs: number;
  /** Extra calls (a Scribe summary) after a step's completion. */
  followers?: (step: StepId, iteration: number) => { role: Role; delayMs: number; latencyMs: number }[];
}

export const PLAN_T0 = Date.parse('2026-12-07T22:00:00Z');

/** Events and calls of the scripted run, plus when each step ended (relative ms). */
export function recordRun(script: RunScript): {
  events: RunEvent[];
  calls: RecordedCall[];
  durationMs: number;
} {
  const drafts: { at: number; draft: RunEventDraft }[] = [];
  const calls: RecordedCall[] = [];
  const add = (at: number, draft: RunEventDraft) => drafts.push({ at, draft });
  add(0, { type: 'run.created', runId: script.runId, task: 'scripted' });
  let ready = 0;
  let id = 0;
  for (let i = 1; i <= script.iterations; i++) {
    const done = new Map<StepId, number>();
    let phaseStart = ready;
    let phase = 0;
    for (const step of iterationSteps(i)) {
      const spec = STEPS[step];
      if (spec.phase !== phase) {
        phase = spec.phase;
        phaseStart = Math.max(ready, ...[...done.values()]);
        add(phaseStart, { type: 'phase.started', phase: spec.phase, iteration: i });
      }
      const s = script.step(step, i);
      const from = spec.after.length > 0 ? Math.max(...spec.after.map((d) => done.get(d) ?? 0)) : phaseStart;
      const messageId = `m-${i}-${step}-${id++}`;
      let t = from + s.dispatchMs;
      add(t, { type: 'step.requested', step, role: spec.role, messageId });
      for (const c of s.calls) {
        t += c.gapMs;
        calls.push({
          role: spec.role,
          enqueuedAt: PLAN_T0 + t,
          startedAt: PLAN_T0 + t,
          endedAt: PLAN_T0 + t + c.latencyMs,
        });
        t += c.latencyMs;
      }
      t += s.tailMs;
      done.set(step, t);
      if (step === 'verify')
        add(t, {
          type: 'decision.made',
          decision: i === script.iterations ? 'finish' : 'revise',
          by: 'director',
          rationale: 'scripted',
          step: 'verify',
        });
      else add(t, { type: 'step.completed', step, role: spec.role, messageId });
      for (const f of script.followers?.(step, i) ?? []) {
        const at = PLAN_T0 + t + f.delayMs;
        calls.push({ role: f.role, enqueuedAt: at, startedAt: at, endedAt: at + f.latencyMs });
      }
    }
    ready = done.get('verify') ?? ready;
  }
  const durationMs = ready + script.finishMs;
  add(durationMs, { type: 'run.finished', outcome: 'success' });
  const events = drafts
    .map((d, seq) => ({ ...d, seq }))
    .sort((a, b) => a.at - b.at || a.seq - b.seq)
    .map((d) => stamp(d.draft, new Date(PLAN_T0 + d.at).toISOString()));
  return { events, calls, durationMs };
}
