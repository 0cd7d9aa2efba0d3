import { describe, expect, it } from 'vitest';
import { voteFrom } from './votes.js';

describe('voteFrom', () => {
  it('parses a structured vote and normalises the option', () => {
    expect(voteFrom('inspector', { option: ' Revise ', confidence: '0.8', rationale: ' MD5 ' })).toEqual({
      voter: 'inspector',
      option: 'revise',
      confidence: 0.8,
      rationale: 'MD5',
    });
  });

  it('turns a missing or malformed vote into an abstention with the reason, never a throw', () => {
    expect(voteFrom('builder', undefined)).toEqual({ voter: 'builder', abstain: true, reason: 'no vote' });
    expect(voteFrom('builder', { abstain: true })).toEqual({
      voter: 'builder',
      abstain: true,
      reason: 'abstained',
    });
    const bad = voteFrom('builder', { option: '', confidence: 3 });
    expect(bad).toMatchObject({ voter: 'builder', abstain: true });
    expect('reason' in bad && bad.reason).toMatch(/^malformed vote: .*option.*confidence/);
    expect(voteFrom('builder', 'approve')).toMatchObject({ abstain: true });
  });
});
