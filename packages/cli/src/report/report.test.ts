import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type RunEvent, type RunEventDraft, stamp } from '@nightshift/core';
import { describe, expect, it } from 'vitest';
import { charts } from './charts.js';
import { buildReportData } from './data.js';
import { sections, toHtml, toMarkdown } from './render.js';

function scriptedRun(): RunEvent[] {
  const drafts: RunEventDraft[] = [
    { type: 'run.created', runId: 'run_r1', task: 'fix sum', title: 'Sum fix' },
    { type: 'phase.started', phase: 1, iteration: 1 },
    {
      type: 'step.completed',
      step: 'frame',
      role: 'director',
      messageId: 'req_f',
      output: 'goal',
      usage: { inputTokens: 10, outputTokens: 5, usd: 0.01 },
    },
    { type: 'step.requested', step: 'design', role: 'architect', messageId: 'req_d' },
    {
      type: 'step.completed',
      step: 'design',
      role: 'architect',
      messageId: 'req_d',
      usage: { inputTokens: 100, outputTokens: 50 },
    },
    { type: 'step.requested', step: 'research', role: 'scout', messageId: 'req_r' },
    { type: 'step.failed', step: 'research', role: 'scout', messageId: 'req_r', reason: 'timeout' },
    { type: 'step.requested', step: 'research', role: 'scout', messageId: 'req_r2' },
    {
      type: 'step.completed',
      step: 'research',
      role: 'scout',
      messageId: 'req_r2',
      usage: { inputTokens: 40, outputTokens: 20 },
    },
    { type: 'trust.changed', role: 'builder', from: 7, to: 5, delta: -2, reason: 'critical bug: MD5' },
  ];
  const t0 = Date.parse('2026-01-28T01:00:00Z');
  return drafts.map((d, i) => stamp(d, new Date(t0 + (i + 1) * 1500).toISOString()));
}

describe('morning report', () => {
  it('says at the top when commands ran unconfined (TOOLS_SANDBOX=off), and nothing when sandboxed', () => {
    const base = {
      runId: 'run_r1',
      events: scriptedRun(),
      messages: [],
      memoryDir: mkdtempSync(join(tmpdir(), 'rep-')),
    };
    const off = buildReportData({ ...base, warning: 'TOOLS_SANDBOX=off: commands and git run UNCONFINED' });
    const md = toMarkdown(off, []);
    expect(md.split('\n').slice(0, 4).join('\n')).toContain('**WARNING:** TOOLS_SANDBOX=off');
    expect(toHtml(off, []).indexOf('TOOLS_SANDBOX=off')).toBeLessThan(
      toHtml(off, []).indexOf('class="status"'),
    );
    expect(toMarkdown(buildReportData(base), [])).not.toContain('WARNING');
  });

  it('fills every checklist section and draws charts whose points match the events', async () => {
    const events = scriptedRun();
    const data = buildReportData({
      runId: 'run_r1',
      events,
      messages: [],
      memoryDir: mkdtempSync(join(tmpdir(), 'rep-')),
    });
    expect(sections(data).map((s) => s.title)).toEqual([
      'Outcome',
      'Forecast vs actual',
      'What finished',
      'What failed',
      'Open escalations and alerts',
      'Trust changes',
      "Director's decision log",
      'Findings',
      'Files changed',
      'Tests run',
      'Budget used',
      'Files to read',
    ]);
    const rendered = await charts(data);
    // Gantt: one bar per finished or failed step (4 = design, research ×2, frame).
    const ended = events.filter((e) => e.type === 'step.completed' || e.type === 'step.failed').length;
    expect(rendered[0]?.points).toBe(ended);
    expect(rendered.map((c) => c.svg.startsWith('<svg'))).toEqual([true, true, true, true, true]);
    expect(data.series.tokensByRole.architect?.tokens).toBe(150);
    const html = toHtml(data, rendered);
    // Self-contained: no resource is fetched from anywhere (SVG namespace ids are not fetched).
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?https?:/i);
    expect(html).not.toMatch(/@import|<script[^>]+src=/i);
    expect(html).toContain('critical bug: MD5');
    const md = toMarkdown(
      data,
      rendered.map((c) => c.title),
    );
    expect(md).toContain('## What failed');
    expect(md).toMatch(/research \(scout\) failed/);
  });

  it('compares the forecast made when the night started with how each run of that night ended', () => {
    const night = ['run_r1', 'run_r2', 'run_r3'];
    const record = (p50: string, p90: string) => ({
      madeAt: '2026-01-28T01:00:00.000Z',
      p50At: `2026-01-28T${p50}.000Z`,
      p90At: `2026-01-28T${p90}.000Z`,
      night,
    });
    const forecast = [
      // 100 s forecast, 80 s taken: +25 % (early), within p90.
      {
        runId: 'run_r1',
        forecast: record('01:01:40', '01:02:00'),
        endedAt: '2026-01-28T01:01:20.000Z',
        status: 'finished',
      },
      // 100 s forecast, 125 s taken: −20 %, after its p90.
      {
        runId: 'run_r2',
        forecast: record('01:01:40', '01:02:00'),
        endedAt: '2026-01-28T01:02:05.000Z',
        status: 'finished',
      },
      { runId: 'run_r3', forecast: record('01:03:00', '01:04:00'), endedAt: undefined, status: 'running' },
    ];
    const data = buildReportData({
      runId: 'run_r1',
      events: scriptedRun(),
      messages: [],
      memoryDir: mkdtempSync(join(tmpdir(), 'rep-')),
      forecast,
    });
    const md = toMarkdown(data, []);
    expect(md).toContain(
      '- Forecast vs actual: p50 01:01:40, p90 01:02:00 (forecast at 01:00:00); ended 01:01:20: error +25.0 %, within p90. Night of 3 runs: 1 of 2 finished run(s) ended by their p90; mean |error| 22.5 %.',
    );
    const table = md.slice(md.indexOf('## Forecast vs actual'));
    expect(table).toMatch(
      /run_r1 +01:00:00 {2}01:01:40 \(\+1 m 40 s\) {2}01:02:00 \(\+2 m 00 s\) {2}01:01:20 \(\+1 m 20 s\) {2}\+25\.0 % {2}yes/,
    );
    expect(table).toMatch(/run_r2 .* 01:02:05 \(\+2 m 05 s\) {2}−20\.0 % {2}NO/);
    expect(table).toMatch(/run_r3 .* \(running\) {2}- {2}-/);
    expect(toHtml(data, [])).toContain('1 of 2 finished run(s) ended by their p90');

    // Forecast from one past run: its p90 (= p50) says nothing, and the report says so.
    const oneRun = forecast.map((r) => ({ ...r, forecast: { ...r.forecast, history: 1 } }));
    const single = toMarkdown(
      buildReportData({ ...data, runId: 'run_r1', memoryDir: 'x', forecast: oneRun }),
      [],
    );
    expect(single).toContain(
      'ended 01:01:20: error +25.0 %, p90 from one run: no spread. Night of 3 runs: p90 from one run: no spread; mean |error| 22.5 %.',
    );
    expect(single).not.toMatch(/ended by their p90/);
    expect(single.slice(single.indexOf('## Forecast vs actual'))).toMatch(/run_r2 .* −20\.0 % {2}-/);

    // Nothing recorded: the report says so and how to get it next time.
    const none = toMarkdown(buildReportData({ ...data, runId: 'run_r1', memoryDir: 'x', forecast: [] }), []);
    expect(none).toContain('- Forecast vs actual: no recorded forecast (run `nightshift plan --record`');
  });
});
