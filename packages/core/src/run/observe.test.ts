import { describe, expect, it } from 'vitest';
import { DEFAULT_DETECTION_THRESHOLDS, detect } from '../detection.js';
import { created, Run } from '../test-support/run.js';
import { observeRun } from './observe.js';

describe('observeRun', () => {
  it('feeds detect with the run’s attempts, phase time, trust and critical findings', () => {
    const run = new Run({ maxIterations: 5, maxStepAttempts: 10 })
      .add({ ...created, trust: { builder: 2 } })
      .toPhase(2);
    for (let i = 0; i < 6; i++) run.fail('build');
    for (let i = 0; i < 6; i++) {
      run.add({ type: 'review.finding', severity: 'critical', description: `bug ${i}`, from: 'inspector' });
    }
    const o = observeRun(run.state);
    expect(o).toMatchObject({ runId: 'run-1', phase: { phase: 2, iteration: 1, expectedMs: 1_800_000 } });
    const startedAt = Date.parse(run.state.phaseStartedAt ?? '');
    const found = detect(o, DEFAULT_DETECTION_THRESHOLDS, startedAt + 3_600_001).map((d) => d.rule);
    expect(found.sort()).toEqual([
      'emergency.trust-low',
      'quality.critical-bugs',
      'runaway.attempts',
      'runaway.phase-duration',
    ]);
    expect(detect(o, DEFAULT_DETECTION_THRESHOLDS, startedAt + 3_600_000).map((d) => d.rule)).not.toContain(
      'runaway.phase-duration',
    );
  });
});
