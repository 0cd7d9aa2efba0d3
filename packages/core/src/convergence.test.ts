import { ROLES, type Role, ValidationError } from '@nightshift/protocol';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { converged, DEFAULT_CONVERGENCE, disagreement, supermajorityNeeded } from './convergence.js';
import type { Vote } from './votes.js';

const SEVEN = ROLES; // 7 voters, as in the guide's "5/7"
const vote = (voter: Role, option: string, confidence = 1, rationale = `${voter} on ${option}`): Vote => ({
  voter,
  option,
  confidence,
  rationale,
});
/** `agree` voters for A, the rest for B, every trust 7 unless given. */
const split = (agree: number, confidence = 1): Vote[] =>
  SEVEN.map((r, i) => vote(r, i < agree ? 'A' : 'B', confidence));
const even: Record<string, number> = Object.fromEntries(SEVEN.map((r) => [r, 7]));

/**
 * 4 of 7 for A with trust chosen so A's trust-weighted share is exactly `share`:
 * A voters get trust `share`/4 × 10, B voters `(1 − share)`/3 × 10 (confidence 1).
 */
function fourOfSeven(share: number): { votes: Vote[]; trust: Record<string, number> } {
  const votes = split(4);
  const trust = Object.fromEntries(
    SEVEN.map((r, i) => [r, i < 4 ? (share / 4) * 10 : ((1 - share) / 3) * 10]),
  );
  return { votes, trust };
}

describe('converged: the guide §6 table', () => {
  it('7/7 agree → unanimous in round 1', () => {
    expect(converged(split(7), even, 1)).toMatchObject({
      converged: true,
      decision: 'A',
      rule: 'unanimous',
      dissent: [],
    });
  });

  it('5/7 agree → converged by supermajority, dissent noted', () => {
    const r = converged(split(5), even, 1);
    expect(r).toMatchObject({ converged: true, decision: 'A', rule: 'supermajority', needed: 5 });
    expect(r.dissent).toEqual(['inspector', 'scribe']);
    expect(r.note).toMatch(/^dissent: /);
  });

  it('4/7 with trust-weighted share 0.72 → converged by weight', () => {
    const { votes, trust } = fourOfSeven(0.72);
    const r = converged(votes, trust, 1);
    expect(r).toMatchObject({ converged: true, decision: 'A', rule: 'trust-weighted' });
    expect(r.share).toBeCloseTo(0.72, 10);
  });

  it('4/7 with 0.6 → continue to the next round', () => {
    const { votes, trust } = fourOfSeven(0.6);
    expect(converged(votes, trust, 1)).toMatchObject({ converged: false, decision: null, rule: 'continue' });
  });

  it('a share of exactly 0.7 is not above the threshold; just above is', () => {
    const votes = [vote('builder', 'A'), vote('inspector', 'B')];
    const at = converged(votes, { builder: 7, inspector: 3 }, 1);
    expect(at).toMatchObject({ share: 0.7, rule: 'continue' });
    expect(converged(votes, { builder: 7.01, inspector: 3 }, 1)).toMatchObject({
      rule: 'trust-weighted',
      decision: 'A',
    });
  });

  it('supermajority scales to the voters present: ceil(n × 5/7), abstainers count as present', () => {
    expect([1, 2, 3, 4, 5, 6, 7].map((n) => supermajorityNeeded(n))).toEqual([1, 2, 3, 3, 4, 5, 5]);
    const five: Vote[] = [
      vote('director', 'A'),
      vote('architect', 'A'),
      vote('scout', 'A'),
      vote('builder', 'A'),
      vote('inspector', 'B'),
    ];
    expect(converged(five, even, 1)).toMatchObject({ rule: 'supermajority', needed: 4 });
    const withAbstention: Vote[] = [
      ...five.slice(0, 3),
      { voter: 'builder', abstain: true },
      vote('inspector', 'B'),
    ];
    // 3 of 5 vote A: short of 4; A's weight 21 of 31 is under 0.7 with a trusted dissenter.
    expect(converged(withAbstention, { ...even, inspector: 10 }, 1)).toMatchObject({
      rule: 'continue',
      needed: 4,
      abstained: ['builder'],
    });
  });

  it('round 3 without agreement → max-rounds: the Director decides and the controversy is noted', () => {
    const { votes, trust } = fourOfSeven(0.6);
    const r = converged(votes, trust, 3, [votes, votes]);
    expect(r).toMatchObject({ converged: true, decision: null, directorDecides: true, rule: 'max-rounds' });
    expect(r.note).toContain('no convergence after 3 rounds: A 4 (0.60), B 3 (0.40)');
  });

  it('stable: nobody moved since the last round → take the current leader', () => {
    const { votes, trust } = fourOfSeven(0.6);
    const again = votes.map((v) => ('abstain' in v ? v : { ...v, rationale: `${v.rationale}, restated` }));
    expect(converged(again, trust, 2, [votes])).toMatchObject({
      converged: true,
      decision: 'A',
      rule: 'stable',
    });
  });

  it('a tie under stable hands the decision to the Director', () => {
    const tie = [vote('builder', 'A'), vote('inspector', 'B')];
    expect(converged(tie, even, 2, [tie])).toMatchObject({
      rule: 'stable',
      decision: null,
      directorDecides: true,
    });
  });

  it('diminishing returns: someone moved but no new argument was made', () => {
    const round1 = [
      vote('builder', 'A', 1, 'x'),
      vote('inspector', 'B', 1, 'y'),
      vote('scout', 'B', 1, 'z'),
      vote('architect', 'A', 1, 'w'),
    ];
    const round2 = [
      vote('builder', 'A', 1, 'x'),
      vote('inspector', 'B', 1, 'y'),
      vote('scout', 'A', 1, '  W '),
      vote('architect', 'B', 1, 'z'),
    ];
    expect(converged(round2, even, 2, [round1])).toMatchObject({
      rule: 'diminishing-returns',
      decision: null,
    });
    const round2b = [...round2.slice(0, 3), vote('architect', 'A', 1, 'z')];
    expect(converged(round2b, even, 2, [round1])).toMatchObject({ rule: 'supermajority', decision: 'A' });
    const fresh = [...round2.slice(0, 3), vote('architect', 'B', 1, 'a new point')];
    expect(converged(fresh, even, 2, [round1])).toMatchObject({ rule: 'continue' });
  });

  it('rejects a bad round, a duplicate voter and a confidence out of range', () => {
    expect(() => converged(split(7), even, 0)).toThrow(ValidationError);
    expect(() => converged([vote('builder', 'A'), vote('builder', 'B')], even, 1)).toThrow(
      /one vote per voter/,
    );
    expect(() => converged([vote('builder', 'A', 1.5)], even, 1)).toThrow(ValidationError);
  });
});

