// A run as the Scribe reads it: its readable events with their stored versions, and the state
// they fold to (the Director's own fold, so both always agree on what happened).
import { fold, parseRunEvent, type RunEvent, type RunState } from '@nightshift/core';
import type { RunStore } from '@nightshift/redis';
import type { Logger } from '@nightshift/runtime';

export interface LoadedRun {
  runId: string;
  events: RunEvent[];
  /** Stored version of each readable event (same index as `events`). */
  versions: number[];
  state: RunState;
  /** Stored version of the newest event (unreadable ones count). */
  version: number;
}

/** The run, or undefined when it does not exist (no run.created yet). */
export async function loadRun(
  store: RunStore,
  runId: string,
  logger: Logger,
): Promise<LoadedRun | undefined> {
  const stored = await store.read(runId);
  const events: RunEvent[] = [];
  const versions: number[] = [];
  for (const s of stored) {
    try {
      events.push(parseRunEvent(s.event));
      versions.push(s.version);
    } catch (error) {
      logger.warn({ runId, version: s.version, err: error }, 'skipping an unreadable run event');
    }
  }
  const state = fold(events);
  if (state.runId === null) return undefined;
  return { runId, events, versions, state, version: stored.at(-1)?.version ?? 0 };
}
