// Test support (excluded from the build): a scripted run written to a real Redis as the Director
// and the gateway would — its events and its call log `run:<id>:llm` — finished, or cut off
// `stopAtMs` after its start (a run under way). Every step: REQUEST 50 ms after it could start,
// one 200 ms model call 10 ms later, completion 40 ms after the answer (300 ms); finish 40 ms.
import { iterationSteps, type RunEventDraft, STEPS, stamp } from '@nightshift/core';
import { createKeys, createRedisClient, createRunStore } from '@nightshift/redis';

export const RUN_T0 = Date.parse('2026-12-07T21:00:00Z');
export const STEP_MS = 300;
export const FINISH_MS = 40;

/** Writes the run; returns its duration (ms), or `stopAtMs` for a run cut off. */
export async function recordRun(
  url: string,
  prefix: string,
  runId: string,
  options: { t0?: number; stopAtMs?: number } = {},
): Promise<number> {
  const t0 = options.t0 ?? RUN_T0;
  const stop = options.stopAtMs ?? Number.POSITIVE_INFINITY;
  const keys = createKeys(prefix);
  const client = createRedisClient(url);
  const drafts: [number, RunEventDraft][] = [[0, { type: 'run.created', runId, task: 'fix it' }]];
  const done: Record<string, number> = {};
  let t = 0;
  let phaseEnd = 0;
  let phase = 0;
  try {
    for (const step of iterationSteps(1)) {
      const spec = STEPS[step];
      if (spec.phase !== phase) {
        phase = spec.phase;
        drafts.push([phaseEnd, { type: 'phase.started', phase: spec.phase, iteration: 1 }]);
      }
      const start = spec.after.length > 0 ? Math.max(...spec.after.map((d) => done[d] ?? 0)) : phaseEnd;
      const messageId = `m-${runId}-${step}`;
      drafts.push([start + 50, { type: 'step.requested', step, role: spec.role, messageId }]);
      const call = {
        role: spec.role,
        enqueuedAt: t0 + start + 60,
        startedAt: t0 + start + 60,
        endedAt: t0 + start + 260,
      };
      if (call.endedAt - t0 <= stop)
        await client.xadd(keys.custom('run', runId, 'llm'), '*', 'call', JSON.stringify(call));
      t = start + STEP_MS;
      done[step] = t;
      drafts.push([
        t,
        step === 'verify'
          ? { type: 'decision.made', decision: 'finish', by: 'director', rationale: 'ok', step: 'verify' }
          : { type: 'step.completed', step, role: spec.role, messageId },
      ]);
      if (step === 'research' || step === 'checkpoint') phaseEnd = t;
    }
    drafts.push([t + FINISH_MS, { type: 'run.finished', outcome: 'success' }]);
    const events = drafts
      .filter(([at]) => at <= stop)
      .sort((a, b) => a[0] - b[0])
      .map(([at, d]) => stamp(d, new Date(t0 + at).toISOString()));
    await createRunStore(client, keys).append(runId, 0, events);
    return Math.min(stop, t + FINISH_MS);
  } finally {
    client.disconnect();
  }
}
