// The run page's live charts: the morning report's Vega-Lite specs (@nightshift/charts) over the
// run's events and the gateway's LLM call log so far, in the dashboard's dark theme. Steps still in
// flight are drawn up to `now`, so a long step is visible while it runs. Archived runs read as well.

import { type ChartSpec, chartSeries, chartSpecs, parseLlmCallLog } from '@nightshift/charts';
import { CONTROL_ERROR_CODES, loadRun } from '@nightshift/client';
import { NightshiftError } from '@nightshift/protocol';
import type { DashboardContext } from './context.js';

export interface LiveCharts {
  runId: string;
  /** Changes whenever what the charts plot may have changed: the run's version and its call count. */
  key: string;
  charts: ChartSpec[];
}

function llmLogKey(ctx: DashboardContext, runId: string): string {
  return ctx.control.parts.keys.custom('run', runId, 'llm');
}

/** Cheap: two reads, no events loaded. Recompute the charts only when this changes. */
export async function chartsKey(ctx: DashboardContext, runId: string, version: number): Promise<string> {
  const calls = await ctx.control.parts.redis.xlen(llmLogKey(ctx, runId));
  return `${version}:${calls}`;
}

export async function liveCharts(ctx: DashboardContext, runId: string): Promise<LiveCharts> {
  const { parts } = ctx.control;
  const run = await loadRun(parts.store, runId);
  if (run.state.runId === null)
    throw new NightshiftError(CONTROL_ERROR_CODES.runNotFound, `no run ${runId}`, {
      category: 'invalid-input',
    });
  // A run archived out of Redis (issue 21 §2) keeps its call log in the archive.
  const archived = await parts.store.archived(runId);
  const key = llmLogKey(ctx, runId);
  const { calls } = parseLlmCallLog(
    archived ? archived.stream(key) : await parts.redis.xrange(key, '-', '+'),
  );
  const series = chartSeries({ events: run.events, llmCalls: calls, now: parts.now().getTime() });
  return {
    runId,
    key: `${run.version}:${calls.length}`,
    charts: chartSpecs(series, { theme: 'dark', width: ctx.chartWidth }),
  };
}
