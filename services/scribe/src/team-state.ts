// Renders a run's team state exactly in the guide's `team-state.md` form (guide §3
// "Implementation: Shared State for Meetings"): the path heading, Current Phase, Last Checkpoint
// (`YYYY-MM-DD HH:MM:SS`), the Agent Status table (Agent | Status | Current Task | Trust),
// Pending Decisions, Blockers and Next Checkpoint Trigger, in that order and spelling. What the
// guide does not have (run status, iteration, summary) comes after, in a `### Run` section, so a
// reader of the guide's format finds every line where the guide puts it.
import { isTerminal, type RunState, type StepId } from '@nightshift/core';
import { displayName, PHASE_NAMES, ROLES, type Role } from '@nightshift/protocol';

export interface TeamStateExtras {
  /** The heading line's text; the guide uses the file's path (default `<runId>/team-state.md`). */
  heading?: string | undefined;
  lastCheckpoint?: { n: number; at: string } | undefined;
  /** Roles with a live heartbeat (others are shown as offline); undefined = not known. */
  alive?: ReadonlySet<string> | undefined;
  /** Path of the rolling summary, mentioned in the Run section. */
  summaryFile?: string | undefined;
}

/** The guide's "Current Task" wording per step. */
const TASKS: Record<StepId, string> = {
  frame: 'Framing the goal',
  design: 'Designing the change',
  research: 'Researching for the plan',
  build: 'Implementing the design',
  'research-exec': 'Researching alongside the build',
  checkpoint: 'Writing the execution checkpoint',
  refactor: 'Refactoring the build',
  inspect: 'Inspecting the work',
  verify: 'Verifying the review',
};

/** `2026-01-28T03:45:00.123Z` → `2026-01-28 03:45:00` (UTC), as the guide writes it. */
export function guideTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toISOString().slice(0, 19).replace('T', ' ');
}

export function renderTeamState(state: RunState, extras: TeamStateExtras = {}): string {
  const phase = state.phase === null ? '- (not started)' : `${state.phase} - ${PHASE_NAMES[state.phase]}`;
  const cp = extras.lastCheckpoint;
  const lines: string[] = [
    `# ${extras.heading ?? `${state.runId ?? 'run'}/team-state.md`}`,
    '',
    `## Current Phase: ${phase}`,
    `## Last Checkpoint: ${cp ? `${guideTime(cp.at)} (CP-${cp.n})` : 'none yet'}`,
    '',
    '### Agent Status',
    '| Agent | Status | Current Task | Trust |',
    '|-------|--------|--------------|-------|',
    ...ROLES.map((role) => agentRow(state, role, extras.alive)),
    '',
    '### Pending Decisions',
    ...list(pendingDecisions(state), '- None'),
    '',
    '### Blockers',
    ...list(blockersOf(state, extras.alive), '- None currently'),
    '',
    '### Next Checkpoint Trigger',
    `- ${nextTrigger(state)}`,
    '',
    '### Run',
    `- ${state.runId ?? 'run'}${state.title ? `: ${state.title}` : ''}`,
    `- Status: ${state.status}, iteration ${state.iteration}${state.outcome ? `, outcome ${state.outcome}` : ''}`,
    ...(extras.summaryFile ? [`- Rolling summary: ${extras.summaryFile}`] : []),
  ];
  return `${lines.join('\n')}\n`;
}

function list(items: readonly string[], empty: string): string[] {
  return items.length > 0 ? items.map((i) => `- ${i}`) : [empty];
}

function task(state: RunState, role: Role): string | undefined {
  const flying = Object.values(state.inFlight).find((f) => f?.role === role);
  if (!flying) return undefined;
  return `${TASKS[flying.step]}${flying.attempt > 1 ? ` (attempt ${flying.attempt})` : ''}`;
}

function agentRow(state: RunState, role: Role, alive?: ReadonlySet<string>): string {
  const over = isTerminal(state.status);
  let status: string;
  let current: string;
  if (role === 'director') {
    // guide: "Director | Active | Monitoring | N/A".
    status = over ? 'Done' : 'Active';
    current =
      state.status === 'waiting-human'
        ? 'Waiting for a human'
        : state.status === 'paused'
          ? 'Paused'
          : over
            ? '-'
            : (task(state, role) ?? 'Monitoring');
  } else if (role === 'scribe') {
    // guide: "Scribe | Active | Maintaining state | N/A" (writing this file proves it).
    status = 'Active';
    current = task(state, role) ?? 'Maintaining state';
  } else {
    const doing = task(state, role);
    status = doing ? 'Working' : 'Idle';
    current = doing ?? '-';
    if (alive && !alive.has(role)) status = `${status} (offline)`;
  }
  const trust = role === 'director' || role === 'scribe' ? 'N/A' : trustText(state.trust[role]);
  return `| ${displayName(role)} | ${status} | ${current} | ${trust} |`;
}

function trustText(score: number | undefined): string {
  if (score === undefined) return 'N/A';
  return `${Number.isInteger(score) ? score : score.toFixed(1)}/10`;
}

function pendingDecisions(state: RunState): string[] {
  const id = state.runId ?? 'RUN';
  if (state.status === 'waiting-human')
    return [`[ ] ${state.waiting?.reason ?? 'a decision'} (awaiting a human: nightshift decide ${id})`];
  if (state.status === 'paused') return [`[ ] Resume the paused run (nightshift resume ${id})`];
  if (!isTerminal(state.status) && (state.phase === 3 || state.phase === 4) && state.verdict === null) {
    const by = state.progress.inspect?.done ? 'the Director' : 'the Inspector';
    return [`[ ] Verdict on the review of iteration ${state.iteration} (awaiting ${by})`];
  }
  return [];
}

function blockersOf(state: RunState, alive?: ReadonlySet<string>): string[] {
  const out: string[] = [];
  for (const [step, p] of Object.entries(state.progress)) {
    if (p && !p.done && p.failures > 0)
      out.push(`${step} failed ${p.failures}× (${p.lastError ?? 'no reason'})`);
  }
  if (alive && !isTerminal(state.status)) {
    for (const f of Object.values(state.inFlight)) {
      if (f && f.role !== 'director' && f.role !== 'scribe' && !alive.has(f.role))
        out.push(`${displayName(f.role)} is offline with ${f.step} in flight`);
    }
  }
  for (const a of state.alerts) if (a.level >= 2) out.push(`L${a.level} alert: ${a.reason}`);
  return out;
}

function nextTrigger(state: RunState): string {
  if (isTerminal(state.status)) return 'None: the run has ended';
  const done = (step: StepId) => state.progress[step]?.done === true;
  switch (state.phase) {
    case null:
      return 'Phase 1 - Planning starts';
    case 1:
      return done('research') ? 'Phase transition to 2 - Execution' : 'Scout finishes research';
    case 2:
      if (!done('build')) return 'Builder completes the component';
      if (!done('research-exec')) return 'Scout finishes research';
      if (!done('checkpoint')) return 'Scribe writes the execution checkpoint';
      return 'Phase transition to 3 - Review';
    case 3:
      return done('inspect') ? 'Phase transition to 4 - Iterate' : 'Inspector reports its findings';
    case 4:
      if (state.verdict === 'revise' || state.verdict === 'continue')
        return `Phase transition to 2 - Execution (iteration ${state.iteration + 1})`;
      if (state.verdict === 'finish') return 'Phase transition: the run ends';
      return "Phase transition after the Director's verdict";
  }
}
