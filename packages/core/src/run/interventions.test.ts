import { describe, expect, it } from 'vitest';
import { created, kinds, Run, T0 } from '../test-support/run.js';
import { DEFAULT_ROLE_TIMEOUTS_MS, overdueSteps } from './timeouts.js';
import { next } from './workflow.js';

/** Runs stopped at every kind of point: mid-P1, P2 with steps in flight, P3, P4, waiting, paused. */
function checkpoints(): Array<[string, Run]> {
  const p1 = new Run().add(created);
  p1.settle();
  p1.complete('frame');
  const p2 = new Run().add(created).toPhase(2);
  p2.request('build');
  p2.request('research-exec');
  const p3 = new Run().add(created).toPhase(3);
  const p4 = new Run().add(created).toPhase(4);
  const waiting = new Run().add(created).toPhase(4).verify('escalate');
  waiting.settle();
  const paused = new Run().add(created).toPhase(3).add({ type: 'run.paused' });
  return [
    ['P1', p1],
    ['P2 with steps in flight', p2],
    ['P3', p3],
    ['P4 before verify', p4],
    ['waiting-human', waiting],
    ['paused', paused],
  ];
}

describe('abort anywhere', () => {
  it.each(checkpoints())('a Director abort in %s finishes the run as aborted', (_where, run) => {
    run.add({ type: 'decision.made', decision: 'abort', by: 'director', rationale: 'unsafe' });
    expect(run.next()).toEqual([{ kind: 'finish', outcome: 'aborted', reason: 'director: unsafe' }]);
    run.add({ type: 'run.finished', outcome: 'aborted' });
    expect(run.state.status).toBe('aborted');
    expect(run.next()).toEqual([]);
  });

  it.each(checkpoints())('a human abort in %s finishes the run as aborted', (_where, run) => {
    run.add({ type: 'human.decided', decision: 'abort', note: 'stop it' });
    expect(run.next()).toEqual([{ kind: 'finish', outcome: 'aborted', reason: 'human: stop it' }]);
  });

  it('events after the end change nothing but accounting', () => {
    const run = new Run().add(created).add({ type: 'run.finished', outcome: 'aborted' });
    run.add({ type: 'phase.started', phase: 2, iteration: 1 }, { type: 'budget.used', tokens: 7, usd: 0.01 });
    expect(run.state).toMatchObject({
      status: 'aborted',
      phase: null,
      budget: { spent: { tokens: 7, usd: 0.01 } },
    });
    expect(run.state.ignored).toEqual([{ version: 3, type: 'phase.started', reason: 'run is aborted' }]);
  });
});

describe('waiting for a human', () => {
  const escalated = () => {
    const run = new Run().add(created).toPhase(4).verify('escalate', 'split team');
    expect(run.next()).toMatchObject([
      { kind: 'emit', event: { type: 'run.waiting-human', cause: 'escalated' } },
    ]);
    run.settle();
    expect(run.state).toMatchObject({
      status: 'waiting-human',
      waiting: { cause: 'escalated', reason: 'split team' },
    });
    expect(run.next()).toEqual([{ kind: 'wait', on: 'human', reason: 'split team' }]);
    return run;
  };

  it('human continue → the next iteration', () => {
    const run = escalated().add({ type: 'human.decided', decision: 'continue' });
    expect(run.state).toMatchObject({ status: 'running', verdict: 'continue', waiting: null });
    run.settle();
    expect(run.state).toMatchObject({ phase: 2, iteration: 2 });
  });

  it('human revise → the next iteration with the note in the context', () => {
    const run = escalated().add({ type: 'human.decided', decision: 'revise', note: 'use bcrypt' });
    run.settle();
    const [build] = run.next();
    expect(build?.kind === 'request' && build.context.humanNotes).toEqual(['use bcrypt']);
    expect(run.state.humanDecisions).toMatchObject([{ decision: 'revise', answered: 'escalated' }]);
  });

  it('human finish → finished; human abort → aborted', () => {
    expect(escalated().add({ type: 'human.decided', decision: 'finish' }).next()).toMatchObject([
      { kind: 'finish', outcome: 'success' },
    ]);
    expect(escalated().add({ type: 'human.decided', decision: 'abort' }).next()).toMatchObject([
      { kind: 'finish', outcome: 'aborted' },
    ]);
  });

  it('a Director escalate outside verify, and an L3 alert, both wait for a human', () => {
    const run = new Run().add(created).toPhase(2);
    run.add({ type: 'decision.made', decision: 'escalate', by: 'director', rationale: 'agents disagree' });
    expect(run.next()).toMatchObject([
      { kind: 'emit', event: { cause: 'escalated', reason: 'agents disagree' } },
    ]);
    const alert = new Run().add(created).toPhase(2);
    alert.add({ type: 'alert.raised', level: 3, code: 'resources.memory', reason: 'memory 95%' });
    expect(alert.next()).toMatchObject([
      { kind: 'emit', event: { type: 'run.waiting-human', cause: 'alert' } },
    ]);
    alert.settle();
    alert.add({ type: 'human.decided', decision: 'continue' });
    expect(kinds(alert.next())).toEqual(['request:build', 'request:research-exec']);
  });

  it('an L4 alert fails the run; lower alerts leave the workflow alone', () => {
    const run = new Run().add(created).toPhase(2);
    run.add({ type: 'alert.raised', level: 2, code: 'quality.design-flaw', reason: 'flaw' });
    expect(kinds(run.next())).toEqual(['request:build', 'request:research-exec']);
    run.add({ type: 'alert.raised', level: 4, code: 'fatal', reason: 'disk gone' });
    expect(run.next()).toEqual([{ kind: 'finish', outcome: 'failed', reason: 'alert fatal: disk gone' }]);
  });

  it('a human answer while not waiting is recorded and changes nothing', () => {
    const run = new Run().add(created).toPhase(2);
    const before = run.next();
    run.add({ type: 'human.decided', decision: 'continue' });
    expect(run.next()).toEqual(before);
    expect(run.state.humanDecisions).toMatchObject([{ answered: null }]);
  });
});

