// Following a run with a live progress line (issue 11 §3): on a terminal one line redrawn in place
// (phase, step, elapsed, tokens); on a pipe or file a plain line each time something but the
// clock changed; with --json one object per change. Ends with the run's exit code.
import type { Control, LoadedRun } from '@nightshift/client';
import { isTTY } from './control-deps.js';
import type { CliDeps } from './deps.js';
import { progressLine } from './format.js';
import { exitWith, RUN_EXIT } from './steer-options.js';

export interface FollowProgressOptions {
  json?: boolean;
  jobId?: string;
  intervalMs?: number;
}

function jsonProgress(run: LoadedRun, now: Date): Record<string, unknown> {
  const s = run.state;
  return {
    event: 'progress',
    runId: s.runId,
    version: run.version,
    status: s.status,
    phase: s.phase,
    iteration: s.iteration,
    steps: Object.keys(s.inFlight),
    tokens: s.budget.spent.tokens,
    elapsedMs: s.createdAt === null ? 0 : now.getTime() - Date.parse(s.createdAt),
  };
}

/** Follows `runId` until it ends or waits for a human; throws the exit code as a CommanderError. */
export async function followWithProgress(
  deps: CliDeps,
  control: Control,
  runId: string,
  options: FollowProgressOptions = {},
): Promise<void> {
  const now = () => deps.now?.() ?? new Date();
  const tty = isTTY(deps) && !options.json;
  let lastPlain = '';
  let drawn = false;
  const plainKey = (run: LoadedRun) =>
    progressLine(run.state, new Date(0)).replace(/ · \d+h?\d+m\d+s · /, ' · ');
  const { end, run } = await control.followRun(
    runId,
    (changed) => {
      if (options.json) {
        deps.stdout(`${JSON.stringify(jsonProgress(changed, now()))}\n`);
      } else if (!tty) {
        const key = plainKey(changed);
        if (key !== lastPlain)
          deps.stdout(`${now().toISOString()} ${runId} ${progressLine(changed.state, now())}\n`);
        lastPlain = key;
      }
    },
    {
      signal: deps.signal,
      ...(options.jobId === undefined ? {} : { jobId: options.jobId }),
      ...(options.intervalMs === undefined ? {} : { intervalMs: options.intervalMs }),
      onTick: (latest) => {
        if (!tty) return;
        const line = latest?.state.runId
          ? progressLine(latest.state, now())
          : `waiting for the Director to start ${runId}…`;
        deps.stdout(`\r\x1b[2K${line}`);
        drawn = true;
      },
    },
  );
  if (drawn) deps.stdout('\n');
  const state = run?.state;
  if (options.json) {
    deps.stdout(
      `${JSON.stringify({ event: 'end', runId, end, status: state?.status ?? null, outcome: state?.outcome ?? null, waiting: state?.waiting ?? null })}\n`,
    );
  }
  if (end === 'stopped') {
    exitWith(
      deps.stderr,
      RUN_EXIT.interrupted,
      'interrupted',
      `stopped following ${runId}; the run goes on (nightshift status --run ${runId})`,
    );
  }
  if (end === 'waiting-human') {
    exitWith(
      deps.stderr,
      RUN_EXIT.waitingHuman,
      'waitingHuman',
      `run ${runId} waits for a human: ${state?.waiting?.reason ?? 'see nightshift status'}\n` +
        `answer with: nightshift decide ${runId} --continue | --revise "note" | --finish | --abort`,
    );
  }
  if (state?.status !== 'finished') {
    exitWith(
      deps.stderr,
      RUN_EXIT.failed,
      'runFailed',
      `run ${runId} ended ${state?.status ?? 'unknown'}${state?.summary ? `: ${state.summary}` : ''}`,
    );
  }
  if (!options.json) deps.stdout(`run ${runId} finished${state.summary ? `: ${state.summary}` : ''}\n`);
}
