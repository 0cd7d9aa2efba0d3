// The report's charts: Vega-Lite specs compiled and rendered to SVG at build time (vega's
// headless View; no browser, no CDN), so the HTML file is self-contained.
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { occupancy, type ReportData } from './data.js';

export async function toSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const base = { width: 640, background: 'white', config: { font: 'sans-serif' } } as const;

export async function charts(data: ReportData): Promise<{ title: string; svg: string; points: number }[]> {
  const t0 = data.events[0] ? Date.parse(data.events[0].at) : 0;
  const s = (ms: number) => Math.round(ms - t0) / 1000;
  const out: { title: string; svg: string; points: number }[] = [];

  const gantt = data.spans.map((x) => ({
    role: x.role,
    step: x.step,
    phase: `P${x.phase}`,
    start: s(x.start),
    end: s(x.end),
  }));
  out.push({
    title: 'Who worked on what, by phase (Gantt)',
    points: gantt.length,
    svg: await toSvg({
      ...base,
      height: 200,
      data: { values: gantt },
      mark: { type: 'bar', tooltip: true },
      encoding: {
        y: { field: 'role', type: 'nominal', title: null },
        x: { field: 'start', type: 'quantitative', title: 'seconds since the run started' },
        x2: { field: 'end' },
        color: { field: 'phase', type: 'nominal' },
      },
    }),
  });

  const occ = occupancy(data.llm.calls).map((p) => ({ t: s(p.t), running: p.running, waiting: p.waiting }));
  const long = occ.flatMap((p) => [
    { t: p.t, series: 'slots in use', value: p.running },
    { t: p.t, series: 'calls waiting', value: p.waiting },
  ]);
  out.push({
    title: `LLM slot occupancy and wait queue (${data.llm.source === 'call-log' ? 'gateway call log' : 'approximated from step times'})`,
    points: occ.length,
    svg: await toSvg({
      ...base,
      height: 160,
      data: { values: long },
      mark: { type: 'line', interpolate: 'step-after' },
      encoding: {
        x: { field: 't', type: 'quantitative', title: 'seconds' },
        y: { field: 'value', type: 'quantitative', title: 'calls' },
        color: { field: 'series', type: 'nominal' },
      },
    }),
  });

  const tokens = Object.entries(data.tokensByRole).map(([role, v]) => ({
    role,
    tokens: v.tokens,
    usd: v.usd,
  }));
  out.push({
    title: 'Tokens per role (with estimated cost)',
    points: tokens.length,
    svg: await toSvg({
      ...base,
      height: 160,
      data: { values: tokens },
      mark: { type: 'bar', tooltip: true },
      encoding: {
        x: { field: 'role', type: 'nominal', title: null },
        y: { field: 'tokens', type: 'quantitative' },
        tooltip: [{ field: 'role' }, { field: 'tokens' }, { field: 'usd', format: '.4f', title: 'USD' }],
      },
    }),
  });

  const trust = data.trust.map((x) => ({ role: x.role, t: s(x.at), score: x.score }));
  out.push({
    title: 'Trust per agent over time',
    points: trust.length,
    svg: await toSvg({
      ...base,
      height: 160,
      data: { values: trust },
      mark: { type: 'line', point: true, interpolate: 'step-after' },
      encoding: {
        x: { field: 't', type: 'quantitative', title: 'seconds' },
        y: { field: 'score', type: 'quantitative', scale: { domain: [1, 10] } },
        color: { field: 'role', type: 'nominal' },
      },
    }),
  });

  const latency = data.llm.calls.map((c) => ({ role: c.role, seconds: (c.endedAt - c.startedAt) / 1000 }));
  out.push({
    title: 'Latency per role',
    points: latency.length,
    svg: await toSvg({
      ...base,
      height: 180,
      data: { values: latency },
      mark: { type: 'boxplot', extent: 'min-max' },
      encoding: {
        x: { field: 'role', type: 'nominal', title: null },
        y: { field: 'seconds', type: 'quantitative' },
      },
    }),
  });
  return out;
}
