// The soak's markdown table and plots. The plots are Vega-Lite specs rendered to SVG by the morning
// report's own pipeline (`toSvg` of @nightshift/cli: vega's headless view, no browser).
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toSvg } from '@nightshift/cli';
import { groupStreams } from './sampler.mjs';

const MB = 2 ** 20;
const round = (x, d = 1) =>
  x === null || x === undefined || Number.isNaN(x) ? '—' : (Math.round(x * 10 ** d) / 10 ** d).toString();
const seconds = (ms, d = 1) => (ms === null || ms === undefined ? '—' : `${round(ms / 1000, d)} s`);

export function percentile(values, p) {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

/** Recovery per fault kind: count, p50 and max (ms) of those that recovered. */
export function recoveryByKind(faults) {
  const out = {};
  for (const f of faults) {
    out[f.kind] ??= { count: 0, recovered: 0, times: [] };
    out[f.kind].count++;
    if (f.recovered) out[f.kind].recovered++;
    if (f.recoveryMs !== null) out[f.kind].times.push(f.recoveryMs);
  }
  for (const k of Object.values(out)) {
    k.p50Ms = percentile(k.times, 50);
    k.maxMs = k.times.length ? Math.max(...k.times) : null;
  }
  return out;
}

/** Growth of each resource from the first sample after warm-up to the last. */
export function growthRows(report) {
  const samples = report.samples.filter((s) => s.redis !== undefined);
  const first = samples.find((s) => s.runsFinished >= report.options.warmupRuns) ?? samples[0];
  const last = samples.at(-1);
  if (!first || !last) return [];
  const runs = Math.max(1, last.runsFinished - first.runsFinished);
  const sum = (o) => Object.values(o).reduce((a, b) => a + b, 0);
  const row = (what, a, b, unit, scale = 1) => ({
    what,
    from: a / scale,
    to: b / scale,
    perRun: (b - a) / scale / runs,
    unit,
  });
  return [
    row('Redis used_memory', first.redis.usedMemory, last.redis.usedMemory, 'MB', MB),
    row('Redis keys', first.redis.keys, last.redis.keys, 'keys'),
    row('stream entries (all streams)', sum(first.redis.streams), sum(last.redis.streams), 'entries'),
    row('memory directory', first.memoryDirBytes, last.memoryDirBytes, 'MB', MB),
    row('log volume (all services)', sum(first.logBytes), sum(last.logBytes), 'MB', MB),
  ];
}

export function renderTable(report) {
  const m = report.machine;
  const ended = report.runs.filter((r) => r.endedAt !== undefined);
  const makespans = ended.map((r) => r.makespanMs);
  const lines = [
    `Soak ${report.mode} run, ${report.date} — ${m.nproc} cores, ${m.memTotalGb} GB, load at start ${m.loadavg}, node ${m.node}; ${(report.durationMs / 60_000).toFixed(1)} min`,
    '',
    `Runs: ${report.runs.length} enqueued (up to ${report.options.parallel} at once), ${report.runs.filter((r) => r.status === 'finished').length} finished, ${report.runs.filter((r) => r.waitedForHuman).length} of them after waiting for a human; makespan p50 ${seconds(percentile(makespans, 50))}, max ${seconds(makespans.length ? Math.max(...makespans) : null)}; drift ${seconds(report.drift.msPerRun, 2)} per run`,
    '',
    '| fault | count | recovered | recovery p50 | recovery max |',
    '|---|---:|---:|---:|---:|',
  ];
  for (const [kind, r] of Object.entries(report.recovery))
    lines.push(`| ${kind} | ${r.count} | ${r.recovered} | ${seconds(r.p50Ms)} | ${seconds(r.maxMs)} |`);
  const inRedis = report.samples.map((s) => s.redis?.runsInRedis).filter((n) => n !== undefined);
  const r = report.retained;
  if (r)
    lines.push(
      '',
      `Retention (runs archived ${report.options.retentionSec} s after they end): at most ${inRedis.length ? Math.max(...inRedis) : '—'} runs in Redis at once during the soak, of ${r.runs}; afterwards ${r.runsInRedis} in Redis, ${r.archives} archive files, ${r.keys} keys, used_memory ${round(r.usedMemory / MB)} MB.`,
    );
  lines.push('', '| resource | after warm-up | end | per run |', '|---|---:|---:|---:|');
  for (const g of report.growthTable)
    lines.push(
      `| ${g.what} | ${round(g.from)} ${g.unit} | ${round(g.to)} ${g.unit} | ${round(g.perRun, 3)} ${g.unit} |`,
    );
  for (const [slot, v] of Object.entries(report.growth.rss.slots))
    lines.push(`| RSS ${slot} (slope) | | | ${round(v, 2)} MB |`);
  lines.push('', '| check | result | detail |', '|---|---|---|');
  for (const c of report.checks)
    lines.push(`| ${c.name} | ${c.status.toUpperCase()} | ${c.detail.replace(/\|/g, '/').slice(0, 300)} |`);
  return lines.join('\n');
}

const base = { width: 640, height: 180, background: 'white', config: { font: 'sans-serif' } };

/** A line chart of `series` over minutes since the start, with a rule at every fault. */
function timeChart(title, values, yTitle, faults) {
  return {
    ...base,
    title,
    layer: [
      {
        data: { values },
        mark: { type: 'line', interpolate: 'step-after' },
        encoding: {
          x: { field: 'min', type: 'quantitative', title: 'minutes since the start' },
          y: { field: 'value', type: 'quantitative', title: yTitle },
          color: { field: 'series', type: 'nominal', title: null },
        },
      },
      {
        data: { values: faults },
        mark: { type: 'rule', strokeDash: [4, 3], color: 'gray' },
        encoding: { x: { field: 'min', type: 'quantitative' }, tooltip: [{ field: 'kind' }] },
      },
    ],
  };
}

/** Writes the plots as SVG files into `dir`; returns their file names and titles. */
export async function writePlots(report, dir) {
  const t0 = report.samples[0]?.at ?? 0;
  const min = (t) => Math.round((t - t0) / 600) / 100;
  const faults = report.faults.map((f) => ({ min: min(f.at), kind: f.kind }));
  const long = (pick, scale = 1) =>
    report.samples.flatMap((s) =>
      Object.entries(pick(s) ?? {}).map(([series, v]) => ({ min: min(s.at), series, value: v / scale })),
    );
  const specs = {
    'soak-rss.svg': timeChart(
      'RSS per service',
      long((s) => Object.fromEntries(Object.entries(s.rss).map(([k, v]) => [k, v.bytes])), MB),
      'MB',
      faults,
    ),
    'soak-redis.svg': timeChart(
      'Redis used_memory (MB) and key count (hundreds)',
      long((s) => s.redis && { 'used_memory MB': s.redis.usedMemory / MB, 'keys / 100': s.redis.keys / 100 }),
      'value',
      faults,
    ),
    'soak-streams.svg': timeChart(
      'Stream lengths',
      long((s) => s.redis && groupStreams(s.redis.streams)),
      'entries',
      faults,
    ),
    'soak-disk.svg': timeChart(
      'Memory directory and log volume',
      long(
        (s) => ({
          'memory dir': s.memoryDirBytes,
          logs: Object.values(s.logBytes).reduce((a, b) => a + b, 0),
        }),
        MB,
      ),
      'MB',
      faults,
    ),
    'soak-queues.svg': timeChart(
      'Queue depths',
      long((s) => s.redis?.queues),
      'jobs',
      faults,
    ),
    'soak-makespan.svg': {
      ...base,
      title: 'Makespan per run (drift)',
      data: {
        values: report.runs
          .filter((r) => r.makespanMs !== undefined)
          .map((r) => ({ run: r.index + 1, s: r.makespanMs / 1000 })),
      },
      mark: { type: 'point', filled: true },
      encoding: {
        x: { field: 'run', type: 'quantitative', title: 'run (in order enqueued)' },
        y: { field: 's', type: 'quantitative', title: 'seconds' },
      },
    },
    'soak-recovery.svg': {
      ...base,
      title: 'Recovery time per fault',
      data: {
        values: report.faults.map((f, i) => ({
          fault: i + 1,
          kind: f.kind,
          s: f.recoveryMs === null ? null : f.recoveryMs / 1000,
        })),
      },
      mark: { type: 'bar', tooltip: true },
      encoding: {
        x: { field: 'fault', type: 'ordinal', title: 'fault (in order)' },
        y: { field: 's', type: 'quantitative', title: 'seconds to progress again' },
        color: { field: 'kind', type: 'nominal' },
      },
    },
  };
  const written = [];
  for (const [file, spec] of Object.entries(specs)) {
    writeFileSync(join(dir, file), await toSvg(spec));
    written.push({ file, title: spec.title });
  }
  return written;
}
