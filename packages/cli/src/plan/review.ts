// The forecast made when the night started vs what happened (issue 24 §3): `plan --record` keeps
// each run's first forecast under `run:<id>:forecast`; `plan --review` and the morning report set
// it beside the run's real end. Pure parts here; recorded.ts reads Redis.
import { NO_SPREAD } from '@nightshift/core';
import { z } from 'zod';
import { duration } from './render.js';

export const RecordedForecastSchema = z.object({
  madeAt: z.iso.datetime(),
  p50At: z.iso.datetime(),
  p90At: z.iso.datetime(),
  /** The runs forecast together (one `plan --record`): the night the report compares. */
  night: z.array(z.string()).optional(),
  /** Finished runs the forecast learned from. */
  history: z.int().min(0).optional(),
});
export type RecordedForecast = z.infer<typeof RecordedForecastSchema>;

export interface ReviewRow {
  runId: string;
  forecast: RecordedForecast;
  /** `run.finished` time, or undefined while the run is not over. */
  endedAt: string | undefined;
  status: string;
}

/** One run's forecast against its end; durations from the moment the forecast was made. */
export interface ForecastCheck {
  runId: string;
  p50Ms: number;
  p90Ms: number;
  /** Absent while the run has not finished. */
  actualMs?: number;
  /** (p50 − actual) / actual, %: negative = the run took longer than forecast. */
  errorPct?: number;
  /** Ended by its p90; absent while not finished, or when the forecast learned from one run (no spread). */
  withinP90?: boolean;
}

/** A forecast from one past run has no spread: its p90 (= p50) says nothing. */
const noSpread = (f: RecordedForecast) => f.history !== undefined && f.history < 2;

export function checkForecast(row: ReviewRow): ForecastCheck {
  const made = Date.parse(row.forecast.madeAt);
  const check: ForecastCheck = {
    runId: row.runId,
    p50Ms: Date.parse(row.forecast.p50At) - made,
    p90Ms: Date.parse(row.forecast.p90At) - made,
  };
  if (row.endedAt === undefined) return check;
  const actualMs = Date.parse(row.endedAt) - made;
  return {
    ...check,
    actualMs,
    errorPct: actualMs > 0 ? ((check.p50Ms - actualMs) / actualMs) * 100 : 0,
    ...(noSpread(row.forecast)
      ? {}
      : { withinP90: Date.parse(row.endedAt) <= Date.parse(row.forecast.p90At) }),
  };
}

const hhmm = (iso: string) => iso.slice(11, 19);
const pct = (p: number) => `${p >= 0 ? '+' : '−'}${Math.abs(p).toFixed(1)} %`;

/** Aligned text: forecast p50/p90 end, the real end, the error, whether it fell within p90. */
export function reviewTable(rows: readonly ReviewRow[]): string[] {
  const lines = [
    'run                          made at   p50 end   p90 end   actual       error      within p90',
  ];
  for (const r of rows) {
    const c = checkForecast(r);
    const p50 = `${hhmm(r.forecast.p50At)} (+${duration(c.p50Ms)})`;
    const p90 = noSpread(r.forecast) ? '-'.padEnd(19) : `${hhmm(r.forecast.p90At)} (+${duration(c.p90Ms)})`;
    const actual =
      r.endedAt === undefined || c.actualMs === undefined
        ? `(${r.status})`
        : `${hhmm(r.endedAt)} (+${duration(c.actualMs)})`;
    lines.push(
      `  ${r.runId.padEnd(26)} ${hhmm(r.forecast.madeAt)}  ${p50}  ${p90}  ${actual}  ${c.errorPct === undefined ? '-' : pct(c.errorPct)}  ${c.withinP90 === undefined ? '-' : c.withinP90 ? 'yes' : 'NO'}`,
    );
  }
  return lines;
}

/**
 * `4 of 5 finished run(s) ended by their p90; mean |error| 6.2 %` (`p90 from one run: no spread`
 * instead of the count when no forecast had a spread), or undefined when none ended.
 */
export function reviewSummary(rows: readonly ReviewRow[]): string | undefined {
  const ended = rows.map(checkForecast).filter((c) => c.errorPct !== undefined);
  if (ended.length === 0) return undefined;
  const spread = ended.filter((c) => c.withinP90 !== undefined);
  const within = spread.filter((c) => c.withinP90).length;
  const mean = ended.reduce((s, c) => s + Math.abs(c.errorPct ?? 0), 0) / ended.length;
  const p90 =
    spread.length === 0 ? NO_SPREAD : `${within} of ${spread.length} finished run(s) ended by their p90`;
  return `${p90}; mean |error| ${mean.toFixed(1)} %`;
}

export const NO_RECORDED_FORECAST =
  'no recorded forecast (run `nightshift plan --record` when the night starts)';

/** `plan --review`: the table and the summary line. */
export function renderReview(rows: readonly ReviewRow[]): string {
  if (rows.length === 0) return `${NO_RECORDED_FORECAST}\n`;
  const summary = reviewSummary(rows);
  return `${[...reviewTable(rows), ...(summary ? [summary] : [])].join('\n')}\n`;
}
