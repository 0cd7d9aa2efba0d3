import { ValidationError } from '@nightshift/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { adjustTrust, belowEmergency, DEFAULT_TRUST_CONFIG, TRUST_OUTCOMES, trustChanged } from './trust.js';

describe('adjustTrust', () => {
  it('a critical bug in own work costs 2, as in the guide §5 example', () => {
    expect(adjustTrust(7, 'critical-bug-in-own-work', DEFAULT_TRUST_CONFIG, 'MD5 for passwords')).toEqual({
      from: 7,
      to: 5,
      delta: -2,
      outcome: 'critical-bug-in-own-work',
      reason: 'critical bug found in own work (-2): MD5 for passwords',
    });
  });

  it('moves one step for the other outcomes', () => {
    const moves = TRUST_OUTCOMES.map((o) => adjustTrust(7, o).delta);
    expect(moves).toEqual([1, -2, -1, -1, 1, -1]);
  });

  it('clamps at the bounds and says so', () => {
    expect(adjustTrust(10, 'accepted-work')).toMatchObject({
      to: 10,
      delta: 0,
      reason: 'work accepted (+1, clamped to 10)',
    });
    expect(adjustTrust(1, 'critical-bug-in-own-work')).toMatchObject({ to: 1, delta: 0 });
    expect(adjustTrust(2, 'critical-bug-in-own-work')).toMatchObject({ to: 1, delta: -1 });
    expect(() => adjustTrust(Number.NaN, 'timeout')).toThrow(ValidationError);
  });

  it('always stays in [1, 10] whatever the history', () => {
    fc.assert(
      fc.property(
        fc.double({ min: -100, max: 100, noNaN: true }),
        fc.array(fc.constantFrom(...TRUST_OUTCOMES), { maxLength: 50 }),
        (start, outcomes) => {
          let score = start;
          for (const o of outcomes) {
            const a = adjustTrust(score, o);
            expect(a.to).toBeGreaterThanOrEqual(1);
            expect(a.to).toBeLessThanOrEqual(10);
            expect(a.to - a.from).toBe(a.delta);
            score = a.to;
          }
        },
      ),
    );
  });
});

describe('belowEmergency', () => {
  it('fires below 3, not at 3 (guide §3)', () => {
    expect(belowEmergency(2)).toBe(true);
    expect(belowEmergency(3)).toBe(false);
  });
});

describe('trustChanged', () => {
  it('builds the event with its reason and source message', () => {
    const a = adjustTrust(7, 'critical-bug-in-own-work');
    expect(trustChanged('builder', a, 'msg-42')).toEqual({
      type: 'trust.changed',
      role: 'builder',
      from: 7,
      to: 5,
      delta: -2,
      reason: a.reason,
      sourceMessageId: 'msg-42',
    });
  });
});
