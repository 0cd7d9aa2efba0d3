// Renders a run's team state in the guide's `team-state.md` form (guide §3 "Implementation:
// Shared State for Meetings"): phase, last checkpoint, the agent table, decisions, blockers.
import { type RunState, STEPS } from '@nightshift/core';
import { displayName, PHASE_NAMES, ROLES, type Role } from '@nightshift/protocol';

export interface TeamStateExtras {
  lastCheckpoint?: { n: number; at: string } | undefined;
  /** Roles with a live heartbeat (others are shown as offline). */
  alive?: ReadonlySet<string> | undefined;
}

const NEXT_TRIGGER: Record<number, string> = {
  1: 'Scout finishes research (end of planning)',
  2: 'Builder completes the component',
  3: 'Inspector reports its findings',
  4: 'Phase transition after the Director’s verdict',
};

export function renderTeamState(state: RunState, extras: TeamStateExtras = {}): string {
  const phase = state.phase === null ? 'not started' : `${state.phase} - ${PHASE_NAMES[state.phase]}`;
  const lines: string[] = [
    `# Team State — ${state.title ?? state.runId ?? 'run'}`,
    '',
    `## Current Phase: ${phase}`,
    `## Last Checkpoint: ${extras.lastCheckpoint ? `CP-${extras.lastCheckpoint.n} at ${extras.lastCheckpoint.at}` : 'none yet'}`,
    `## Status: ${state.status} (iteration ${state.iteration})`,
    '',
    '### Agent Status',
    '| Agent | Status | Current Task | Trust |',
    '|-------|--------|--------------|-------|',
  ];
  for (const role of ROLES) lines.push(agentRow(state, role, extras.alive));
  lines.push('', '### Pending Decisions');
  if (state.status === 'waiting-human')
    lines.push(`- [ ] ${state.waiting?.reason ?? 'a human decision'} (waiting for a human)`);
  else if (state.phase === 3 && !state.progress.verify?.done)
    lines.push('- [ ] Director verifies the review');
  else lines.push('- None');
  lines.push('', '### Blockers');
  const blockers = blockersOf(state);
  lines.push(...(blockers.length > 0 ? blockers.map((b) => `- ${b}`) : ['- None currently']));
  lines.push('', '### Next Checkpoint Trigger');
  lines.push(
    `- ${state.phase === null ? 'Phase 1 starts' : (NEXT_TRIGGER[state.phase] ?? 'Phase transition')}`,
  );
  return `${lines.join('\n')}\n`;
}

function agentRow(state: RunState, role: Role, alive?: ReadonlySet<string>): string {
  const flying = Object.values(state.inFlight).find((f) => f?.role === role);
  let status: string;
  let task = '-';
  if (role === 'director') {
    status = isOver(state) ? 'Done' : 'Active';
    task = state.status === 'waiting-human' ? 'Waiting for a human' : 'Monitoring';
  } else if (role === 'scribe') {
    status = 'Active';
    task = 'Maintaining state';
  } else if (flying) {
    status = 'Working';
    task = STEPS[flying.step].purpose;
  } else {
    status = 'Idle';
  }
  if (alive && role !== 'director' && role !== 'scribe' && !alive.has(role)) status = `${status} (offline)`;
  const trust = role === 'director' || role === 'scribe' ? 'N/A' : `${state.trust[role] ?? 7}/10`;
  return `| ${displayName(role)} | ${status} | ${task} | ${trust} |`;
}

function blockersOf(state: RunState): string[] {
  const out: string[] = [];
  for (const [step, p] of Object.entries(state.progress)) {
    if (p && !p.done && p.failures > 0)
      out.push(`${step} failed ${p.failures}× (${p.lastError ?? 'no reason'})`);
  }
  for (const a of state.alerts) if (a.level >= 2) out.push(`L${a.level} alert: ${a.reason}`);
  return out;
}

function isOver(state: RunState): boolean {
  return state.status === 'finished' || state.status === 'aborted' || state.status === 'failed';
}
