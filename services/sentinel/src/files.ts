// The files a human reads in the morning: emergency.md (guide §3 "Emergency Protocol"),
// alerts/ALERT-<timestamp>.md (§4 "Human Notification", option 1) and the L3 state dump.
import { appendFile, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { LEVEL_NAMES, type RunState } from '@nightshift/core';
import type { AlertRecord } from '@nightshift/redis';
import { DEPLOYMENT } from './planner.js';

export function runDir(memoryDir: string, runId: string | undefined): string {
  return join(memoryDir, runId ?? DEPLOYMENT);
}

export function emergencyPath(memoryDir: string, runId: string | undefined): string {
  return join(runDir(memoryDir, runId), 'emergency.md');
}

export function stateDumpPath(memoryDir: string, runId: string | undefined): string {
  return join(runDir(memoryDir, runId), 'state-dump.json');
}

/** `ALERT-2026-01-28T04-12-00-000Z.md`: the guide's name, safe on every file system. */
export function alertFilePath(memoryDir: string, at: string): string {
  return join(memoryDir, 'alerts', `ALERT-${at.replace(/[:.]/g, '-')}.md`);
}

export function resolveCommand(alertId: string): string {
  return `nightshift resolve ${alertId} --continue|--abort|--note "…"`;
}

/** One line per run: status, phase, iteration, what is in flight, trust. */
export function describeRun(state: RunState): string {
  const flying = Object.values(state.inFlight)
    .filter((f) => f !== undefined)
    .map((f) => `${f.step} (${f.role}, attempt ${f.attempt})`);
  const trust = Object.entries(state.trust)
    .map(([role, score]) => `${role} ${score}`)
    .join(', ');
  return [
    `run ${state.runId ?? '?'}: ${state.status}`,
    `phase ${state.phase ?? '-'} iteration ${state.iteration}`,
    `in flight: ${flying.length > 0 ? flying.join(', ') : 'nothing'}`,
    `trust: ${trust || 'n/a'}`,
    `budget spent: ${state.budget.spent.tokens} tokens, $${state.budget.spent.usd.toFixed(2)}`,
  ].join('; ');
}

export interface IncidentFacts {
  readonly alert: AlertRecord;
  readonly runs: readonly RunState[];
  readonly queues: Readonly<Record<string, Readonly<Record<string, number>>>>;
  readonly paused: readonly string[];
  readonly heartbeats: readonly { role: string; instance: string; status: string; ts: string }[];
}

function stateLines(facts: IncidentFacts): string[] {
  const runs = facts.runs.length > 0 ? facts.runs.map((s) => `- ${describeRun(s)}`) : ['- no open run'];
  const queues = Object.entries(facts.queues).map(
    ([name, counts]) =>
      `- ${name}: ${Object.entries(counts)
        .map(([k, v]) => `${k} ${v}`)
        .join(', ')}`,
  );
  const alive = facts.heartbeats.map((h) => `${h.role}/${h.instance} (${h.status}, ${h.ts})`);
  return [
    ...runs,
    ...queues,
    `- services alive: ${alive.length > 0 ? alive.join(', ') : 'none'}`,
    `- paused queues: ${facts.paused.length > 0 ? facts.paused.join(', ') : 'none'}`,
  ];
}

/** One emergency, in the guide's §3 protocol form: trigger, who, the state, the options. */
export function renderEmergency(facts: IncidentFacts & { readonly directorMessageId?: string }): string {
  const a = facts.alert;
  return [
    `## EMERGENCY ${a.id} — ${a.raisedAt}`,
    '',
    `TRIGGER: ${a.rule} (${a.subject}): ${a.reason}`,
    `LEVEL: ${a.level} (${LEVEL_NAMES[a.level]})`,
    `RUN: ${a.runId ?? `${DEPLOYMENT} (every open run)`}`,
    'TRIGGERED BY: Sentinel (watchdog)',
    '',
    '### Process',
    `1. Written to this file by the Sentinel.`,
    `2. Director notified with an EMERGENCY ALERT${facts.directorMessageId ? ` (${facts.directorMessageId})` : ''}.`,
    `3. Other agents paused (queues; their work stays queued): ${facts.paused.join(', ') || 'none'}.`,
    '4. Director assesses and decides.',
    '',
    '### State',
    ...stateLines(facts),
    '',
    '### Options',
    `- [ ] Resolve internally: \`nightshift resolve ${a.id} --continue\` (resumes the paused agents)`,
    '- [ ] Request human intervention (escalates to Level 3)',
    `- [ ] Abort current phase: \`nightshift resolve ${a.id} --abort\``,
    '',
    'Escalation to a human: unresolved after 2 attempts, an irreversible action, no consensus, or the',
    'budget exceeded (guide §3).',
    '',
  ].join('\n');
}

/** The morning file: what, why, state, what is needed, how to resolve. */
export function renderAlertFile(facts: IncidentFacts): string {
  const a = facts.alert;
  const needed =
    a.level >= 4
      ? 'The run was stopped (graceful shutdown, state preserved). Read the state dump, fix the cause, start a new run.'
      : 'A human decision. The agents are paused and the run waits; nothing queued is lost.';
  return [
    `# ${a.level >= 4 ? 'ABORT' : 'ESCALATE'}: Level ${a.level} (${LEVEL_NAMES[a.level]}) — ${a.rule}`,
    '',
    `- Alert: ${a.id}`,
    `- Raised: ${a.raisedAt}`,
    `- Run: ${a.runId ?? `${DEPLOYMENT} (every open run)`}`,
    `- Subject: ${a.subject}`,
    '',
    '## What',
    a.reason,
    '',
    '## Why it escalated',
    `Detection rule \`${a.rule}\` fired (guide §4 "Emergency Detection Rules"); actions taken: ${a.actions.join(', ') || 'none'}.`,
    '',
    '## State',
    ...stateLines(facts),
    '',
    '## What is needed',
    needed,
    '',
    '## How to resolve',
    `\`${resolveCommand(a.id)}\``,
    '- `--continue`: resume the paused agents; the run goes on from where it paused.',
    '- `--abort`: abort the run.',
    '- `--note "…"`: record a note and resume the agents; the run keeps waiting for `nightshift decide`.',
    '',
  ].join('\n');
}

/** Appends one emergency to the run's emergency.md (a header on first write). Returns the path. */
export async function writeEmergency(
  memoryDir: string,
  facts: IncidentFacts & { readonly directorMessageId?: string },
): Promise<string> {
  const path = emergencyPath(memoryDir, facts.alert.runId);
  await mkdir(dirname(path), { recursive: true });
  const header = `# Emergency log — ${facts.alert.runId ?? DEPLOYMENT}\n\n`;
  // 'wx' creates the file only if absent: the header is written once however often this runs.
  await writeFile(path, header, { flag: 'wx' }).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'EEXIST') throw error;
  });
  await appendFile(path, `${renderEmergency(facts)}\n`);
  return path;
}

export async function writeAlertFile(path: string, facts: IncidentFacts): Promise<string> {
  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, renderAlertFile(facts));
  return path;
}

export async function writeStateDump(
  memoryDir: string,
  facts: IncidentFacts & { readonly circuits: Readonly<Record<string, unknown>>; readonly at: string },
): Promise<string> {
  const path = stateDumpPath(memoryDir, facts.alert.runId);
  await mkdir(dirname(path), { recursive: true });
  const dump = {
    at: facts.at,
    alert: facts.alert,
    runs: Object.fromEntries(facts.runs.map((s) => [s.runId ?? '?', s])),
    queues: facts.queues,
    paused: facts.paused,
    heartbeats: facts.heartbeats,
    circuits: facts.circuits,
  };
  // Written whole to a temp name and renamed would be atomic; one writer (the lease holder) makes it unnecessary.
  await writeFile(path, `${JSON.stringify(dump, null, 2)}\n`);
  return path;
}
