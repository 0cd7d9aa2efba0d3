// Steering a run: pause, resume, abort and a human's decision, each one guarded append to the run's
// event log (re-read and retried on a version conflict, like the Director), then a `human`
// DECISION to ALL so the action shows in bus:log and wakes the Director at once (issue 5 §6).
import {
  fold,
  type HumanDecision,
  HumanDecisionSchema,
  isTerminal,
  type RunEventDraft,
  type RunState,
  type RunStatus,
  stamp,
} from '@nightshift/core';
import { type Message, MessageSchema, newId, type Priority, validate } from '@nightshift/protocol';
import { runEnded, runNotFound, runNotWaiting, writeConflict } from './errors.js';
import type { ControlParts } from './parts.js';
import { type LoadedRun, loadRun } from './runs.js';

/** What a run action did: pause, resume, abort, or answer a run waiting for a human. */
export type RunAction = 'pause' | 'resume' | 'abort' | 'decide';

/** The outcome of a run action: the run's status and version after it, and whether anything changed. */
export interface RunActionResult {
  runId: string;
  action: RunAction;
  /** False when the run already was in the asked-for state (nothing appended, nothing sent). */
  changed: boolean;
  status: RunStatus;
  /** The run's event-log version after the action. */
  version: number;
  decision?: HumanDecision;
  /** Id of the human DECISION published on the bus (only when changed). */
  messageId?: string;
}

/** Options of a run action. */
export interface ActionOptions {
  /** Why: recorded in the event and in the DECISION's context. */
  note?: string;
}

/** Conflicts are rare (a Director tick in between); a few re-reads settle them. */
const MAX_ATTEMPTS = 8;

type Plan = (run: LoadedRun) => RunEventDraft[];

async function guardedAppend(
  parts: ControlParts,
  runId: string,
  plan: Plan,
): Promise<{ state: RunState; version: number; changed: boolean }> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    const loaded = await loadRun(parts.store, runId);
    // Never append to a run that does not exist: the append script would create it.
    if (loaded.state.runId === null) throw runNotFound(runId);
    const drafts = plan(loaded);
    if (drafts.length === 0) return { state: loaded.state, version: loaded.version, changed: false };
    const at = parts.now().toISOString();
    const events = drafts.map((d) => stamp(d, at));
    const result = await parts.store.append(runId, loaded.version, events, parts.now().getTime());
    if (result.ok) return { state: fold(events, loaded.state), version: result.version, changed: true };
  }
  throw writeConflict(runId, MAX_ATTEMPTS);
}

function refuseEnded(runId: string, state: RunState): void {
  if (isTerminal(state.status)) throw runEnded(runId, state.status);
}

/** A run waits for a human when its status says so, also while paused from that state. */
export function isWaitingHuman(state: RunState): boolean {
  return (
    state.status === 'waiting-human' ||
    (state.status === 'paused' && state.statusBeforePause === 'waiting-human')
  );
}

async function announce(
  parts: ControlParts,
  state: RunState,
  content: string,
  priority: Priority,
  note: string | undefined,
): Promise<string> {
  const context = [
    note === undefined ? undefined : `Note: ${note}`,
    `Sent by a human through the ${parts.actor}.`,
  ]
    .filter((line): line is string => line !== undefined)
    .join('\n');
  const draft: Record<string, unknown> = {
    id: newId('msg'),
    runId: state.runId,
    from: 'human',
    to: 'ALL',
    type: 'DECISION',
    priority,
    timestamp: parts.now().toISOString(),
    content,
    context,
  };
  if (state.phase !== null) draft.phase = state.phase;
  const message: Message = validate(MessageSchema, draft, 'human decision message');
  await parts.bus.publish(message);
  return message.id;
}

async function act(
  parts: ControlParts,
  runId: string,
  action: RunAction,
  plan: Plan,
  message: { content: string; priority: Priority; note?: string | undefined },
  decision?: HumanDecision,
): Promise<RunActionResult> {
  const { state, version, changed } = await guardedAppend(parts, runId, plan);
  const result: RunActionResult = { runId, action, changed, status: state.status, version };
  if (decision !== undefined) result.decision = decision;
  if (changed)
    result.messageId = await announce(parts, state, message.content, message.priority, message.note);
  return result;
}

export function pauseRun(
  parts: ControlParts,
  runId: string,
  options: ActionOptions = {},
): Promise<RunActionResult> {
  return setPaused(parts, runId, true, options);
}

export function resumeRun(
  parts: ControlParts,
  runId: string,
  options: ActionOptions = {},
): Promise<RunActionResult> {
  return setPaused(parts, runId, false, options);
}

/** Pause or resume: a no-op when the run already is so; refused once it has ended. */
function setPaused(
  parts: ControlParts,
  runId: string,
  paused: boolean,
  options: ActionOptions,
): Promise<RunActionResult> {
  const type = paused ? 'run.paused' : 'run.resumed';
  return act(
    parts,
    runId,
    paused ? 'pause' : 'resume',
    ({ state }) => {
      refuseEnded(runId, state);
      if ((state.status === 'paused') === paused) return [];
      return [options.note === undefined ? { type } : { type, reason: options.note }];
    },
    { content: `${paused ? 'PAUSE' : 'RESUME'} ${runId}`, priority: 'HIGH', note: options.note },
  );
}

export function abortRun(
  parts: ControlParts,
  runId: string,
  options: ActionOptions = {},
): Promise<RunActionResult> {
  return decideRun(parts, runId, 'abort', options);
}

/**
 * A human's answer. `abort` works on any run that has not ended; continue / revise / finish
 * answer a run that waits for a human, and are refused otherwise (the fold would record them and
 * change nothing, which would only mislead the person who sent them).
 */
export function decideRun(
  parts: ControlParts,
  runId: string,
  decision: HumanDecision,
  options: ActionOptions = {},
): Promise<RunActionResult> {
  const checked = validate(HumanDecisionSchema, decision, 'decision');
  return act(
    parts,
    runId,
    checked === 'abort' ? 'abort' : 'decide',
    ({ state }) => {
      refuseEnded(runId, state);
      if (checked === 'abort' && state.stop?.outcome === 'aborted') return [];
      if (checked !== 'abort' && !isWaitingHuman(state)) throw runNotWaiting(runId, state.status, checked);
      const base = { type: 'human.decided', decision: checked } as const;
      return [options.note === undefined ? base : { ...base, note: options.note }];
    },
    {
      content: checked === 'abort' ? `ABORT ${runId}` : `DECIDE ${runId} ${checked}`,
      priority: checked === 'abort' ? 'EMERGENCY' : 'HIGH',
      note: options.note,
    },
    checked,
  );
}
