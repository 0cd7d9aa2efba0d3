import { ValidationError } from '@nightshift/protocol';
import { describe, expect, it } from 'vitest';
import { parseRunEvent, stamp } from './events.js';

describe('run events', () => {
  it('parse a valid event and drop unknown fields (old readers of newer logs)', () => {
    const e = parseRunEvent({
      type: 'phase.started',
      phase: 2,
      iteration: 1,
      at: '2026-01-28T03:45:00Z',
      extra: 1,
    });
    expect(e).toEqual({ type: 'phase.started', phase: 2, iteration: 1, at: '2026-01-28T03:45:00Z' });
  });

  it('reject a bad event with a ValidationError naming each field', () => {
    const bad = () => parseRunEvent({ type: 'phase.started', phase: 5, iteration: 0, at: 'yesterday' });
    expect(bad).toThrow(ValidationError);
    try {
      bad();
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      expect(error.problems.map((p) => p.path).sort()).toEqual(['at', 'iteration', 'phase']);
    }
    expect(() => parseRunEvent({ type: 'run.exploded', at: '2026-01-28T03:45:00Z' })).toThrow(
      ValidationError,
    );
    expect(() =>
      parseRunEvent({ type: 'run.created', runId: '123', task: 'x', at: '2026-01-28T03:45:00Z' }),
    ).toThrow(/runId/);
  });

  it('stamp adds the time and the log position to a draft', () => {
    expect(stamp({ type: 'run.paused' }, '2026-01-28T03:45:00.000Z', 4)).toEqual({
      type: 'run.paused',
      at: '2026-01-28T03:45:00.000Z',
      seq: 4,
    });
    expect(() => stamp({ type: 'run.paused' }, 'not a time')).toThrow(ValidationError);
  });
});
