// The report's charts: the shared Vega-Lite specs (@nightshift/charts, the same ones the dashboard
// draws live) compiled and rendered to SVG here (vega's headless View; no browser, no CDN), so the
// HTML file is self-contained.
import { chartSpecs } from '@nightshift/charts';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { ReportData } from './data.js';

export async function toSvg(spec: TopLevelSpec): Promise<string> {
  const view = new vega.View(vega.parse(compile(spec).spec), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

export async function charts(data: ReportData): Promise<{ title: string; svg: string; points: number }[]> {
  const out: { title: string; svg: string; points: number }[] = [];
  for (const chart of chartSpecs(data.series))
    out.push({ title: chart.title, points: chart.points, svg: await toSvg(chart.spec) });
  return out;
}
