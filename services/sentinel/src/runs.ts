// Reading runs (fold of their events, cached by version) and appending to them through the guarded
// store, re-reading on a version conflict (ARCHITECTURE §3: the Director may write at the same time).
import {
  fold,
  isTerminal,
  parseRunEvent,
  type RunEvent,
  type RunEventDraft,
  type RunState,
  stamp,
} from '@nightshift/core';
import type { RunStore } from '@nightshift/redis';
import type { Logger } from '@nightshift/runtime';

export interface RunView {
  readonly runId: string;
  readonly version: number;
  readonly state: RunState;
}

export async function loadRun(store: RunStore, runId: string, logger?: Logger): Promise<RunView> {
  const stored = await store.read(runId);
  const events: RunEvent[] = [];
  for (const s of stored) {
    try {
      events.push(parseRunEvent(s.event));
    } catch (error) {
      logger?.warn({ runId, version: s.version, err: error }, 'skipping an unreadable run event');
    }
  }
  return { runId, version: stored.at(-1)?.version ?? 0, state: fold(events) };
}

/** Folded runs, re-read only when their version moved; ended runs are kept and never re-read. */
export class RunCache {
  readonly #store: RunStore;
  readonly #logger: Logger | undefined;
  readonly #views = new Map<string, RunView>();

  constructor(store: RunStore, logger?: Logger) {
    this.#store = store;
    this.#logger = logger;
  }

  /** Every run that has not ended. */
  async open(): Promise<RunView[]> {
    const out: RunView[] = [];
    for (const runId of await this.#store.list(10_000)) {
      const cached = this.#views.get(runId);
      if (cached && isTerminal(cached.state.status)) continue;
      const version = await this.#store.version(runId);
      const view =
        cached && cached.version === version ? cached : await loadRun(this.#store, runId, this.#logger);
      this.#views.set(runId, view);
      if (view.state.runId !== null && !isTerminal(view.state.status)) out.push(view);
    }
    return out;
  }

  async get(runId: string): Promise<RunView> {
    const view = await loadRun(this.#store, runId, this.#logger);
    this.#views.set(runId, view);
    return view;
  }
}

/**
 * Appends what `decide` returns for the run's current state (nothing = no append), retrying on a
 * conflict with a fresh read. Returns the events appended (empty when `decide` declined).
 */
export async function appendToRun(
  store: RunStore,
  runId: string,
  decide: (state: RunState) => RunEventDraft[],
  now: () => number,
  logger?: Logger,
): Promise<RunEvent[]> {
  for (let attempt = 0; attempt < 10; attempt++) {
    const view = await loadRun(store, runId, logger);
    if (view.state.runId === null) return [];
    const drafts = decide(view.state);
    if (drafts.length === 0) return [];
    const at = new Date(now()).toISOString();
    const events = drafts.map((d) => stamp(d, at));
    const result = await store.append(runId, view.version, events, now());
    if (result.ok) return events;
  }
  logger?.warn({ runId }, 'gave up appending to the run after 10 version conflicts');
  return [];
}
