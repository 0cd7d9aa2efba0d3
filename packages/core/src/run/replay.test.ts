import { describe, expect, it } from 'vitest';
import { created, Run } from '../test-support/run.js';
import { replay } from './replay.js';
import { DEFAULT_WORKFLOW_CONFIG } from './workflow.js';

/** A recorded run: P1 → P2 → P3 → P4 (revise) → P2 → P3 → P4 → finished, as the Director writes it. */
function recorded(): Run {
  const run = new Run().add(created);
  run.toPhase(4).verify('revise', 'address findings');
  run.settle();
  run.toPhase(4).verify('finish', 'done');
  const cmds = run.settle();
  const finish = cmds[0];
  if (finish?.kind === 'finish')
    run.add({ type: 'run.finished', outcome: finish.outcome, summary: finish.reason });
  return run;
}

describe('replay', () => {
  it('reaches the recorded states in the recorded order with no divergence', () => {
    const run = recorded();
    const result = replay(run.events);
    expect(result.divergence).toBeUndefined();
    expect(result.steps).toHaveLength(run.events.length);
    expect(result.final.status).toBe('finished');
    expect(result.final).toEqual(run.state);
    expect(result.steps.filter((s) => s.kind === 'output').length).toBeGreaterThan(10);
  });

  it('stops where asked and shows the state there (time travel)', () => {
    const run = recorded();
    const result = replay(
      run.events,
      DEFAULT_WORKFLOW_CONFIG,
      (e) => e.type === 'phase.started' && e.phase === 3,
    );
    expect(result.final.phase).toBe(3);
    expect(result.final.status).toBe('running');
  });

  it('reports the first divergent event when the transition rule changes', () => {
    const run = recorded();
    // A build where one iteration is the cap: after the first revise it must ask a human,
    // but the recording shows P2 starting again.
    const result = replay(run.events, { ...DEFAULT_WORKFLOW_CONFIG, maxIterations: 1 });
    expect(result.divergence).toBeDefined();
    expect(result.divergence?.event.type).toBe('phase.started');
    expect(result.divergence?.commanded).toEqual(['emit:run.waiting-human']);
    expect(result.divergence?.reason).toMatch(/not commanded/);
  });
});
