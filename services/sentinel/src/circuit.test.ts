import { describe, expect, it } from 'vitest';
import { type Circuit, type CircuitEvent, CLOSED, parseCircuit, stepCircuit } from './circuit.js';

const cfg = { failureThreshold: 3, coolDownMs: 1000, maxCoolDownMs: 3000, trialTimeoutMs: 60_000 };

/** Feeds events in order; returns the final circuit and every effect asked for. */
function run(events: CircuitEvent[], from: Circuit = CLOSED) {
  let c = from;
  const effects: string[] = [];
  for (const e of events) {
    const step = stepCircuit(c, e, cfg);
    if (step.effect) effects.push(`${e.at}:${step.effect}`);
    c = step.circuit;
  }
  return { c, effects };
}

const failure = (at: number, jobId = `j${at}`): CircuitEvent => ({ type: 'failure', at, jobId });
const success = (at: number, jobId = `j${at}`): CircuitEvent => ({ type: 'success', at, jobId });
const inconclusive = (at: number, jobId = `j${at}`): CircuitEvent => ({ type: 'inconclusive', at, jobId });
const started = (at: number, jobId: string): CircuitEvent => ({ type: 'started', at, jobId });
const opened = () => run([failure(1), failure(2), failure(3)]).c;
const halfOpen: Circuit = { state: 'half-open', failures: 3, openedAt: 3, opens: 1 };

describe('circuit breaker', () => {
  it('stays closed below the threshold, and a success resets the count', () => {
    const { c, effects } = run([failure(1), failure(2), success(3), failure(4), failure(5)]);
    expect(c.state).toBe('closed');
    expect(c.failures).toBe(2);
    expect(effects).toEqual([]);
  });

  it('opens (pause) at exactly N consecutive failures', () => {
    const { c, effects } = run([failure(1), failure(2), failure(3)]);
    expect(c).toMatchObject({ state: 'open', openedAt: 3, opens: 1 });
    expect(effects).toEqual(['3:pause']);
  });

  it('poison jobs and stalls neither count nor reset the run of provider failures', () => {
    const { c, effects } = run([failure(1), inconclusive(2), inconclusive(3), inconclusive(4), failure(5)]);
    expect(c).toMatchObject({ state: 'closed', failures: 2 });
    expect(effects).toEqual([]);
    expect(run([failure(6)], c).c.state).toBe('open');
  });

  it('ignores outcomes while open and half-opens (resume) only after the cool-down', () => {
    const { c, effects } = run(
      [success(10), failure(11), { type: 'tick', at: 1002 }, { type: 'tick', at: 1003 }],
      opened(),
    );
    expect(c.state).toBe('half-open');
    expect(effects).toEqual(['1003:resume']);
  });

  it('half-open: the first job to start is the trial; its success closes (close), its failure re-opens (pause)', () => {
    const closed = run([started(2000, 'trial'), success(2001, 'trial')], halfOpen);
    expect(closed.c).toMatchObject({ state: 'closed', failures: 0 });
    expect(closed.c.trialJobId).toBeUndefined();
    expect(closed.effects).toEqual(['2001:close']);
    const again = run([started(2000, 'trial'), failure(2001, 'trial')], halfOpen);
    expect(again.c).toMatchObject({ state: 'open', openedAt: 2001, opens: 2 });
    expect(again.c.trialJobId).toBeUndefined();
    expect(again.effects).toEqual(['2001:pause']);
    expect(run([{ type: 'tick', at: 99_999 }], halfOpen).c.state).toBe('half-open');
  });

  it('half-open: outcomes of jobs other than the trial decide nothing', () => {
    // Jobs that ran since before the circuit opened finish now and then.
    const before = run([success(2000, 'old-1'), failure(2001, 'old-2')], halfOpen);
    expect(before.c).toEqual(halfOpen);
    expect(before.effects).toEqual([]);
    const during = run([started(2002, 'trial'), success(2003, 'old-3'), failure(2004, 'old-4')], halfOpen);
    expect(during.c).toMatchObject({ state: 'half-open', trialJobId: 'trial' });
    expect(during.effects).toEqual([]);
  });

  it('half-open: an inconclusive trial (poison, stalled) admits the next job as the trial', () => {
    const { c, effects } = run(
      [started(2000, 'poison'), inconclusive(2001, 'poison'), started(2002, 'next'), success(2003, 'next')],
      halfOpen,
    );
    expect(c.state).toBe('closed');
    expect(effects).toEqual(['2001:admit', '2003:close']);
  });

  it('round-trips through JSON (the trial too) and tolerates junk', () => {
    expect(parseCircuit(JSON.stringify(opened()))).toEqual(opened());
    const trial = run([started(2000, 'trial')], halfOpen).c;
    expect(parseCircuit(JSON.stringify({ ...trial, queue: 'agent.builder' }))).toEqual(trial);
    expect(parseCircuit('{oops')).toEqual(CLOSED);
    expect(parseCircuit(null)).toEqual(CLOSED);
    expect(parseCircuit('{"state":"weird","failures":"x","trialJobId":"t"}')).toEqual(CLOSED);
  });

  it('each failed trial doubles the cool-down up to its cap; a closed circuit starts short again', () => {
    const tick = (at: number): CircuitEvent => ({ type: 'tick', at });
    // Open at 3: trial after 1 s (fails), then after 2 s (fails), then 3 s (the cap), and again 3 s.
    const { c, effects } = run([
      failure(1),
      failure(2),
      failure(3),
      tick(1002),
      tick(1003),
      started(1004, 't1'),
      failure(1004, 't1'),
      tick(3003),
      tick(3004),
      started(3005, 't2'),
      failure(3005, 't2'),
      tick(6004),
      tick(6005),
      started(6006, 't3'),
      failure(6006, 't3'),
      tick(9005),
      tick(9006),
    ]);
    expect(effects).toEqual([
      '3:pause',
      '1003:resume',
      '1004:pause',
      '3004:resume',
      '3005:pause',
      '6005:resume',
      '6006:pause',
      '9006:resume',
    ]);
    expect(c).toMatchObject({ state: 'half-open', failedTrials: 3, openedAt: 6006, downSince: 3 });
    const closed = run([started(9007, 't4'), success(9008, 't4')], c).c;
    expect(closed).toMatchObject({ state: 'closed', failures: 0 });
    expect([closed.failedTrials, closed.downSince]).toEqual([undefined, undefined]);
    const again = run([failure(9010), failure(9011), failure(9012), tick(10_011), tick(10_012)], closed);
    expect(again.effects).toEqual(['9012:pause', '10012:resume']);
    expect(again.c.downSince).toBe(9012);
    expect(
      parseCircuit(JSON.stringify({ state: 'open', failures: 3, opens: 2, failedTrials: 2 })),
    ).toMatchObject({
      failedTrials: 2,
    });
  });
});
