import { describe, expect, it } from 'vitest';
import { created, kinds, Run, T0 } from '../test-support/run.js';
import type { RunEventDraft } from './events.js';
import { fold } from './fold.js';
import { DEFAULT_WORKFLOW_CONFIG, next } from './workflow.js';

describe('next: the phase edges', () => {
  it('waits for run.created, then starts P1 with the Director framing the goal', () => {
    expect(next(fold([]))).toEqual([{ kind: 'wait', on: 'run-created', reason: 'no run.created yet' }]);
    const run = new Run().add(created);
    expect(run.next()).toEqual([{ kind: 'emit', event: { type: 'phase.started', phase: 1, iteration: 1 } }]);
    run.settle();
    const [frame] = run.next();
    expect(frame).toMatchObject({
      kind: 'decide',
      step: 'frame',
      role: 'director',
      phase: 1,
      iteration: 1,
      attempt: 1,
    });
    expect(frame?.kind === 'decide' && frame.context.task).toBe('add login');
    expect(run.state.status).toBe('planning');
  });

  it('P1 is sequential: frame → design → research, then P1 → P2', () => {
    const run = new Run().add(created);
    run.settle();
    run.complete('frame');
    expect(kinds(run.next())).toEqual(['request:design']);
    run.request('design');
    expect(run.next()).toMatchObject([{ kind: 'wait', on: 'steps', steps: ['design'] }]);
    run.complete('design');
    const [research] = run.next();
    expect(research).toMatchObject({ kind: 'request', step: 'research', role: 'scout' });
    expect(research?.kind === 'request' && research.context.outputs).toEqual({
      frame: 'frame done',
      design: 'design done',
    });
    run.complete('research');
    expect(run.next()).toEqual([{ kind: 'emit', event: { type: 'phase.started', phase: 2, iteration: 1 } }]);
  });

  it('P2 runs Builder ‖ Scout, then the Scribe checkpoint, then P2 → P3', () => {
    const run = new Run().add(created).toPhase(2);
    expect(run.state).toMatchObject({ phase: 2, status: 'running' });
    expect(kinds(run.next())).toEqual(['request:build', 'request:research-exec']);
    run.request('build');
    expect(kinds(run.next())).toEqual(['request:research-exec']);
    run.request('research-exec');
    expect(run.next()).toMatchObject([{ kind: 'wait', steps: ['build', 'research-exec'] }]);
    run.complete('research-exec');
    expect(run.next()).toMatchObject([{ kind: 'wait', steps: ['build'] }]);
    run.complete('build');
    expect(run.next()).toMatchObject([{ kind: 'request', step: 'checkpoint', role: 'scribe' }]);
    run.complete('checkpoint');
    expect(run.next()).toEqual([{ kind: 'emit', event: { type: 'phase.started', phase: 3, iteration: 1 } }]);
  });

  it('P3 is refactor → inspect → verify, and the verify decision moves P3 → P4', () => {
    const run = new Run().add(created).toPhase(3);
    expect(kinds(run.next())).toEqual(['request:refactor']);
    run.complete('refactor');
    expect(kinds(run.next())).toEqual(['request:inspect']);
    run.complete('inspect');
    run.add({
      type: 'review.finding',
      severity: 'critical',
      file: 'auth.ts',
      description: 'MD5 passwords',
      from: 'inspector',
    });
    const [verify] = run.next();
    expect(verify).toMatchObject({ kind: 'decide', step: 'verify', phase: 3 });
    expect(verify?.kind === 'decide' && verify.context.findings.map((f) => f.description)).toEqual([
      'MD5 passwords',
    ]);
    run.verify('revise');
    expect(run.state.verdict).toBe('revise');
    expect(run.next()).toEqual([{ kind: 'emit', event: { type: 'phase.started', phase: 4, iteration: 1 } }]);
  });

  it('P4 revise → P2 of the next iteration, with the review findings in its context', () => {
    const run = new Run().add(created).toPhase(4);
    run.add({
      type: 'review.finding',
      severity: 'critical',
      description: 'MD5 passwords',
      from: 'inspector',
    });
    run.verify('revise', 'use bcrypt');
    expect(run.next()).toEqual([{ kind: 'emit', event: { type: 'phase.started', phase: 4, iteration: 1 } }]);
    run.add({ type: 'phase.started', phase: 4, iteration: 1 });
    expect(run.next()).toEqual([{ kind: 'emit', event: { type: 'phase.started', phase: 2, iteration: 2 } }]);
    run.settle();
    expect(run.state).toMatchObject({ phase: 2, iteration: 2, verdict: null, progress: {} });
    expect(run.state.findings.current).toEqual([]);
    const [build] = run.next();
    if (build?.kind !== 'request') throw new Error('expected a request');
    expect(build.context.findings.map((f) => f.description)).toEqual(['MD5 passwords']);
    expect(build.context.previousVerdict).toEqual({ decision: 'revise', rationale: 'use bcrypt' });
    expect(build.context.outputs.build).toBe('build done');
  });

  it('P4 continue also loops back; P4 finish → finished, then nothing is left to do', () => {
    const loop = new Run().add(created).toPhase(4).verify('continue');
    loop.settle();
    expect(loop.state).toMatchObject({ phase: 2, iteration: 2 });
    const run = new Run().add(created).toPhase(4).verify('finish', 'all good');
    run.settle();
    expect(run.next()).toEqual([{ kind: 'finish', outcome: 'success', reason: 'verified: all good' }]);
    run.add({ type: 'run.finished', outcome: 'success', summary: 'done' });
    expect(run.state).toMatchObject({ status: 'finished', outcome: 'success', summary: 'done' });
    expect(run.next()).toEqual([]);
  });

  it('at maxIterations a revise asks a human instead of looping; a human continue grants one more', () => {
    const run = new Run({ ...DEFAULT_WORKFLOW_CONFIG, maxIterations: 2 })
      .add(created)
      .toPhase(4)
      .verify('revise');
    run.settle();
    run.toPhase(4).verify('revise');
    expect(run.settle()).toMatchObject([{ kind: 'wait', on: 'human' }]);
    expect(run.state.status).toBe('waiting-human');
    expect(run.state.waiting).toMatchObject({ cause: 'max-iterations' });
    expect(run.state.phases.map((p) => p.phase)).toEqual([1, 2, 3, 4, 2, 3, 4]);
    run.add({ type: 'human.decided', decision: 'continue', note: 'one more try' });
    expect(run.state).toMatchObject({ status: 'running', extraIterations: 1 });
    expect(run.next()).toEqual([{ kind: 'emit', event: { type: 'phase.started', phase: 2, iteration: 3 } }]);
    run.settle();
    const [build] = run.next();
    expect(build?.kind === 'request' && build.context.humanNotes).toEqual(['one more try']);
  });

  it('at the cap a finish still finishes (the cap only stops loops)', () => {
    const run = new Run({ ...DEFAULT_WORKFLOW_CONFIG, maxIterations: 1 })
      .add(created)
      .toPhase(4)
      .verify('finish');
    expect(kinds(run.settle())).toEqual(['finish']);
  });
});

