// Issue 24 §3 in the morning report: the forecast made when the night started (`nightshift plan
// --record`) beside what happened — this run's line in the outcome, and a table of every run
// forecast that night: p50/p90, actual, error, within p90. Pure.
import { NO_SPREAD } from '@nightshift/core';
import {
  checkForecast,
  NO_RECORDED_FORECAST,
  type ReviewRow,
  reviewSummary,
  reviewTable,
} from '../plan/review.js';

const hhmm = (iso: string) => iso.slice(11, 19);

/** The outcome's line for this run (rows: its night, its own row first). */
export function forecastOutcome(runId: string, rows: readonly ReviewRow[]): string {
  const own = rows.find((r) => r.runId === runId);
  if (!own) return `- Forecast vs actual: ${NO_RECORDED_FORECAST}`;
  const c = checkForecast(own);
  const made = `p50 ${hhmm(own.forecast.p50At)}, p90 ${hhmm(own.forecast.p90At)} (forecast at ${hhmm(own.forecast.madeAt)})`;
  const night =
    rows.length > 1 ? ` Night of ${rows.length} runs: ${reviewSummary(rows) ?? 'none finished'}.` : '';
  if (own.endedAt === undefined || c.errorPct === undefined)
    return `- Forecast vs actual: ${made}; not finished (${own.status}).${night}`;
  const error = `${c.errorPct >= 0 ? '+' : '−'}${Math.abs(c.errorPct).toFixed(1)} %`;
  const p90 = c.withinP90 === undefined ? NO_SPREAD : `${c.withinP90 ? 'within' : 'NOT within'} p90`;
  return `- Forecast vs actual: ${made}; ended ${hhmm(own.endedAt)}: error ${error}, ${p90}.${night}`;
}

export function forecastSection(rows: readonly ReviewRow[]): { title: string; lines: string[] } {
  const title = 'Forecast vs actual';
  if (rows.length === 0) return { title, lines: [`- ${NO_RECORDED_FORECAST}`] };
  const summary = reviewSummary(rows);
  return {
    title,
    lines: [
      '```',
      ...reviewTable(rows),
      '',
      'error = (p50 − actual) / actual, both from when the forecast was made; negative: it took longer',
      ...(summary ? [summary] : []),
      '```',
    ],
  };
}
