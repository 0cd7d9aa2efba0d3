// The forecast made when the night started vs what happened (issue 24 §3): `plan --record`
// keeps each run's first forecast under `run:<id>:forecast`; `plan --review` sets it beside the
// run's real end. Pure parts here; the command reads and writes Redis.
import { z } from 'zod';
import { duration } from './render.js';

export const RecordedForecastSchema = z.object({
  madeAt: z.iso.datetime(),
  p50At: z.iso.datetime(),
  p90At: z.iso.datetime(),
});
export type RecordedForecast = z.infer<typeof RecordedForecastSchema>;

export interface ReviewRow {
  runId: string;
  forecast: RecordedForecast;
  /** `run.finished` time, or undefined while the run is not over. */
  endedAt: string | undefined;
  status: string;
}

/** A table: forecast p50/p90 end, the real end, the miss, and whether it fell within p90. */
export function renderReview(rows: readonly ReviewRow[]): string {
  if (rows.length === 0)
    return 'no recorded forecast (run `nightshift plan --record` when the night starts)\n';
  const hhmm = (iso: string) => iso.slice(11, 19);
  const lines = ['run                          made at   p50 end   p90 end   actual    miss (actual − p50)'];
  let within = 0;
  let ended = 0;
  for (const r of rows) {
    const actual = r.endedAt === undefined ? `(${r.status})` : hhmm(r.endedAt);
    let miss = '';
    if (r.endedAt !== undefined) {
      ended++;
      const diff = Date.parse(r.endedAt) - Date.parse(r.forecast.p50At);
      if (Date.parse(r.endedAt) <= Date.parse(r.forecast.p90At)) within++;
      miss = `${diff >= 0 ? '+' : ''}${duration(diff)}`;
    }
    lines.push(
      `  ${r.runId.padEnd(26)} ${hhmm(r.forecast.madeAt)}  ${hhmm(r.forecast.p50At)}  ${hhmm(r.forecast.p90At)}  ${actual.padEnd(9)} ${miss}`,
    );
  }
  if (ended > 0) lines.push(`${within} of ${ended} finished run(s) ended by their p90`);
  return `${lines.join('\n')}\n`;
}
