// The ETA of each queued and running run (issue 24 §3), for `nightshift status`, the dashboard
// and scripts. Computed on read, here, from the run store and the same history `nightshift plan`
// learns from: each run under way is forecast from where it is (steps done skipped, a step in
// flight only its expected rest), with the runs queued behind it, on the agents alive and the
// gateway's slots. Why on read and not written by the Director at each step: a forecast is
// derived data (the event log stays the run's only truth), it must cover runs the Director has
// not taken yet, and its cost lands on readers, not on the loop that drives the runs. It stays
// cheap with dozens of runs: ended runs are read once per reader (`EndedRuns`), one forecast
// without what-ifs serves every run, and one result is shared for `cacheMs` however many
// readers ask (the dashboard's pages and API, every few seconds).
import { forecast, NO_SPREAD, type QueuedRun } from '@nightshift/core';
import { isNightshiftError } from '@nightshift/protocol';
import { QUEUE_NAMES } from '@nightshift/redis';
import { type EndedRuns, liveAgents, pickedUpFromJobs, queuedRuns, readRuns } from './history.js';
import type { ControlParts, EtaOptions } from './parts.js';
import type { EtaBoard, RunEta } from './schemas.js';

/** The config's defaults (packages/config `plan`); `main.ts` and the CLI pass the configured ones. */
export const ETA_DEFAULTS: EtaOptions = { historyRuns: 20, samples: 100, cacheMs: 5000, loadStretch: 0.08 };

/** The note of an ETA that cannot be forecast yet: no finished run to learn step times from. */
export const NO_HISTORY = 'no history yet: no finished run to learn step times from';

/** One forecast of every queued and running run, now. */
export async function computeEtas(
  parts: ControlParts,
  options: EtaOptions,
  ended: EndedRuns = new Map(),
): Promise<EtaBoard> {
  const now = parts.now().getTime();
  const madeAt = new Date(now).toISOString();
  const { profile, running } = await readRuns(parts.redis, parts.store, parts.keys, options.historyRuns, {
    nowMs: now,
    ended,
    pickedUp: pickedUpFromJobs((name) => parts.queue(name)),
    ...(parts.archive ? { archive: parts.archive } : {}),
  });
  const runs: (QueuedRun & { state: RunEta['state'] })[] = running.map((r) => ({ ...r, state: 'running' }));
  for (const q of await queuedRuns(parts.queue(QUEUE_NAMES.runs))) {
    if (!runs.some((r) => r.id === q.id)) runs.push({ id: q.id, state: 'queued' });
  }
  const board = { madeAt, history: profile.runs.length, samples: options.samples };
  const without = (note: string): EtaBoard => ({
    ...board,
    runs: runs.map((r) => ({ runId: r.id, state: r.state, p50At: null, p90At: null, note })),
  });
  if (runs.length === 0) return { ...board, runs: [] };
  if (profile.runs.length === 0) return without(NO_HISTORY);
  const global = await parts.queue(QUEUE_NAMES.llm).getGlobalConcurrency();
  try {
    const f = forecast({
      profile,
      runs: runs.map(({ state: _, ...r }) => r),
      agents: await liveAgents(parts.redis, parts.keys),
      numParallel: typeof global === 'number' && global > 0 ? global : parts.numParallel,
      samples: options.samples,
      seed: options.seed ?? 1,
      whatIf: false,
      ...(options.loadStretch ? { loadStretch: options.loadStretch } : {}),
    });
    const at = (ms: number) => new Date(now + ms).toISOString();
    return {
      ...board,
      runs: runs.map((r, i) => {
        const e = f.runs[i];
        if (!e || !Number.isFinite(e.p50Ms) || !Number.isFinite(e.p90Ms))
          return { runId: r.id, state: r.state, p50At: null, p90At: null, note: 'not forecast' };
        // One past run gives no spread: no p90 rather than one equal to the p50.
        return f.spread === 'none'
          ? { runId: r.id, state: r.state, p50At: at(e.p50Ms), p90At: null, note: NO_SPREAD }
          : { runId: r.id, state: r.state, p50At: at(e.p50Ms), p90At: at(e.p90Ms), note: null };
      }),
    };
  } catch (error) {
    // History the planner cannot use (a recorded run missing a step): say so instead of an ETA.
    if (isNightshiftError(error) && error.category === 'invalid-input') return without(error.message);
    throw error;
  }
}

/** A reader's ETA source: one forecast per `cacheMs`, shared by concurrent readers. */
export function createEtaSource(parts: ControlParts, options: EtaOptions): () => Promise<EtaBoard> {
  const ended: EndedRuns = new Map();
  let cached: { at: number; board: Promise<EtaBoard> } | undefined;
  return () => {
    const now = parts.now().getTime();
    if (cached && now - cached.at < options.cacheMs) return cached.board;
    const board = computeEtas(parts, options, ended);
    const entry = { at: now, board };
    cached = entry;
    // A failed forecast is not kept: the next reader tries again.
    board.catch(() => {
      if (cached === entry) cached = undefined;
    });
    return board;
  };
}
