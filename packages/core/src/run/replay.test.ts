import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { created, Run } from '../test-support/run.js';
import { fold } from './fold.js';
import type { StepId } from './steps.js';
import { next } from './workflow.js';

interface Pending {
  readonly step: StepId;
  readonly role: string;
  readonly messageId: string;
}

/**
 * Plays the Director against `next` with a scripted team: the inspector finds a bug in the first
 * review, the first verify says revise and the second finish. `g` decides everything the real
 * world would: which answer comes first, failures (fewer than the retry cap), duplicate and late
 * deliveries, pauses, and Director restarts (a fresh fold of the log, next called twice).
 */
function play(g: fc.GeneratorValue): Run {
  const run = new Run().add(created);
  const pending: Pending[] = [];
  const failures = new Map<string, number>();
  let verifies = 0;
  let ids = 0;
  for (let guard = 0; guard < 500; guard++) {
    if (g(fc.nat, 9) === 0) run.add({ type: 'run.paused' }, { type: 'run.resumed' });
    const state = g(fc.boolean) ? fold(run.events) : run.state;
    const cmds = next(state);
    expect(next(state)).toEqual(cmds);
    if (cmds.length === 0) return run;
    for (const cmd of cmds) {
      if (cmd.kind === 'emit') run.add(cmd.event);
      else if (cmd.kind === 'finish') run.add({ type: 'run.finished', outcome: cmd.outcome });
      else if (cmd.kind === 'decide' && cmd.step === 'verify') {
        verifies += 1;
        run.add({
          type: 'decision.made',
          decision: verifies === 1 ? 'revise' : 'finish',
          by: 'director',
          rationale: 'r',
          step: 'verify',
        });
      } else if (cmd.kind === 'request' || cmd.kind === 'decide') {
        ids += 1;
        const messageId = `msg-${ids}`;
        run.add({ type: 'step.requested', step: cmd.step, role: cmd.role, messageId });
        pending.push({ step: cmd.step, role: cmd.role, messageId });
      } else if (cmd.kind === 'wait') {
        expect(cmd.on).toBe('steps');
      }
      if (cmd.kind === 'emit' || cmd.kind === 'finish') break;
    }
    if (pending.length === 0) continue;
    const [answer] = pending.splice(g(fc.nat, pending.length - 1), 1);
    if (!answer) continue;
    const { step, messageId } = answer;
    const role = answer.role as 'director';
    const key = `${run.state.iteration}:${step}`;
    const failed = failures.get(key) ?? 0;
    if (failed < 2 && g(fc.nat, 3) === 0) {
      failures.set(key, failed + 1);
      run.add({ type: 'step.failed', step, role, messageId, reason: 'flaky' });
      continue;
    }
    run.add({
      type: 'step.completed',
      step,
      role,
      messageId,
      output: step,
      usage: { inputTokens: 3, outputTokens: 2 },
    });
    if (g(fc.boolean)) run.add({ type: 'step.completed', step, role, messageId, output: 'duplicate' });
    if (g(fc.nat, 4) === 0)
      run.add({ type: 'step.completed', step, role, messageId: 'msg-late', output: 'stale' });
    if (step === 'inspect' && run.state.iteration === 1) {
      run.add({
        type: 'review.finding',
        severity: 'critical',
        description: 'MD5 passwords',
        from: 'inspector',
      });
    }
  }
  throw new Error('the run did not end');
}

describe('replaying a scripted full run', () => {
  it('always yields P1 → P2 → P3 → P4 → P2 → P3 → P4 → finished, each step applied once', () => {
    fc.assert(
      fc.property(fc.gen(), (g) => {
        const run = play(g);
        const state = fold(run.events);
        expect(state.phases.map((p) => `P${p.phase}`)).toEqual(['P1', 'P2', 'P3', 'P4', 'P2', 'P3', 'P4']);
        expect(state.status).toBe('finished');
        const applied = state.completed.map((c) => `${c.iteration}:${c.step}`);
        expect(new Set(applied).size).toBe(applied.length);
        expect(applied).toHaveLength(3 + 2 * 6);
        expect(state.decisions.filter((d) => d.step === 'verify').map((d) => d.decision)).toEqual([
          'revise',
          'finish',
        ]);
        const secondBuild = state.completed.find((c) => c.iteration === 2 && c.step === 'build');
        expect(secondBuild).toBeDefined();
      }),
      { numRuns: 200 },
    );
  });
});
