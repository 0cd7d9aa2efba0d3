// Following one run until it needs nobody (ended) or needs a human (waiting-human): polls the
// run's version (one cheap HGET), folds again only when it moved, and reports each change.
import { isTerminal } from '@nightshift/core';
import { NightshiftError } from '@nightshift/protocol';
import { QUEUE_NAMES } from '@nightshift/redis';
import type { ControlParts } from './parts.js';
import { type LoadedRun, loadRun } from './runs.js';

/** Options of `followRun` and `watchRun`. */
export interface FollowOptions {
  signal?: AbortSignal;
  /** Poll interval, ms (default 500). */
  intervalMs?: number;
  /** The `runs` job id: while the run does not exist yet, a failed job ends the wait with its reason. */
  jobId?: string;
  /** Called after each poll, changed or not (a progress line redraws its elapsed time). */
  onTick?: (latest: LoadedRun | undefined) => void;
}

/** How a follow ended: the run ended, it waits for a human, or the caller stopped it (signal). */
export type FollowEnd = 'ended' | 'waiting-human' | 'stopped';

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** How a follow ended, and the run as last seen (undefined if it never appeared). */
export interface FollowResult {
  end: FollowEnd;
  run: LoadedRun | undefined;
}

/**
 * The run's changes as an AsyncIterable (issue 22): yields the run each time it moved, and returns
 * how the follow ended. `for await (const run of control.watchRun(id)) …` in a script.
 */
export async function* watchRun(
  parts: ControlParts,
  runId: string,
  options: FollowOptions = {},
): AsyncGenerator<LoadedRun, FollowResult> {
  const interval = options.intervalMs ?? 500;
  let latest: LoadedRun | undefined;
  let seen = -1;
  while (!options.signal?.aborted) {
    const version = await parts.store.version(runId);
    if (version !== seen) {
      seen = version;
      latest = await loadRun(parts.store, runId);
      if (latest.state.runId !== null) yield latest;
    }
    options.onTick?.(latest);
    const status = latest?.state.runId ? latest.state.status : undefined;
    if (status !== undefined && isTerminal(status)) return { end: 'ended', run: latest };
    if (status === 'waiting-human') return { end: 'waiting-human', run: latest };
    if (status === undefined && options.jobId !== undefined)
      await failIfJobFailed(parts, runId, options.jobId);
    await sleep(interval, options.signal);
  }
  return { end: 'stopped', run: latest };
}

/** The same follow with a callback per change (the CLI's progress lines). */
export async function followRun(
  parts: ControlParts,
  runId: string,
  onChange: (run: LoadedRun) => void,
  options: FollowOptions = {},
): Promise<FollowResult> {
  const changes = watchRun(parts, runId, options);
  for (;;) {
    const next = await changes.next();
    if (next.done === true) return next.value;
    onChange(next.value);
  }
}

/**
 * Throws RUN_JOB_FAILED with the Director's reason when the run's `runs` job has failed (refused).
 * The state is read first and the job after it: a job object read before it failed carries no
 * failedReason, and the error said "refused: undefined".
 */
export async function failIfJobFailed(parts: ControlParts, runId: string, jobId: string): Promise<void> {
  const queue = parts.queue(QUEUE_NAMES.runs);
  if ((await queue.getJobState(jobId)) !== 'failed') return;
  const reason = (await queue.getJob(jobId))?.failedReason;
  throw new NightshiftError('RUN_JOB_FAILED', `run ${runId} was refused: ${reason}`, {
    category: 'invalid-input',
    details: { runId, jobId, reason },
  });
}