const option = fc.constantFrom('approve', 'revise', 'escalate');
const ballot: fc.Arbitrary<Vote[]> = fc.subarray([...ROLES], { minLength: 1 }).chain((voters) =>
  fc.tuple(
    ...voters.map((voter) =>
      fc.oneof(
        {
          weight: 5,
          arbitrary: fc.record({
            voter: fc.constant(voter),
            option,
            confidence: fc.double({ min: 0, max: 1, noNaN: true }),
            rationale: fc.constantFrom('a', 'b', 'c'),
          }),
        },
        { weight: 1, arbitrary: fc.constant({ voter, abstain: true as const }) },
      ),
    ),
  ),
);
const trustTable = fc.dictionary(fc.constantFrom(...ROLES), fc.integer({ min: 1, max: 10 }));

describe('converged: properties', () => {
  it('never continues at or past maxRounds', () => {
    fc.assert(
      fc.property(
        ballot,
        trustTable,
        fc.integer({ min: DEFAULT_CONVERGENCE.maxRounds, max: 20 }),
        fc.array(ballot, { maxLength: 3 }),
        (votes, trust, round, history) => {
          const r = converged(votes, trust, round, history);
          expect(r.converged).toBe(true);
          expect(r.rule).not.toBe('continue');
        },
      ),
    );
  });

  it('unanimous input always converges in round 1', () => {
    fc.assert(
      fc.property(fc.subarray([...ROLES], { minLength: 1 }), option, trustTable, (voters, choice, trust) => {
        const votes = voters.map((v) => vote(v, choice, 0.5));
        expect(converged(votes, trust, 1)).toMatchObject({
          converged: true,
          decision: choice,
          rule: 'unanimous',
        });
      }),
    );
  });

  it('is invariant to the order of votes', () => {
    fc.assert(
      fc.property(
        ballot,
        trustTable,
        fc.integer({ min: 1, max: 4 }),
        fc.array(ballot, { maxLength: 2 }),
        (votes, trust, round, history) => {
          const shuffled = [...votes].reverse();
          expect(converged(shuffled, trust, round, history)).toEqual(converged(votes, trust, round, history));
        },
      ),
    );
  });

  it('a converged decision, when present, is an option someone voted for', () => {
    fc.assert(
      fc.property(ballot, trustTable, fc.integer({ min: 1, max: 4 }), (votes, trust, round) => {
        const r = converged(votes, trust, round);
        if (r.decision !== null)
          expect(votes.some((v) => 'option' in v && v.option === r.decision)).toBe(true);
        expect(r.share).toBeGreaterThanOrEqual(0);
        expect(r.share).toBeLessThanOrEqual(1 + 1e-12);
      }),
    );
  });
});

describe('disagreement', () => {
  it('is 1 − the leading trust-weighted share', () => {
    expect(disagreement(split(7), even)).toBe(0);
    expect(disagreement(fourOfSeven(0.6).votes, fourOfSeven(0.6).trust)).toBeCloseTo(0.4, 10);
    expect(disagreement([{ voter: 'builder', abstain: true }], even)).toBe(0);
  });
});