describe('pause and resume', () => {
  it('a paused run does nothing until resumed, then picks up where it was', () => {
    const run = new Run().add(created).toPhase(2);
    const before = run.next();
    run.add({ type: 'run.paused', reason: 'emergency' });
    expect(run.state.status).toBe('paused');
    expect(run.next()).toEqual([{ kind: 'wait', on: 'resume', reason: 'the run is paused' }]);
    run.add({ type: 'run.resumed' });
    expect(run.state.status).toBe('running');
    expect(run.next()).toEqual(before);
  });

  it('pausing a waiting run resumes into waiting; a stray resume is ignored', () => {
    const run = new Run().add(created).toPhase(4).verify('escalate');
    run.settle();
    run.add({ type: 'run.paused' }, { type: 'run.resumed' }, { type: 'run.resumed' });
    expect(run.state.status).toBe('waiting-human');
    expect(run.state.ignored.map((i) => i.reason)).toEqual(['not paused (waiting-human)']);
  });
});

describe('failed steps', () => {
  it('are retried with the attempt count and the last error, then handed to a human', () => {
    const run = new Run().add(created).toPhase(2);
    run.request('research-exec');
    run.fail('build', 'tests failed');
    expect(run.state.progress.build).toMatchObject({
      attempts: 1,
      failures: 1,
      done: false,
      lastError: 'tests failed',
    });
    const [retry] = run.next();
    expect(retry).toMatchObject({ kind: 'request', step: 'build', attempt: 2 });
    expect(retry?.kind === 'request' && retry.context.lastError).toBe('tests failed');
    run.fail('build', 'again').fail('build', 'and again');
    expect(run.state.progress.build).toMatchObject({ attempts: 3, failures: 3 });
    expect(run.next()).toMatchObject([
      { kind: 'emit', event: { type: 'run.waiting-human', cause: 'step-failed', step: 'build' } },
    ]);
    run.settle();
    run.add({ type: 'human.decided', decision: 'continue' });
    expect(run.next()).toMatchObject([{ kind: 'request', step: 'build', attempt: 4 }]);
  });

  it('a failure that does not answer the request in flight is ignored', () => {
    const run = new Run().add(created).toPhase(2);
    run.request('build');
    run.add({ type: 'step.failed', step: 'build', role: 'builder', messageId: 'msg-old', reason: 'late' });
    expect(run.state.progress.build).toMatchObject({ failures: 0 });
    expect(run.state.ignored.at(-1)?.reason).toBe('no request msg-old in flight');
  });
});

describe('idempotence and stale answers', () => {
  it('next is a pure function of the state and never re-requests a step in flight', () => {
    const run = new Run().add(created).toPhase(2);
    expect(run.next()).toEqual(run.next());
    const id = run.request('build');
    expect(kinds(run.next())).toEqual(['request:research-exec']);
    run.add({ type: 'step.requested', step: 'build', role: 'builder', messageId: id });
    expect(run.state.progress.build?.attempts).toBe(1);
    expect(run.state.ignored.at(-1)?.reason).toBe(`duplicate request ${id}`);
  });

  it('a duplicate or stale completion is not applied twice, but stale tokens are still counted', () => {
    const run = new Run().add(created).toPhase(2);
    const id = run.request('build');
    const usage = { inputTokens: 10, outputTokens: 5 };
    run.add({ type: 'step.completed', step: 'build', role: 'builder', messageId: id, usage });
    run.add({ type: 'step.completed', step: 'build', role: 'builder', messageId: id, usage });
    run.add({ type: 'step.completed', step: 'build', role: 'builder', messageId: 'msg-stale', usage });
    expect(run.state.completed.filter((c) => c.step === 'build')).toHaveLength(1);
    expect(run.state.budget.spent.tokens).toBe(30);
    expect(run.state.ignored.map((i) => i.reason)).toEqual([
      `duplicate completion ${id}`,
      'build is already done in iteration 1',
    ]);
  });

  it('a phase restart in the same iteration runs that phase again', () => {
    const run = new Run().add(created).toPhase(3);
    run.complete('refactor');
    run.add({ type: 'phase.started', phase: 2, iteration: 1 });
    expect(kinds(run.next())).toEqual(['request:build', 'request:research-exec']);
    expect(run.state.progress.refactor).toBeUndefined();
  });
});

describe('overdueSteps', () => {
  it('lists requests older than their role timeout (guide §7), exactly at the timeout is not overdue', () => {
    const run = new Run().add(created).toPhase(2);
    run.request('build');
    run.request('research-exec');
    const sent = Date.parse(run.state.inFlight['research-exec']?.requestedAt ?? '');
    expect(overdueSteps(run.state, sent + DEFAULT_ROLE_TIMEOUTS_MS.scout)).toEqual([]);
    expect(overdueSteps(run.state, sent + DEFAULT_ROLE_TIMEOUTS_MS.scout + 1).map((o) => o.step)).toEqual([
      'research-exec',
    ]);
    expect(next(run.state)).toMatchObject([{ kind: 'wait' }]);
    expect(T0).toBeLessThan(sent);
  });
});
