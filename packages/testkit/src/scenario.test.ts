// Rule matching (role, contains, predicate, times, order) and the ROLE: marker.
import { describe, expect, it } from 'vitest';
import { estimateTokens, extractRole, type MatchableRequest, Scenario } from './scenario.js';

type Req = MatchableRequest & { n: number };
const req = (role: string | null, text: string, n = 0): Req => ({ role, text, n });

describe('Scenario', () => {
  it('picks the first matching rule with uses left, then falls through', async () => {
    const s = new Scenario<Req, string>([
      { match: { role: 'Builder', contains: 'write' }, reply: 'tool', times: 1 },
      { match: { role: 'builder' }, reply: 'text' },
      { match: { contains: /^\d+$/ }, reply: (r) => `number ${r.text}` },
    ]);
    expect(await s.pick(req('builder', 'please write'))).toBe('tool');
    expect(await s.pick(req('builder', 'please write'))).toBe('text');
    expect(await s.pick(req('scout', '42'))).toBe('number 42');
    expect(await s.pick(req('scout', 'words'))).toBeUndefined();
  });

  it('supports predicates, async replies, add() and pendingRules', async () => {
    const s = new Scenario<Req, string>([
      { match: { predicate: (r) => r.n > 1 }, reply: async () => 'big', times: 2 },
    ]);
    expect(s.pendingRules).toBe(1);
    expect(await s.pick(req(null, '', 1))).toBeUndefined();
    expect(await s.pick(req(null, '', 2))).toBe('big');
    expect(await s.pick(req(null, '', 3))).toBe('big');
    expect(s.pendingRules).toBe(0);
    s.add({ reply: 'fallback' });
    expect(await s.pick(req(null, '', 4))).toBe('fallback');
    s.set([]);
    expect(await s.pick(req(null, '', 5))).toBeUndefined();
  });

  it('does not let a /g pattern skip matches between requests', async () => {
    const s = new Scenario<Req, string>([{ match: { contains: /go/g }, reply: 'hit' }]);
    expect(await s.pick(req(null, 'go'))).toBe('hit');
    expect(await s.pick(req(null, 'go'))).toBe('hit');
  });
});

describe('extractRole', () => {
  it('reads the ROLE: line case-insensitively, preferring the header', () => {
    expect(extractRole(undefined, 'You are helpful.\nrole: Architect\nMore.')).toBe('architect');
    expect(extractRole('Scout', 'ROLE: builder')).toBe('scout');
    expect(extractRole(undefined, 'no marker here')).toBeNull();
    expect(extractRole(undefined, undefined)).toBeNull();
  });
});

describe('estimateTokens', () => {
  it('is about chars/4, never 0 for non-empty text', () => {
    expect(estimateTokens(0)).toBe(0);
    expect(estimateTokens(1)).toBe(1);
    expect(estimateTokens(400)).toBe(100);
  });
});
