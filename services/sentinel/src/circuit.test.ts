import { describe, expect, it } from 'vitest';
import { type Circuit, CLOSED, parseCircuit, stepCircuit } from './circuit.js';

const cfg = { failureThreshold: 3, coolDownMs: 1000 };

/** Feeds events in order; returns the final circuit and every effect asked for. */
function run(events: { type: 'failure' | 'success' | 'tick'; at: number }[], from: Circuit = CLOSED) {
  let c = from;
  const effects: string[] = [];
  for (const e of events) {
    const step = stepCircuit(c, e, cfg);
    if (step.effect) effects.push(`${e.at}:${step.effect}`);
    c = step.circuit;
  }
  return { c, effects };
}

describe('circuit breaker', () => {
  it('stays closed below the threshold, and a success resets the count', () => {
    const { c, effects } = run([
      { type: 'failure', at: 1 },
      { type: 'failure', at: 2 },
      { type: 'success', at: 3 },
      { type: 'failure', at: 4 },
      { type: 'failure', at: 5 },
    ]);
    expect(c.state).toBe('closed');
    expect(c.failures).toBe(2);
    expect(effects).toEqual([]);
  });

  it('opens (pause) at exactly N consecutive failures', () => {
    const { c, effects } = run([1, 2, 3].map((at) => ({ type: 'failure' as const, at })));
    expect(c).toMatchObject({ state: 'open', openedAt: 3, opens: 1 });
    expect(effects).toEqual(['3:pause']);
  });

  it('ignores outcomes while open and half-opens (resume) only after the cool-down', () => {
    const opened = run([1, 2, 3].map((at) => ({ type: 'failure' as const, at }))).c;
    const { c, effects } = run(
      [
        { type: 'success', at: 10 },
        { type: 'failure', at: 11 },
        { type: 'tick', at: 1002 },
        { type: 'tick', at: 1003 },
      ],
      opened,
    );
    expect(c.state).toBe('half-open');
    expect(effects).toEqual(['1003:resume']);
  });

  it('closes on the trial success, re-opens (pause) on the trial failure', () => {
    const half: Circuit = { state: 'half-open', failures: 3, openedAt: 3, opens: 1 };
    expect(run([{ type: 'success', at: 2000 }], half).c).toMatchObject({ state: 'closed', failures: 0 });
    const again = run([{ type: 'failure', at: 2000 }], half);
    expect(again.c).toMatchObject({ state: 'open', openedAt: 2000, opens: 2 });
    expect(again.effects).toEqual(['2000:pause']);
    expect(run([{ type: 'tick', at: 99_999 }], half).c.state).toBe('half-open');
  });

  it('round-trips through JSON and tolerates junk', () => {
    const open = run([1, 2, 3].map((at) => ({ type: 'failure' as const, at }))).c;
    expect(parseCircuit(JSON.stringify(open))).toEqual(open);
    expect(parseCircuit('{oops')).toEqual(CLOSED);
    expect(parseCircuit(null)).toEqual(CLOSED);
    expect(parseCircuit('{"state":"weird","failures":"x"}')).toEqual(CLOSED);
  });
});
