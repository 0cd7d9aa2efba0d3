import { fold, type RunEventDraft, stamp } from '@nightshift/core';
import type { AlertRecord } from '@nightshift/redis';
import { describe, expect, it } from 'vitest';
import { parseResolve, resolutionEvents, resolveContent } from './resolve.js';

const at = '2030-01-01T00:00:00.000Z';
const run = (...drafts: RunEventDraft[]) =>
  fold(
    [
      { type: 'run.created', runId: 'run_a', task: 't' },
      { type: 'phase.started', phase: 2, iteration: 1 },
      ...drafts,
    ].map((d) => stamp(d as RunEventDraft, at)),
  );

const alert = (decision: 'continue' | 'abort' | 'note', key = 'k3'): AlertRecord => ({
  id: 'alert_1',
  key,
  level: 3,
  rule: 'resources.memory',
  subject: 'memory',
  reason: 'memory at 95%',
  status: 'resolved',
  raisedAt: at,
  actions: [],
  resolution: { decision, by: 'human', note: 'ok' },
});
const raised: RunEventDraft = {
  type: 'alert.raised',
  level: 3,
  reason: 'memory',
  code: 'resources.memory',
  key: 'k3',
};

describe('resolution', () => {
  it('parses RESOLVE <id> <decision> [note], and refuses anything else', () => {
    expect(parseResolve(resolveContent('alert_1', 'continue'))).toEqual({
      alertId: 'alert_1',
      decision: 'continue',
    });
    expect(parseResolve('RESOLVE alert_1 abort  too risky ')).toEqual({
      alertId: 'alert_1',
      decision: 'abort',
      note: 'too risky',
    });
    expect(parseResolve('resolve alert_1 NOTE')).toBeUndefined();
    expect(parseResolve('RESOLVE alert_1 maybe')).toBeUndefined();
    expect(parseResolve('RESOLVE alert_1')).toBeUndefined();
  });

  it('continue answers a run waiting on this alert (making the wait explicit if the Director has not yet)', () => {
    const pending = run(raised);
    expect(pending.pendingEscalation?.cause).toBe('alert');
    const events = resolutionEvents(pending, alert('continue'));
    expect(events.map((e) => e.type)).toEqual(['run.waiting-human', 'human.decided']);
    const after = fold(
      events.map((e) => stamp(e, at)),
      pending,
    );
    expect(after.status).toBe('running');
    expect(after.pendingEscalation).toBeNull();

    const waiting = run(raised, { type: 'run.waiting-human', cause: 'alert', reason: 'memory' });
    expect(resolutionEvents(waiting, alert('continue'))).toEqual([
      { type: 'human.decided', decision: 'continue', note: 'ok' },
    ]);
  });

  it('continue does not answer a wait caused by another alert, nor a run that does not wait', () => {
    const other = run(raised, { type: 'alert.raised', level: 3, reason: 'x', code: 'c', key: 'newer' });
    expect(resolutionEvents(other, alert('continue'))).toEqual([]);
    expect(resolutionEvents(run(), alert('continue'))).toEqual([]);
    expect(resolutionEvents(run(raised), alert('note'))).toEqual([]);
  });

  it('abort aborts a run that got the alert, and nothing else', () => {
    const events = resolutionEvents(run(raised), alert('abort'));
    expect(events).toEqual([{ type: 'human.decided', decision: 'abort', note: 'ok' }]);
    expect(
      fold(
        events.map((e) => stamp(e, at)),
        run(raised),
      ).stop?.outcome,
    ).toBe('aborted');
    expect(resolutionEvents(run(), alert('abort'))).toEqual([]);
  });
});
