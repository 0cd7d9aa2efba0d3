// Growth per resource over the soak and the bounds asserted on it (issue 21 §2): RSS slope per
// service per run after warm-up; Redis keys and used_memory within a per-run allowance while runs
// are in flight, and bounded absolutely once the retention policy has archived every run.
import { check } from './end-checks.mjs';

const MB = 2 ** 20;

/** Least-squares slope of y over x (null with fewer than 3 points or no spread in x). */
export function slope(points) {
  if (points.length < 3) return null;
  const n = points.length;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  const sxx = points.reduce((s, p) => s + (p.x - mx) ** 2, 0);
  if (sxx === 0) return null;
  return points.reduce((s, p) => s + (p.x - mx) * (p.y - my), 0) / sxx;
}

/**
 * RSS slope of each service in MB per run after warm-up: the slope over time of each process (a
 * restarted service starts a new line after its own warm-up), times the soak's seconds per run;
 * the steepest process of a slot is its figure; a process seen for less than half the window is
 * not measured (null).
 */
export function rssSlopes(samples, warmupRuns) {
  const after = samples.filter((s) => s.runsFinished >= warmupRuns);
  if (after.length < 2) return { perRunSeconds: null, slots: {} };
  const first = after[0];
  const last = after.at(-1);
  const runs = last.runsFinished - first.runsFinished;
  const perRunSeconds = runs > 0 ? (last.at - first.at) / 1000 / runs : null;
  // A process restarted mid-soak warms up again: its line starts `warmupRuns` runs after its start.
  const started = new Map();
  for (const s of samples)
    for (const [slot, { pid }] of Object.entries(s.rss))
      if (!started.has(`${slot} ${pid}`)) started.set(`${slot} ${pid}`, s.runsFinished);
  const lines = new Map();
  for (const s of after) {
    for (const [slot, { pid, bytes }] of Object.entries(s.rss)) {
      const key = `${slot} ${pid}`;
      if (s.runsFinished < (started.get(key) ?? 0) + warmupRuns) continue;
      if (!lines.has(key)) lines.set(key, { slot, points: [] });
      lines.get(key).points.push({ x: s.at / 1000, y: bytes });
    }
  }
  // A process that lived less than half of the window after warm-up (restarted late) gives no
  // slope worth the name: one GC or one archive pass decides it. It is left unmeasured.
  const minSpan = (last.at - first.at) / 2000;
  const slots = {};
  for (const { slot, points } of lines.values()) {
    const span = points.length > 0 ? points.at(-1).x - points[0].x : 0;
    const perSecond = span >= minSpan ? slope(points) : null;
    if (perSecond === null || perRunSeconds === null) {
      slots[slot] ??= null;
      continue;
    }
    const mbPerRun = (perSecond * perRunSeconds) / MB;
    if (slots[slot] === undefined || slots[slot] === null || mbPerRun > slots[slot]) slots[slot] = mbPerRun;
  }
  return { perRunSeconds, slots };
}

/** The Redis figures of the samples that reached Redis (a sample taken mid-restart has none). */
const redisSamples = (samples) => samples.filter((s) => s.redis !== undefined);

/** Growth figures and their checks. */
export function growthChecks(samples, opts, retained) {
  const checks = [];
  const rss = rssSlopes(samples, opts.warmupRuns);
  const measured = Object.entries(rss.slots).filter(([, v]) => v !== null);
  const over = measured.filter(([, v]) => v > opts.rssSlopeMbPerRun);
  check(
    checks,
    `RSS slope of every service ≤ ${opts.rssSlopeMbPerRun} MB/run after ${opts.warmupRuns} warm-up run(s)`,
    measured.length > 0 && over.length === 0,
    measured.map(([slot, v]) => `${slot} ${v.toFixed(2)}`).join(', ') || 'too few samples after warm-up',
  );

  // The baseline is the first sample after warm-up (the first runs load Lua scripts, open
  // connections, create groups: a one-off cost, not growth); the allowance counts the runs
  // enqueued since, plus those in flight then.
  const withRedis = redisSamples(samples).filter((s) => s.runsFinished >= opts.warmupRuns);
  const first = withRedis[0];
  const base = first?.redis;
  const allowance = (s, perRun) => perRun * (s.runsCreated - first.runsCreated + opts.parallel);
  const keysOver = withRedis.filter((s) => s.redis.keys > base.keys + allowance(s, opts.keysPerRun));
  const last = withRedis.at(-1);
  const runsSince = last && first ? last.runsCreated - first.runsCreated : 0;
  const keysPerRun = runsSince > 0 ? (last.redis.keys - base.keys) / runsSince : null;
  check(
    checks,
    `Redis keys ≤ baseline + ${opts.keysPerRun} × runs (per-run allowance)`,
    base !== undefined && keysOver.length === 0,
    `${base?.keys ?? '?'} → ${last?.redis.keys ?? '?'} keys over ${runsSince} runs after warm-up (${keysPerRun?.toFixed(1) ?? '?'} per run)`,
  );
  const memPerRunKb = opts.usedMemoryKbPerRun;
  const memOver = withRedis.filter(
    (s) => s.redis.usedMemory > base.usedMemory + allowance(s, memPerRunKb * 1024),
  );
  const usedPerRunKb = runsSince > 0 ? (last.redis.usedMemory - base.usedMemory) / 1024 / runsSince : null;
  check(
    checks,
    `Redis used_memory ≤ baseline + ${memPerRunKb} KB × runs (per-run allowance)`,
    base !== undefined && memOver.length === 0,
    `${((base?.usedMemory ?? 0) / MB).toFixed(1)} → ${((last?.redis.usedMemory ?? 0) / MB).toFixed(1)} MB (${usedPerRunKb?.toFixed(0) ?? '?'} KB per run)`,
  );
  // Retention (issue 21 §2): once every run is archived, what stays does not depend on the runs.
  const r = retained;
  const empty = samples.find((s) => s.redis !== undefined)?.redis; // before the first run
  const keysLeft = r.keys - (empty?.keys ?? 0);
  const memLeftMb = (r.usedMemory - (empty?.usedMemory ?? 0)) / MB;
  check(
    checks,
    `Redis bounded absolutely by retention: every run archived, then keys ≤ baseline + ${opts.keysAfterRetention} and used_memory ≤ baseline + ${opts.usedMemoryMbAfterRetention} MB`,
    empty !== undefined &&
      r.allArchived &&
      r.archives >= r.runs &&
      keysLeft <= opts.keysAfterRetention &&
      memLeftMb <= opts.usedMemoryMbAfterRetention,
    `${r.archives}/${r.runs} runs archived, ${r.runsInRedis} left in Redis; ${r.keys} keys (+${keysLeft}), used_memory ${(r.usedMemory / MB).toFixed(1)} MB (+${memLeftMb.toFixed(1)})`,
  );
  return { checks, rss, keysPerRun, usedPerRunKb };
}
