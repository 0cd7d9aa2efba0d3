// Deterministic replay (issue 12): re-runs the workflow over a recorded event log, with the
// recorded model replies (they are in the events), and checks that at every point the
// transition function commands exactly what was recorded. No model is called; time is the
// recorded time. A changed build of the workflow shows where it diverges from the recording.
import type { RunEvent, RunEventType } from './events.js';
import { apply } from './fold.js';
import { initialState, type RunState } from './state.js';
import { type Command, DEFAULT_WORKFLOW_CONFIG, next, type WorkflowConfig } from './workflow.js';

/** Events the workflow itself decides (its outputs); every other event is an input from outside. */
const OUTPUTS: ReadonlySet<RunEventType> = new Set([
  'phase.started',
  'step.requested',
  'run.waiting-human',
  'run.finished',
]);

export interface ReplayStep {
  /** 1-based position of the event in the log. */
  version: number;
  event: RunEvent;
  /** What the workflow commanded just before this event (short form, e.g. `request:build`). */
  commanded: string[];
  /** Inputs are always accepted; outputs must have been commanded. */
  kind: 'input' | 'output';
  ok: boolean;
  state: RunState;
}

export interface Divergence {
  version: number;
  event: RunEvent;
  commanded: string[];
  reason: string;
}

export interface ReplayResult {
  steps: ReplayStep[];
  final: RunState;
  divergence?: Divergence;
}

export function describeCommand(c: Command): string {
  switch (c.kind) {
    case 'emit':
      return `emit:${c.event.type}${c.event.type === 'phase.started' ? `(${c.event.phase},${c.event.iteration})` : ''}`;
    case 'request':
    case 'decide':
      return `${c.kind}:${c.step}`;
    case 'finish':
      return `finish:${c.outcome}`;
    case 'wait':
      return `wait:${c.on}`;
  }
}

/** Does `event` carry out one of `commands`? */
function explains(commands: readonly Command[], event: RunEvent): boolean {
  return commands.some((c) => {
    if (c.kind === 'emit') {
      if (c.event.type !== event.type) return false;
      if (c.event.type === 'phase.started' && event.type === 'phase.started') {
        return c.event.phase === event.phase && c.event.iteration === event.iteration;
      }
      return true;
    }
    if (c.kind === 'request') return event.type === 'step.requested' && event.step === c.step;
    if (c.kind === 'decide') return event.type === 'step.requested' && event.step === c.step;
    if (c.kind === 'finish') return event.type === 'run.finished' && event.outcome === c.outcome;
    return false;
  });
}

/**
 * Replays `events` through `config`'s workflow. Stops at the first divergence (an output the
 * workflow did not command) or after `until` events; the state at each point is kept.
 */
export function replay(
  events: readonly RunEvent[],
  config: WorkflowConfig = DEFAULT_WORKFLOW_CONFIG,
  until?: (event: RunEvent, version: number) => boolean,
): ReplayResult {
  const steps: ReplayStep[] = [];
  let state = initialState;
  for (let i = 0; i < events.length; i++) {
    const event = events[i] as RunEvent;
    const commands = state.runId === null ? [] : next(state, config, event.at);
    const commanded = commands.map(describeCommand);
    const kind = OUTPUTS.has(event.type) ? 'output' : 'input';
    const ok = kind === 'input' || explains(commands, event);
    state = apply(state, event);
    steps.push({ version: i + 1, event, commanded, kind, ok, state });
    if (!ok) {
      const reason = `recorded ${event.type} was not commanded (workflow said: ${commanded.join(', ') || 'nothing'})`;
      return { steps, final: state, divergence: { version: i + 1, event, commanded, reason } };
    }
    if (until?.(event, i + 1)) break;
  }
  return { steps, final: state };
}
