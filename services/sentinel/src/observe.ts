// One snapshot of the deployment as core's `detect` reads it: a deployment-wide observation
// (memory, queue depth, LLM latency, the Director's heartbeat) and one per active run (its fold,
// its agents' calls). Pure: the facts are gathered elsewhere (gather.ts).
import { DEFAULT_PHASE_EXPECTED_MS, type Observation, observeRun, type RunPhase } from '@nightshift/core';
import type { Role } from '@nightshift/protocol';
import type { AgentWindow } from './agents.js';
import type { RunView } from './runs.js';

export interface Facts {
  readonly now: number;
  /** Runs that have not ended. */
  readonly runs: readonly RunView[];
  /** BullMQ counts per queue (waiting, prioritized, paused, active, delayed, failed …). */
  readonly counts: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Earliest start (ms) of an active job per run and role: how long an agent has been busy. */
  readonly busy: Readonly<Record<string, Partial<Record<Role, number>>>>;
  readonly llmLatencyMs?: number;
  /** Per run: its model calls whose prompt may have been cut (issue 20), as seen since the start. */
  readonly promptCuts?: Readonly<Record<string, number>>;
  readonly memoryPercent?: number;
  /** The last time (Sentinel clock) a Director heartbeat was seen, or when watching began. */
  readonly directorLastSeen: number;
}

/** Requests waiting in a queue: waiting + prioritized + paused (what a worker would take next). */
export function depthOf(counts: Readonly<Record<string, number>>): number {
  return (counts.waiting ?? 0) + (counts.prioritized ?? 0) + (counts.paused ?? 0) + (counts.wait ?? 0);
}

/** Runs the rules judge: working ones. A run waiting for a human or paused is already in human hands. */
export function isWatched(view: RunView): boolean {
  return view.state.status === 'planning' || view.state.status === 'running';
}

export function buildObservations(
  facts: Facts,
  window: AgentWindow,
  raised: readonly string[],
  expectedMs: Readonly<Record<RunPhase, number>> = DEFAULT_PHASE_EXPECTED_MS,
): Observation[] {
  const queues = Object.fromEntries(Object.entries(facts.counts).map(([name, c]) => [name, depthOf(c)]));
  const deployment: Observation = {
    queues,
    director: { lastHeartbeatAt: facts.directorLastSeen },
    raised,
    ...(facts.memoryPercent === undefined ? {} : { memoryPercent: facts.memoryPercent }),
    ...(facts.llmLatencyMs === undefined ? {} : { llmLatencyMs: facts.llmLatencyMs }),
  };
  const perRun = facts.runs.filter(isWatched).map(
    (view): Observation => ({
      ...observeRun(view.state, expectedMs),
      runId: view.runId,
      agents: window.observe(view.runId, facts.busy[view.runId] ?? {}),
      ...(facts.promptCuts?.[view.runId] ? { promptCuts: facts.promptCuts[view.runId] } : {}),
      raised,
    }),
  );
  return [deployment, ...perRun];
}
