// `nightshift plan`'s words: the forecast as lines a person reads at 22:00, and the parsing of
// what they type (`--until 07:00`, a file of tasks). Pure; the command does the I/O.
import { type Forecast, NO_SPREAD, PlanInputError } from '@nightshift/core';

/** 2 h 10 m, 4 m 05 s, 2.41 s: the unit a person would say. */
export function duration(ms: number): string {
  if (!Number.isFinite(ms)) return '?';
  const sign = ms < 0 ? '-' : '';
  const abs = Math.abs(ms);
  if (abs < 60_000) return `${sign}${(abs / 1000).toFixed(2)} s`;
  const s = Math.round(abs / 1000);
  if (s < 3600) return `${sign}${Math.floor(s / 60)} m ${String(s % 60).padStart(2, '0')} s`;
  return `${sign}${Math.floor(s / 3600)} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} m`;
}

const clock = (at: number) => new Date(at).toISOString().slice(11, 19);

/**
 * `07:00` → the next 07:00 (UTC) after `now`; an ISO date-time as given. Epoch ms.
 * A bad value is a PlanInputError naming the expected forms.
 */
export function parseUntil(text: string, now: Date): number {
  const m = /^(\d{1,2}):(\d{2})$/.exec(text.trim());
  if (m) {
    const [h, min] = [Number(m[1]), Number(m[2])];
    if (h > 23 || min > 59) throw new PlanInputError(`--until ${text}: no such time of day (00:00–23:59)`);
    const at = new Date(now);
    at.setUTCHours(h, min, 0, 0);
    if (at.getTime() <= now.getTime()) at.setUTCDate(at.getUTCDate() + 1);
    return at.getTime();
  }
  const iso = Date.parse(text);
  if (/^\d{4}-\d{2}-\d{2}T/.test(text) && Number.isFinite(iso)) return iso;
  throw new PlanInputError(`--until ${text}: expected HH:MM (UTC, the next one) or an ISO date-time`);
}

/** A file of tasks: one task per non-empty line, or a JSON array of strings or `{ task, title? }`. */
export function parseTaskFile(text: string, name: string): { id: string; title: string }[] {
  const trimmed = text.trim();
  let tasks: string[];
  if (trimmed.startsWith('[')) {
    let value: unknown;
    try {
      value = JSON.parse(trimmed);
    } catch (error) {
      throw new PlanInputError(
        `${name}: not valid JSON (${error instanceof Error ? error.message : String(error)})`,
      );
    }
    tasks = (value as unknown[]).map((item, i) => {
      const task =
        typeof item === 'string'
          ? item
          : ((item as { title?: unknown; task?: unknown } | null)?.title ??
            (item as { task?: unknown } | null)?.task);
      if (typeof task !== 'string' || task.trim() === '')
        throw new PlanInputError(`${name}: item ${i + 1} is neither a task string nor { "task": "…" }`);
      return task;
    });
  } else {
    tasks = trimmed
      .split('\n')
      .map((l) => l.trim())
      .filter((l) => l !== '' && !l.startsWith('#'));
  }
  if (tasks.length === 0) throw new PlanInputError(`${name}: no tasks in it`);
  return tasks.map((title, i) => ({ id: `task-${i + 1}`, title: title.slice(0, 60) }));
}

export interface PlanView {
  forecast: Forecast;
  now: number;
  titles: ReadonlyMap<string, string>;
  running: ReadonlySet<string>;
  agents: Readonly<Record<string, number>>;
  numParallel: number;
  history: number;
  until?: number;
}

export function renderPlan(v: PlanView): string {
  const f = v.forecast;
  const lines: string[] = [];
  lines.push(
    `forecast of ${f.runs.length} run(s) from ${v.history} past run(s), ${f.samples} draws · ${v.numParallel} slot(s) · agents ${Object.entries(
      v.agents,
    )
      .map(([r, n]) => `${r}=${n}`)
      .join(' ')}`,
  );
  lines.push('run                          expected end (p50)      p90');
  // One past run: every draw is that run, so a p90 would only repeat the p50.
  const p90 = (ms: number) => (f.spread === 'none' ? '-' : `${clock(v.now + ms)} (+${duration(ms)})`);
  for (const r of f.runs) {
    const name = `${r.id}${v.running.has(r.id) ? ' (running)' : ''}`;
    const title = v.titles.get(r.id);
    lines.push(
      `  ${name.padEnd(26)} ${clock(v.now + r.p50Ms)} (+${duration(r.p50Ms)})`.padEnd(52) +
        ` ${p90(r.p90Ms)}${title ? `  ${title}` : ''}`,
    );
  }
  lines.push(
    `all done: p50 ${clock(v.now + f.makespan.p50Ms)} (+${duration(f.makespan.p50Ms)}), ${f.spread === 'none' ? NO_SPREAD : `p90 +${duration(f.makespan.p90Ms)}`}`,
  );
  lines.push(`slot utilisation ${(f.utilisation * 100).toFixed(0)}%`);
  const waits = [
    ...Object.entries(f.agentWaits).map(([role, w]) => ({ what: `work for the ${role}`, w })),
    ...Object.entries(f.slotWaits).map(([role, w]) => ({ what: `${role} calls for a slot`, w })),
  ]
    .filter((x) => x.w && x.w.meanMs * x.w.calls > 0)
    .sort((a, b) => (b.w?.meanMs ?? 0) * (b.w?.calls ?? 0) - (a.w?.meanMs ?? 0) * (a.w?.calls ?? 0));
  lines.push(waits.length === 0 ? 'nobody waits' : 'where the time goes waiting (per night, most first):');
  for (const { what, w } of waits.slice(0, 6)) {
    if (!w) continue;
    lines.push(
      `  ${what.padEnd(26)} waits ${duration(w.meanMs * w.calls)} in all (${w.calls.toFixed(1)} asks, mean ${duration(w.meanMs)})`,
    );
  }
  lines.push('what one more would change (p50 of the last end):');
  for (const w of f.whatIf) {
    const said =
      Math.abs(w.savedMs) < Math.max(50, f.makespan.p50Ms * 0.01)
        ? 'saves nothing'
        : w.savedMs > 0
          ? `saves ${duration(w.savedMs)}`
          : `costs ${duration(-w.savedMs)}`;
    lines.push(`  ${w.change.padEnd(14)} ${said}`);
  }
  if (v.until !== undefined && f.late) {
    const at = `${new Date(v.until).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
    if (f.late.likely.length === 0 && f.late.atRisk.length === 0)
      lines.push(`by ${at}: every run is expected to finish`);
    if (f.late.likely.length > 0)
      lines.push(`by ${at}: will NOT finish (p50 later): ${f.late.likely.join(', ')}`);
    if (f.late.atRisk.length > 0) lines.push(`by ${at}: at risk (p90 later): ${f.late.atRisk.join(', ')}`);
  }
  return `${lines.join('\n')}\n`;
}
