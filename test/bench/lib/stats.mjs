// The arithmetic of the benchmark: percentiles, overlap peaks, slot utilisation and priority
// inversions, kept apart from the measuring so each definition is in one place.

/** Nearest-rank percentile of an already sorted array (p in 0..100). */
export function percentile(sorted, p) {
  if (sorted.length === 0) return Number.NaN;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** p50/p99/max/mean of a list of latencies in ms. */
export function latencySummary(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mean = sorted.reduce((s, v) => s + v, 0) / Math.max(1, sorted.length);
  return {
    count: sorted.length,
    p50Ms: round(percentile(sorted, 50), 3),
    p99Ms: round(percentile(sorted, 99), 3),
    maxMs: round(sorted.at(-1) ?? Number.NaN, 3),
    meanMs: round(mean, 3),
  };
}

export function round(value, digits = 2) {
  if (!Number.isFinite(value)) return value;
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}

/**
 * Most intervals open at one instant. An interval ending at t and one starting at t do not
 * overlap (ends sort first). Open intervals (`to` null) count as still running.
 */
export function peakOverlap(intervals, from = 'start', to = 'end') {
  const events = [];
  for (const r of intervals) {
    if (r[from] === null || r[from] === undefined) continue;
    events.push([r[from], 1]);
    events.push([r[to] ?? Number.POSITIVE_INFINITY, -1]);
  }
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let current = 0;
  let peak = 0;
  for (const [, delta] of events) {
    current += delta;
    peak = Math.max(peak, current);
  }
  return peak;
}

/**
 * Slot utilisation = busy slot-time / (limit × wall): the share of the limit's capacity spent
 * serving calls. Busy = Σ (end − start) of the calls Ollama answered 200.
 */
export function slotUtilisation(records, limit, wallMs) {
  const busy = records
    .filter((r) => r.status === 200 && r.start !== null && r.end !== null)
    .reduce((sum, r) => sum + (r.end - r.start), 0);
  return { busyMs: busy, utilisation: wallMs > 0 ? busy / (limit * wallMs) : Number.NaN };
}

/**
 * Priority inversions among calls `{ priority, enqueued, start }` (lower priority number = more
 * urgent; times in ms). A pair (H, L) with priority(H) < priority(L) is
 *   - competing when H was enqueued before L and had not started when L was enqueued
 *     (both waited at the limiter at the same time, H first);
 *   - an inversion when, competing, L still started before H.
 * `marginMs` > 0 counts only clear cases: H enqueued more than margin before L, and L started
 * more than margin before H (absorbs clock stamping and HTTP hand-off jitter of a few ms).
 */
export function priorityInversions(calls, marginMs = 0) {
  const n = calls.length;
  const prio = new Float64Array(n);
  const enq = new Float64Array(n);
  const start = new Float64Array(n);
  calls.forEach((c, i) => {
    prio[i] = c.priority;
    enq[i] = c.enqueued;
    start[i] = c.start;
  });
  let competing = 0;
  let inversions = 0;
  for (let h = 0; h < n; h++) {
    const ph = prio[h];
    const eh = enq[h];
    const sh = start[h];
    for (let l = 0; l < n; l++) {
      if (ph >= prio[l]) continue;
      const el = enq[l];
      if (!(eh + marginMs < el) || !(sh > el)) continue;
      competing++;
      if (start[l] + marginMs < sh) inversions++;
    }
  }
  return { competing, inversions };
}

/**
 * Slot hand-off gaps: with the queue never empty, the (k + limit)-th call to start (in time
 * order) fills the slot freed by the k-th call to end, so gap_k = start[k + limit] − end[k] is
 * the time a freed slot stayed idle. Summarised in ms.
 */
export function handOffGaps(records, limit) {
  const served = records.filter((r) => r.status === 200 && r.start !== null && r.end !== null);
  const starts = served.map((r) => r.start).sort((a, b) => a - b);
  const ends = served.map((r) => r.end).sort((a, b) => a - b);
  const gaps = [];
  for (let k = 0; k + limit < starts.length; k++) gaps.push(Math.max(0, starts[k + limit] - ends[k]));
  return latencySummary(gaps);
}
