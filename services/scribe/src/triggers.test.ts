import { describe, expect, it } from 'vitest';
import { ScriptedRun } from './test-support/scripted-run.js';
import { checkpointTriggers } from './triggers.js';

/** Two iterations: a major finding sends the run back to P2, the second review is clean. */
function twoIterations(): ScriptedRun {
  const run = new ScriptedRun('run-t', { title: 'login form' });
  run.advance().complete('frame').advance().complete('design').advance().complete('research').advance();
  run.complete('build').complete('research-exec').advance().complete('checkpoint').advance();
  run
    .complete('refactor')
    .advance()
    .inspect([{ severity: 'major', description: 'no CSRF token' }]);
  run.advance().verify('revise').advance();
  run.complete('research-exec').complete('build').advance().complete('checkpoint').advance();
  run
    .complete('refactor')
    .advance()
    .inspect([{ severity: 'minor', description: 'rename a variable' }]);
  run.advance().verify('finish').advance();
  return run;
}

describe('checkpointTriggers', () => {
  it('finds exactly the guide triggers of a two-iteration run, in log order', () => {
    const run = twoIterations();
    expect(run.state.status).toBe('finished');
    const triggers = checkpointTriggers(run.events);
    expect(triggers.map((t) => t.key)).toEqual([
      'phase:1',
      'research:1:research',
      'phase:2',
      'build:2',
      'research:2:research-exec',
      'p2:2',
      'phase:3',
      'inspect:3',
      'phase:4',
      'phase:5',
      'research:5:research-exec',
      'build:5',
      'p2:5',
      'phase:6',
      // the second review found only a minor issue: not "significant" (guide §3), no checkpoint
      'phase:7',
      'end',
    ]);
    expect(triggers.map((t) => t.kind)).toEqual([
      'phase',
      'scout',
      'phase',
      'builder',
      'scout',
      'p2-checkpoint',
      'phase',
      'inspector',
      'phase',
      'phase',
      'scout',
      'builder',
      'p2-checkpoint',
      'phase',
      'phase',
      'end',
    ]);
    expect(triggers[0]?.trigger).toBe('Phase transition: 1 - Planning (iteration 1)');
    expect(triggers[7]?.trigger).toBe('Inspector found issues: 0 critical, 1 major, 0 minor (iteration 1)');
    expect(triggers[9]?.trigger).toBe('Phase transition: 2 - Execution (iteration 2)');
  });

  it('covers the event-log position of its trigger (the findings included) and dates it by the event', () => {
    const run = twoIterations();
    const versions = run.events.map((_, i) => i + 11); // stored versions need not start at 1
    const triggers = checkpointTriggers(run.events, versions);
    const inspect = triggers.find((t) => t.key === 'inspect:3');
    const findingIndex = run.events.findIndex((e) => e.type === 'review.finding');
    expect(inspect?.version).toBe(findingIndex + 11);
    expect(inspect?.at).toBe(run.events[findingIndex]?.at);
    expect(inspect?.state.findings.current).toHaveLength(1);
    const build = triggers.find((t) => t.key === 'build:2');
    expect(build?.state.progress.build?.done).toBe(true);
  });

  it('is prefix-stable: a shorter log gives a prefix of the same list (so CP-n never moves)', () => {
    const run = twoIterations();
    const full = checkpointTriggers(run.events).map((t) => t.key);
    for (let k = 0; k <= run.events.length; k++) {
      const part = checkpointTriggers(run.events.slice(0, k)).map((t) => t.key);
      expect(full.slice(0, part.length)).toEqual(part);
    }
  });

  it('ignores what the fold ignores and merges a retried checkpoint request into one milestone', () => {
    const run = new ScriptedRun('run-r');
    run.advance().complete('frame').advance().complete('design').advance().complete('research').advance();
    const build = run.state.inFlight.build?.messageId as string;
    run.complete('build').complete('research-exec');
    // A duplicate completion of the build (a redelivered answer) changes nothing.
    run.add({ type: 'step.completed', step: 'build', role: 'builder', messageId: build, output: 'again' });
    run.advance().fail('checkpoint', 'timeout: no answer from scribe').advance().complete('checkpoint');
    const triggers = checkpointTriggers(run.events);
    expect(triggers.filter((t) => t.kind === 'builder')).toHaveLength(1);
    const p2 = triggers.filter((t) => t.kind === 'p2-checkpoint');
    expect(p2).toHaveLength(1);
    expect(p2[0]?.requestIds).toEqual(['req_run-r_checkpoint_i1_a1', 'req_run-r_checkpoint_i1_a2']);
  });

  it('counts critical findings as significant and minor-only reviews as not', () => {
    const run = new ScriptedRun('run-c');
    run.advance().complete('frame').advance().complete('design').advance().complete('research').advance();
    run.complete('build').complete('research-exec').advance().complete('checkpoint').advance();
    run
      .complete('refactor')
      .advance()
      .inspect([
        { severity: 'critical', description: 'MD5 password hashing', file: 'src/auth.ts' },
        { severity: 'minor', description: 'typo' },
      ]);
    const inspect = checkpointTriggers(run.events).find((t) => t.kind === 'inspector');
    expect(inspect?.trigger).toBe('Inspector found issues: 1 critical, 0 major, 1 minor (iteration 1)');
  });
});
