// Small immutable updates of a run's state shared by the event handlers.
import type { RunEvent } from './events.js';
import type { RunState, StepProgress } from './state.js';
import type { StepId } from './steps.js';

/** Record an event that changes nothing but the version, with the reason. */
export function ignore(state: RunState, event: RunEvent, reason: string): RunState {
  return { ...state, ignored: [...state.ignored, { version: state.version, type: event.type, reason }] };
}

export function progressOf(s: RunState, step: StepId): StepProgress {
  return s.progress[step] ?? { attempts: 0, failures: 0, done: false };
}

export function withProgress(s: RunState, step: StepId, p: StepProgress): RunState {
  return { ...s, progress: { ...s.progress, [step]: p } };
}

export function withoutInFlight(s: RunState, step: StepId): RunState {
  const { [step]: _gone, ...rest } = s.inFlight;
  return { ...s, inFlight: rest };
}
