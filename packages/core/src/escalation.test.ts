import { describe, expect, it } from 'vitest';
import { actionsFor, type EscalationRecord, escalate } from './escalation.js';

const detection = (level: 0 | 1 | 2 | 3 | 4, key = 'alert.run-1.stuck.builder.L1') => ({
  key,
  level,
  reason: 'why',
});
const unresolved = (key: string, n: number): EscalationRecord[] =>
  Array.from({ length: n }, () => ({ key, level: 1 as const, resolved: false }));

describe('escalate: the ladder (guide §4)', () => {
  it('L1 restarts the agent first, then reassigns the task', () => {
    expect(escalate(0, detection(1), [])).toMatchObject({
      level: 1,
      actions: ['restart-agent'],
      toHuman: false,
    });
    const again = escalate(1, detection(1), unresolved('alert.run-1.stuck.builder.L1', 1));
    expect(again).toMatchObject({ level: 1, actions: ['reassign-task'], attempts: 1 });
  });

  it('L2 pauses the others and calls an emergency meeting the Director mediates; a retry restarts the phase', () => {
    expect(escalate(0, detection(2, 'k2'), []).actions).toEqual([
      'pause-others',
      'emergency-meeting',
      'director-mediates',
    ]);
    expect(escalate(2, detection(2, 'k2'), unresolved('k2', 1)).actions).toContain('restart-phase');
  });

  it('L3 pauses everything, dumps state, summarises for and waits on a human', () => {
    expect(escalate(0, detection(3), [])).toEqual({
      level: 3,
      actions: ['pause-all', 'state-dump', 'human-summary', 'notify-human', 'wait-human'],
      toHuman: true,
      humanReasons: [],
      attempts: 0,
      reason: 'why',
    });
  });

  it('L4 shuts down gracefully with the state preserved', () => {
    expect(escalate(1, detection(4), []).actions).toEqual([
      'graceful-shutdown',
      'preserve-state',
      'notify-human',
    ]);
  });

  it('never lowers the level; a smaller issue under L3 waits instead of acting', () => {
    const r = escalate(3, detection(1), []);
    expect(r).toMatchObject({ level: 3, actions: [] });
    expect(r.reason).toMatch(/^deferred at L3/);
    expect(escalate(2, detection(1), [])).toMatchObject({ level: 2, actions: ['restart-agent'] });
  });
});

describe('escalate: to a human (guide §3)', () => {
  it('after 2 unresolved attempts, not after 1; resolved ones do not count', () => {
    const key = 'alert.run-1.stuck.builder.L1';
    expect(escalate(1, detection(1), unresolved(key, 1)).toHuman).toBe(false);
    const two = escalate(1, detection(1), unresolved(key, 2));
    expect(two).toMatchObject({ level: 3, toHuman: true, humanReasons: ['unresolved-after-attempts'] });
    expect(two.actions).toEqual(actionsFor(3, 2));
    const resolved = [...unresolved(key, 1), { key, level: 1 as const, resolved: true }];
    expect(escalate(1, detection(1), resolved).toHuman).toBe(false);
    expect(escalate(1, detection(1), unresolved('other-key', 5)).toHuman).toBe(false);
  });

  it.each([
    ['irreversible', { irreversible: true }],
    ['no-consensus', { noConsensus: true }],
    ['budget-exceeded', { budgetExceeded: true }],
  ] as const)('for %s', (reason, situation) => {
    const r = escalate(0, detection(2), [], situation);
    expect(r).toMatchObject({ level: 3, toHuman: true, humanReasons: [reason] });
    expect(r.reason).toContain(reason);
  });

  it('a human reason leaves L4 at L4', () => {
    expect(escalate(0, detection(4), [], { irreversible: true }).level).toBe(4);
  });
});
