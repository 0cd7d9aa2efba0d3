// One snapshot of the deployment as core's `detect` reads it: a deployment-wide observation
// (memory, queue depth, LLM latency, the Director's heartbeat) and one per active run (its fold,
// its agents' calls). Pure: the facts are gathered elsewhere (gather.ts).
import { DEFAULT_PHASE_EXPECTED_MS, type Observation, observeRun, type RunPhase } from '@nightshift/core';
import type { Role } from '@nightshift/protocol';
import type { AgentWindow } from './agents.js';
import type { Circuit } from './circuit.js';
import type { RunView } from './runs.js';

export interface Facts {
  readonly now: number;
  /** Runs that have not ended. */
  readonly runs: readonly RunView[];
  /** BullMQ counts per queue (waiting, prioritized, paused, active, delayed, failed …). */
  readonly counts: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Earliest start (ms) of an active job per run and role: how long an agent has been busy. */
  readonly busy: Readonly<Record<string, Partial<Record<Role, number>>>>;
  /** Background calls waiting per queue (the Scribe's summaries on `llm`); part of `counts`. */
  readonly background?: Readonly<Record<string, number>>;
  /** The model provider's queue (`llm`) and its circuit: open or half-open = not known to answer. */
  readonly llmCircuit?: { readonly queue: string; readonly circuit: Circuit };
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

/**
 * The provider as the circuit sees it: down while the circuit is open or half-open (a trial has not
 * succeeded yet), since it first opened. A closed circuit says it answers (or was never seen failing).
 */
export function providerOf(queue: string, circuit: Circuit): NonNullable<Observation['provider']> {
  const down = circuit.state !== 'closed';
  // One outage, one incident: anchored where it began, not at each re-open after a failed trial.
  const since = circuit.downSince ?? circuit.openedAt;
  return down && since !== undefined ? { queue, down, since } : { queue, down };
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
  const background = facts.background ?? {};
  // The team's requests: what waits minus the background calls, judged apart (issue 21).
  const queues = Object.fromEntries(
    Object.entries(facts.counts).map(([name, c]) => [
      name,
      Math.max(0, depthOf(c) - (background[name] ?? 0)),
    ]),
  );
  const circuit = facts.llmCircuit;
  const deployment: Observation = {
    queues,
    backgroundQueues: background,
    ...(circuit === undefined ? {} : { provider: providerOf(circuit.queue, circuit.circuit) }),
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
