// The run charts as Vega-Lite specs, the one source for the morning report (rendered to SVG by
// vega in Node) and the dashboard's run page (rendered live in the browser by vega + vega-lite).
import type { TopLevelSpec } from 'vega-lite';
import { type ChartSeries, occupancy } from './series.js';

export type ChartId = 'gantt' | 'llm-slots' | 'tokens' | 'trust' | 'latency';

export interface ChartSpec {
  id: ChartId;
  title: string;
  /** Data points plotted (bars, steps, roles…): what a test or a caption can count. */
  points: number;
  spec: TopLevelSpec;
}

export interface ChartOptions {
  /** `light` for the report's white page, `dark` for the dashboard. Default `light`. */
  theme?: 'light' | 'dark';
  /** Plot width in pixels. Default DEFAULT_CHART_WIDTH. */
  width?: number;
}

export const DEFAULT_CHART_WIDTH = 640;

const THEMES = {
  light: { background: 'white', config: { font: 'sans-serif' } },
  dark: {
    background: '#1a1d24',
    config: {
      font: 'sans-serif',
      axis: { labelColor: '#e6e6e6', titleColor: '#9aa0a6', gridColor: '#2a2e38', domainColor: '#3a3f4b' },
      legend: { labelColor: '#e6e6e6', titleColor: '#9aa0a6' },
      view: { stroke: '#2a2e38' },
    },
  },
} as const;

export function chartSpecs(series: ChartSeries, options: ChartOptions = {}): ChartSpec[] {
  const theme = THEMES[options.theme ?? 'light'];
  const width = options.width ?? DEFAULT_CHART_WIDTH;
  if (!Number.isFinite(width) || width <= 0)
    throw new RangeError(`chart width: expected a positive number of pixels, got ${width}`);
  const base = { width, background: theme.background, config: theme.config };
  const s = (ms: number) => Math.round(ms - series.t0) / 1000;

  const gantt = series.spans.map((x) => ({
    role: x.role,
    step: x.step,
    phase: `P${x.phase}`,
    state: x.ok === null ? 'running' : x.ok ? 'done' : 'failed',
    start: s(x.start),
    end: s(x.end),
  }));
  const occ = occupancy(series.llm.calls).map((p) => ({ t: s(p.t), running: p.running, waiting: p.waiting }));
  const slots = occ.flatMap((p) => [
    { t: p.t, series: 'slots in use', value: p.running },
    { t: p.t, series: 'calls waiting', value: p.waiting },
  ]);
  const tokens = Object.entries(series.tokensByRole).map(([role, v]) => ({
    role,
    tokens: v.tokens,
    usd: v.usd,
  }));
  const trust = series.trust.map((x) => ({ role: x.role, t: s(x.at), score: x.score }));
  const latency = series.llm.calls.map((c) => ({ role: c.role, seconds: (c.endedAt - c.startedAt) / 1000 }));
  const source = series.llm.source === 'call-log' ? 'gateway call log' : 'approximated from step times';

  return [
    {
      id: 'gantt',
      title: 'Who worked on what, by phase (Gantt)',
      points: gantt.length,
      spec: {
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
      },
    },
    {
      id: 'llm-slots',
      title: `LLM slot occupancy and wait queue (${source})`,
      points: occ.length,
      spec: {
        ...base,
        height: 160,
        data: { values: slots },
        mark: { type: 'line', interpolate: 'step-after' },
        encoding: {
          x: { field: 't', type: 'quantitative', title: 'seconds' },
          y: { field: 'value', type: 'quantitative', title: 'calls' },
          color: { field: 'series', type: 'nominal' },
        },
      },
    },
    {
      id: 'tokens',
      title: 'Tokens per role (with estimated cost)',
      points: tokens.length,
      spec: {
        ...base,
        height: 160,
        data: { values: tokens },
        mark: { type: 'bar', tooltip: true },
        encoding: {
          x: { field: 'role', type: 'nominal', title: null },
          y: { field: 'tokens', type: 'quantitative' },
          tooltip: [{ field: 'role' }, { field: 'tokens' }, { field: 'usd', format: '.4f', title: 'USD' }],
        },
      },
    },
    {
      id: 'trust',
      title: 'Trust per agent over time',
      points: trust.length,
      spec: {
        ...base,
        height: 160,
        data: { values: trust },
        mark: { type: 'line', point: true, interpolate: 'step-after' },
        encoding: {
          x: { field: 't', type: 'quantitative', title: 'seconds' },
          y: { field: 'score', type: 'quantitative', scale: { domain: [1, 10] } },
          color: { field: 'role', type: 'nominal' },
        },
      },
    },
    {
      id: 'latency',
      title: 'Latency per role',
      points: latency.length,
      spec: {
        ...base,
        height: 180,
        data: { values: latency },
        mark: { type: 'boxplot', extent: 'min-max' },
        encoding: {
          x: { field: 'role', type: 'nominal', title: null },
          y: { field: 'seconds', type: 'quantitative' },
        },
      },
    },
  ];
}