describe('next: budget', () => {
  const tiny: RunEventDraft = { ...created, budget: { maxTokens: 1 } };

  it('a run over its token budget waits for a human instead of starting more work', () => {
    const run = new Run().add(tiny);
    run.settle();
    run.complete('frame', { usage: { inputTokens: 40, outputTokens: 2 } });
    expect(run.state.budget.spent).toEqual({ tokens: 42, usd: 0 });
    const [cmd] = run.next();
    expect(cmd).toMatchObject({ kind: 'emit', event: { type: 'run.waiting-human', cause: 'budget' } });
    expect(cmd?.kind === 'emit' && 'reason' in cmd.event && cmd.event.reason).toContain('tokens 42 > 1');
    run.settle();
    expect(run.next()).toMatchObject([{ kind: 'wait', on: 'human' }]);
  });

  it('exactly at the limit is not over it', () => {
    const run = new Run().add(tiny);
    run.settle();
    run.complete('frame', { usage: { inputTokens: 1, outputTokens: 0 } });
    expect(kinds(run.next())).toEqual(['request:design']);
  });

  it('a human continue waives the overrun; new limits replace it instead', () => {
    const waived = new Run().add(tiny);
    waived.settle();
    waived.complete('frame', { usage: { inputTokens: 5, outputTokens: 5 } }).settle();
    waived.add({ type: 'human.decided', decision: 'continue' });
    expect(waived.state.budget.waived).toBe(true);
    expect(kinds(waived.next())).toEqual(['request:design']);

    const raised = new Run().add(tiny);
    raised.settle();
    raised.complete('frame', { usage: { inputTokens: 5, outputTokens: 5 } }).settle();
    raised.add({ type: 'human.decided', decision: 'continue', budget: { maxTokens: 100 } });
    expect(raised.state.budget).toMatchObject({ waived: false, limit: { maxTokens: 100 } });
    expect(kinds(raised.next())).toEqual(['request:design']);
  });

  it('an hours budget is judged at the time passed in (or the latest event)', () => {
    const run = new Run().add({ ...created, budget: { maxHours: 1 } });
    run.settle();
    expect(kinds(run.next(T0 + 3_600_000))).toEqual(['decide:frame']);
    expect(run.next(T0 + 3_700_000)).toMatchObject([{ kind: 'emit', event: { cause: 'budget' } }]);
  });

  it('finishing is allowed over budget', () => {
    const run = new Run().add(tiny).toPhase(4);
    run.add({ type: 'budget.used', tokens: 500, usd: 0.5 }).verify('finish');
    expect(kinds(run.settle())).toEqual(['finish']);
  });
});
