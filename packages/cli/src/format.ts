// Human output of the steering commands: the status screen (the team view in a terminal), the
// runs table and the one-line run progress. Plain text; nothing here writes.

import type { AgentInfo, RunSummary, Status } from '@nightshift/client';
import type { RunState } from '@nightshift/core';
import { PHASE_NAMES } from '@nightshift/protocol';

export function duration(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h}h${String(m).padStart(2, '0')}m`;
  return `${m}m${String(sec).padStart(2, '0')}s`;
}

export function ago(iso: string | null, now: Date): string {
  if (iso === null) return '-';
  return `${duration(now.getTime() - Date.parse(iso))} ago`;
}

function pad(text: string, width: number): string {
  return text.length >= width ? `${text.slice(0, width - 1)}… ` : text.padEnd(width + 1);
}

function table(rows: readonly string[][], widths: readonly number[]): string {
  return rows
    .map((row) =>
      row
        .map((cell, i) => pad(cell, widths[i] ?? 10))
        .join('')
        .trimEnd(),
    )
    .join('\n');
}

function phaseLabel(phase: number | null, name: string | null): string {
  return phase === null ? 'not started' : `P${phase} ${name ?? ''}`.trim();
}

export function runLine(run: RunSummary): string {
  const title = run.title ?? run.task.split('\n')[0] ?? '';
  return `${run.runId}  ${run.status}  ${phaseLabel(run.phase, run.phaseName)} (iteration ${run.iteration})  ${run.tokens} tokens  ${JSON.stringify(title.slice(0, 60))}`;
}

export function runsTable(runs: readonly RunSummary[]): string {
  if (runs.length === 0) return 'no runs yet';
  const rows = [
    ['RUN', 'STATUS', 'PHASE', 'ITER', 'TOKENS', 'CREATED', 'BRANCH', 'TITLE'],
    ...runs.map((r) => [
      r.runId,
      r.status,
      phaseLabel(r.phase, r.phaseName),
      String(r.iteration),
      String(r.tokens),
      r.createdAt ?? '-',
      r.branch ?? '-',
      r.title ?? r.task.split('\n')[0] ?? '',
    ]),
  ];
  return table(rows, [30, 13, 14, 4, 8, 24, 42, 40]);
}

const clock = (iso: string) => iso.slice(11, 19);

/** `p50 22:03:10 (in 2m05s) · p90 22:04:00 (in 2m55s)`, or why there is none. */
export function etaText(eta: RunSummary['eta'], now: Date): string {
  if (eta === null) return '- (not queued or running)';
  if (eta.p50At === null) return `- (${eta.note ?? 'no forecast'})`;
  const at = (iso: string) => `${clock(iso)} (in ${duration(Date.parse(iso) - now.getTime())})`;
  return `p50 ${at(eta.p50At)} · ${eta.p90At === null ? `p90 - (${eta.note ?? 'no forecast'})` : `p90 ${at(eta.p90At)}`}`;
}

/** Issue 24 §3: every queued and running run's expected end, re-forecast from where it is. */
function etaLines(status: Status, now: Date): string[] {
  const board = status.eta;
  if (board.runs.length === 0) return ['', 'ETA: no run queued or running'];
  return [
    '',
    `ETA (UTC; forecast at ${clock(board.madeAt)} from ${board.history} past run(s), ${board.samples} draws)`,
    ...board.runs.map((r) => `  ${r.runId.padEnd(30)} ${r.state.padEnd(8)} ${etaText(r, now)}`),
  ];
}

function agentTask(a: AgentInfo): string {
  return a.currentTask ? `${a.currentTask.step} (${a.currentTask.runId})` : '-';
}

export function statusScreen(status: Status, now: Date): string {
  const out: string[] = [`Nightshift ${status.prefix} at ${status.at}`];
  const run = status.run;
  if (run) {
    out.push('');
    out.push(
      `Run ${run.runId}  ${run.status}  ${phaseLabel(run.phase, run.phaseName)}  iteration ${run.iteration}`,
    );
    out.push(`  task: ${(run.title ?? run.task).split('\n')[0]}`);
    const timeline = run.phases.map((p) => `P${p.phase}.${p.iteration}`).join(' → ');
    out.push(`  phases: ${timeline || '-'}`);
    if (run.inFlight.length > 0) {
      out.push(
        `  in flight: ${run.inFlight.map((f) => `${f.step} (${f.role}, ${ago(f.since, now)})`).join(', ')}`,
      );
    }
    if (run.waiting) out.push(`  WAITING FOR A HUMAN (${run.waiting.cause}): ${run.waiting.reason}`);
    out.push(
      `  spent: ${run.tokens} tokens, $${run.usd.toFixed(4)}; findings: ${run.findings.critical} critical, ${run.findings.major} major, ${run.findings.minor} minor`,
    );
    const cp = run.latestCheckpoint;
    out.push(`  checkpoint: ${cp ? `CP-${cp.n} ${cp.trigger} at ${cp.at} (${cp.decision})` : '-'}`);
    if (!run.ended) out.push(`  ETA: ${etaText(run.eta, now)}`);
  } else {
    out.push('', 'No runs yet: start one with `nightshift run "task…"`.');
  }
  out.push(...etaLines(status, now));
  out.push('', 'Agents');
  out.push(
    table(
      [
        ['ROLE', 'STATE', 'TASK', 'TRUST', 'UP', 'HEARTBEAT', 'QUEUE'],
        ...status.agents.map((a) => [
          a.role,
          a.state,
          agentTask(a),
          a.trust === null ? '-' : `${a.trust}/10`,
          String(a.instances),
          ago(a.lastHeartbeat, now),
          a.queue === null ? '-' : `${a.depth} waiting${a.queuePaused ? ' (paused)' : ''}`,
        ]),
      ],
      [10, 8, 34, 6, 3, 12, 20],
    ),
  );
  out.push('', `LLM slots: ${status.llm.inUse}/${status.llm.limit} in use, ${status.llm.waiting} waiting`);
  out.push('', 'Queues');
  out.push(
    table(
      [
        ['QUEUE', 'WAITING', 'ACTIVE', 'DELAYED', 'FAILED', 'DONE', ''],
        ...status.queues.map((q) => [
          q.name,
          String(q.depth),
          String(q.counts.active),
          String(q.counts.delayed),
          String(q.counts.failed),
          String(q.counts.completed),
          q.paused ? 'PAUSED' : '',
        ]),
      ],
      [18, 8, 7, 8, 7, 7, 7],
    ),
  );
  const alerts = status.alerts.open;
  out.push('', alerts.length === 0 ? 'Alerts: none open' : `Alerts: ${alerts.length} open`);
  for (const a of alerts.slice(0, 10)) {
    out.push(`  L${a.level} ${a.id} ${a.rule} [${a.subject}] ${a.reason}${a.runId ? ` (${a.runId})` : ''}`);
  }
  if (alerts.length > 10) out.push(`  … and ${alerts.length - 10} more (nightshift status --json)`);
  return `${out.join('\n')}\n`;
}

/** `P2 Execution · build, research-exec · 1m05s · 1234 tokens · running` */
export function progressLine(state: RunState, now: Date): string {
  const phase = state.phase === null ? 'starting' : `P${state.phase} ${PHASE_NAMES[state.phase]}`;
  const steps = Object.keys(state.inFlight).join(', ') || '-';
  const started = state.createdAt === null ? now.getTime() : Date.parse(state.createdAt);
  return [
    phase,
    `iteration ${state.iteration}`,
    `step ${steps}`,
    duration(now.getTime() - started),
    `${state.budget.spent.tokens} tokens`,
    state.status,
  ].join(' · ');
}
