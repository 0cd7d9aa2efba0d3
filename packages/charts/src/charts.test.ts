import { type RunEvent, type RunEventDraft, stamp } from '@nightshift/core';
import { describe, expect, it } from 'vitest';
import { chartSeries, chartSpecs, parseLlmCallLog } from './index.js';

const T0 = Date.parse('2026-01-28T01:00:00Z');

function events(drafts: RunEventDraft[]): RunEvent[] {
  return drafts.map((d, i) => stamp(d, new Date(T0 + i * 1000).toISOString()));
}

const started: RunEventDraft[] = [
  { type: 'run.created', runId: 'run_c1', task: 'fix sum' },
  { type: 'phase.started', phase: 1, iteration: 1 },
  { type: 'step.requested', step: 'design', role: 'architect', messageId: 'req_d' },
];

describe('chart series', () => {
  it('draws a step in flight up to now on a live view, and only finished steps in the report', () => {
    const live = chartSeries({ events: events(started), now: T0 + 10_000 });
    expect(live.spans).toEqual([
      expect.objectContaining({
        role: 'architect',
        step: 'design',
        ok: null,
        start: T0 + 2000,
        end: T0 + 10_000,
      }),
    ]);
    expect(chartSeries({ events: events(started) }).spans).toEqual([]);

    const done = events([
      ...started,
      {
        type: 'step.completed',
        step: 'design',
        role: 'architect',
        messageId: 'req_d',
        usage: { inputTokens: 100, outputTokens: 50, usd: 0.5 },
      },
      { type: 'trust.changed', role: 'builder', from: 7, to: 5, delta: -2, reason: 'critical bug' },
    ]);
    const later = chartSeries({ events: done, now: T0 + 20_000 });
    expect(later.spans.map((s) => s.ok)).toEqual([true]);
    expect(later.tokensByRole.architect).toEqual({ tokens: 150, usd: 0.5 });
    // The builder starts at the score its first change came from, not where it ended up.
    expect(later.trust.filter((t) => t.role === 'builder').map((t) => t.score)).toEqual([7, 5]);
  });

  it('charts the gateway log when it has calls, and steps otherwise', () => {
    const log = parseLlmCallLog([
      [
        '1-0',
        [
          'call',
          JSON.stringify({
            role: 'builder',
            enqueuedAt: 1,
            startedAt: 2,
            endedAt: 5,
            inputTokens: 3,
            outputTokens: 4,
          }),
        ],
      ],
      ['2-0', ['call', '{"torn']],
      ['3-0', ['call', JSON.stringify({ role: 'scout', startedAt: 'soon' })]],
      ['4-0', ['other', '{}']],
    ]);
    expect(log.calls.map((c) => c.role)).toEqual(['builder']);
    expect(log.skipped).toBe(3);
    expect(chartSeries({ events: events(started), llmCalls: log.calls }).llm.source).toBe('call-log');
    expect(chartSeries({ events: events(started) }).llm.source).toBe('steps');
  });
});

describe('chart specs', () => {
  it('gives the same five charts in both themes, with their data inline', () => {
    const series = chartSeries({ events: events(started), now: T0 + 5000 });
    const light = chartSpecs(series);
    const dark = chartSpecs(series, { theme: 'dark', width: 500 });
    expect(light.map((c) => c.id)).toEqual(['gantt', 'llm-slots', 'tokens', 'trust', 'latency']);
    expect(dark.map((c) => c.id)).toEqual(light.map((c) => c.id));
    expect(light[0]?.points).toBe(1);
    expect(light[0]?.spec.data).toEqual({
      values: [{ role: 'architect', step: 'design', phase: 'P1', state: 'running', start: 2, end: 5 }],
    });
    expect(light[0]?.spec.background).toBe('white');
    expect(dark[0]?.spec.background).not.toBe('white');
    expect(dark[0]?.spec).toMatchObject({ width: 500 });
  });

  it('refuses a width that is not a positive number, naming it', () => {
    const series = chartSeries({ events: events(started) });
    expect(() => chartSpecs(series, { width: 0 })).toThrow(/chart width: expected a positive number/);
    expect(() => chartSpecs(series, { width: Number.NaN })).toThrow(/chart width/);
  });
});
