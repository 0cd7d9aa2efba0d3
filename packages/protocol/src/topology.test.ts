import { describe, expect, it } from 'vitest';
import { TopologyViolation } from './errors.js';
import { MESSAGE_TYPES, type MessageType } from './message.js';
import { EXTERNAL_SENDERS, type Recipient, ROLES, type Sender } from './roles.js';
import { assertRoute, checkRoute } from './topology.js';

// The guide's §5 rules, restated independently of topology.ts so the table is checked, not copied.
const peers = new Set(['builder', 'refactorer', 'inspector']);
function guideAllows(from: Sender, to: Recipient, type: MessageType, phase?: number): boolean {
  if (from === to) return false;
  if (type === 'DECISION') return from === 'director' || from === 'human'; // Director broadcasts decisions
  if (type === 'REQUEST' && (to === 'ALL' || to === 'director')) return false; // work goes to one worker queue
  if (from === 'director') return type !== 'RESPONSE'; // coordinates everyone; takes no REQUESTs to answer
  if (from === 'human') return type === 'REQUEST' || type === 'STATUS';
  if (from === 'system') return type !== 'RESPONSE';
  if (from === 'sentinel') return type === 'ALERT' || type === 'STATUS';
  // from here on: a worker
  if (to === 'director') return type !== 'REQUEST'; // all report to the Director
  if (to === 'ALL') return type === 'STATUS';
  if (to === 'scout' && type === 'REQUEST') return from !== 'scribe'; // Scout can be queried by anyone
  if (from === 'scout' && type === 'RESPONSE') return true; // …and answers
  if (peers.has(from) && peers.has(to)) return phase === undefined || phase === 3; // review peers
  return false; // Architect advises only the Director; Scribe listens
}

const senders: Sender[] = [...ROLES, ...EXTERNAL_SENDERS];
const recipients: Recipient[] = [...ROLES, 'ALL'];

describe('checkRoute', () => {
  it('matches the guide for every sender × recipient × type × phase', () => {
    let allowed = 0;
    let refused = 0;
    for (const from of senders)
      for (const to of recipients)
        for (const type of MESSAGE_TYPES)
          for (const phase of [undefined, 1, 2, 3, 4]) {
            const expected = guideAllows(from, to, type, phase);
            const result = checkRoute(phase === undefined ? { from, to, type } : { from, to, type, phase });
            expect({ from, to, type, phase, ok: result.ok }).toEqual({ from, to, type, phase, ok: expected });
            if (result.ok) allowed++;
            else {
              refused++;
              expect(result.error).toBeInstanceOf(TopologyViolation);
              expect(result.error.details).toMatchObject({ from, to, type });
            }
          }
    expect(allowed).toBeGreaterThan(50);
    expect(refused).toBeGreaterThan(50);
  });

  it.each([
    ['director', 'ALL', 'DECISION', true],
    ['architect', 'ALL', 'DECISION', false],
    ['architect', 'builder', 'REQUEST', false],
    ['builder', 'scout', 'REQUEST', true],
    ['inspector', 'director', 'ALERT', true],
    ['builder', 'director', 'REQUEST', false],
    ['scribe', 'builder', 'STATUS', false],
    ['sentinel', 'director', 'ALERT', true],
  ] as const)('%s → %s %s is %s', (from, to, type, ok) => {
    expect(checkRoute({ from, to, type }).ok).toBe(ok);
  });

  it('lets Builder, Refactorer and Inspector talk only during review', () => {
    expect(checkRoute({ from: 'builder', to: 'inspector', type: 'REQUEST', phase: 3 }).ok).toBe(true);
    const outside = checkRoute({ from: 'builder', to: 'inspector', type: 'REQUEST', phase: 2 });
    expect(outside.ok).toBe(false);
    if (!outside.ok) expect(outside.error.message).toMatch(/review/);
  });

  it('assertRoute throws the typed error with a reason', () => {
    expect(() => assertRoute({ from: 'architect', to: 'ALL', type: 'DECISION' })).toThrow(TopologyViolation);
    expect(() => assertRoute({ from: 'architect', to: 'ALL', type: 'DECISION' })).toThrow(
      /only the Director/,
    );
  });
});
