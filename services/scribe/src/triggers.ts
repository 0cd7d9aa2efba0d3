// The guide's checkpoint triggers (§3 "Scheduled Checkpoints": Builder completes a component,
// Scout finishes research, Inspector finds significant issues, phase transition) plus the
// Director's P2 checkpoint step, derived from the run's EVENT LOG — not from bus messages.
//
// Why the log: it is the run's single source of truth and append-only, so the trigger list is a
// pure function of it and only ever grows at the end. Checkpoint n is the n-th trigger, which
// makes writing idempotent (a redelivered message, a restarted Scribe or a second pass derive the
// same list) and makes nothing depend on a message that may have been lost in a crash (e.g. the
// Director's "Phase N started" broadcast, sent after its append). A message only wakes the
// Scribe up; a Builder's vote in the review debate (a RESPONSE too) is therefore not mistaken for
// a finished component.
import { apply, initialState, type RunEvent, type RunState, type Severity } from '@nightshift/core';
import { PHASE_NAMES } from '@nightshift/protocol';

export const TRIGGER_KINDS = [
  'phase',
  'builder',
  'scout',
  'inspector',
  'p2-checkpoint',
  'requested',
  'end',
] as const;
export type TriggerKind = (typeof TRIGGER_KINDS)[number];

/** guide §3 "Inspector finds significant issues": at least one finding of these severities. */
export const SIGNIFICANT_SEVERITIES: readonly Severity[] = ['critical', 'major'];

export interface CheckpointTrigger {
  kind: TriggerKind;
  /** Dedupe key, unique within the run (e.g. `phase:3`, `build:2`): the same trigger never makes two checkpoints. */
  key: string;
  /** What happened, as the checkpoint file and team-state.md say it. */
  trigger: string;
  /** Event-log position (run version) the checkpoint covers. */
  version: number;
  /** When the trigger happened (the event's time), so a late-written checkpoint still dates it right. */
  at: string;
  /** The run's state right after the trigger: what the checkpoint records. */
  state: RunState;
  /** REQUEST ids of the Director's checkpoint step (kind p2-checkpoint; a retry adds one). */
  requestIds?: string[];
}

function phaseLabel(phase: number): string {
  return `${phase} - ${PHASE_NAMES[phase as keyof typeof PHASE_NAMES] ?? 'Unknown'}`;
}

/**
 * Every checkpoint trigger of the run, in event-log order. `versions[i]` is the stored version of
 * `events[i]` (unreadable events are skipped by the caller, so positions may have gaps); without
 * it the fold's own count is used.
 */
export function checkpointTriggers(
  events: readonly RunEvent[],
  versions?: readonly number[],
): CheckpointTrigger[] {
  const out: CheckpointTrigger[] = [];
  let state: RunState = initialState;
  const versionAt = (i: number) => versions?.[i] ?? i + 1;
  for (let i = 0; i < events.length; i++) {
    const event = events[i] as RunEvent;
    const before = state;
    state = apply(state, event);
    // An event the fold ignored (stale, duplicate, after the end) changed nothing: no trigger.
    if (state.ignored.length > before.ignored.length) continue;
    const ordinal = state.phases.length;
    const base = { version: versionAt(i), at: event.at, state };
    switch (event.type) {
      case 'phase.started':
        out.push({
          ...base,
          kind: 'phase',
          key: `phase:${ordinal}`,
          trigger: `Phase transition: ${phaseLabel(event.phase)} (iteration ${event.iteration})`,
        });
        break;
      case 'step.completed':
        if (event.step === 'build') {
          out.push({
            ...base,
            kind: 'builder',
            key: `build:${ordinal}`,
            trigger: `Builder completed a component (iteration ${state.iteration})`,
          });
        } else if (event.step === 'research' || event.step === 'research-exec') {
          out.push({
            ...base,
            kind: 'scout',
            key: `research:${ordinal}:${event.step}`,
            trigger: `Scout finished research (${event.step === 'research' ? 'planning' : 'execution'}, iteration ${state.iteration})`,
          });
        } else if (event.step === 'inspect') {
          // The Director appends the Inspector's findings right after its completion (one append).
          const counts: Record<Severity, number> = { critical: 0, major: 0, minor: 0 };
          let last = i;
          for (let j = i + 1; j < events.length; j++) {
            const next = events[j] as RunEvent;
            if (next.type !== 'review.finding' || next.from !== 'inspector') break;
            state = apply(state, next);
            counts[next.severity] += 1;
            last = j;
          }
          i = last;
          const significant = SIGNIFICANT_SEVERITIES.reduce((sum, s) => sum + counts[s], 0);
          if (significant > 0) {
            out.push({
              kind: 'inspector',
              key: `inspect:${ordinal}`,
              trigger: `Inspector found issues: ${counts.critical} critical, ${counts.major} major, ${counts.minor} minor (iteration ${state.iteration})`,
              version: versionAt(last),
              at: (events[last] as RunEvent).at,
              state,
            });
          }
        }
        break;
      case 'step.requested':
        if (event.step === 'checkpoint') {
          const key = `p2:${ordinal}`;
          const earlier = out.find((t) => t.key === key);
          if (earlier) {
            // A retried request (new id) is the same milestone: answer it with the same checkpoint.
            earlier.requestIds = [...(earlier.requestIds ?? []), event.messageId];
            break;
          }
          out.push({
            ...base,
            kind: 'p2-checkpoint',
            key,
            trigger: `Execution milestone: Builder and Scout done (the Director's checkpoint step, iteration ${state.iteration})`,
            requestIds: [event.messageId],
          });
        }
        break;
      case 'checkpoint.requested':
        out.push({
          ...base,
          kind: 'requested',
          key: `requested:${versionAt(i)}`,
          trigger: `Checkpoint requested: ${event.trigger}`,
        });
        break;
      case 'run.finished':
        // Leaving the last phase is a phase transition too; it gives the morning a final checkpoint.
        out.push({
          ...base,
          kind: 'end',
          key: 'end',
          trigger: `Phase transition: run ended (${event.outcome})`,
        });
        break;
      default:
        break;
    }
  }
  return out;
}
