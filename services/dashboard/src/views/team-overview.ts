// The top of the team page: "is everything OK?" at a glance — a one-line verdict, then open alerts,
// then runs waiting for a human, then runs under way, then agents that are offline. Most urgent first.
import type { AlertInfo, RunSummary, Status } from '@nightshift/client';
import { esc } from './html.js';

const runLink = (runId: string, text: string, testid: string) =>
  `<a href="/runs/${encodeURIComponent(runId)}" data-testid="${esc(testid)}">${esc(text)}</a>`;

const runName = (r: RunSummary) => r.title ?? r.task.slice(0, 80);

function alertItem(a: AlertInfo, runs: ReadonlyMap<string, RunSummary>): string {
  const run = a.runId === undefined ? undefined : runs.get(a.runId);
  const where =
    a.runId === undefined
      ? '<span class="mut">deployment</span>'
      : runLink(a.runId, run ? runName(run) : a.runId, `overview-alert-run-${a.id}`);
  return `<li data-testid="overview-alert"><b class="${a.level >= 3 ? 'bad' : 'warn'}">L${a.level}</b> ${esc(a.rule)} · ${where}: ${esc(a.reason)} <span class="mut">${esc(a.raisedAt)}</span></li>`;
}

function list(title: string, testid: string, items: string[], empty: string): string {
  const body = items.length === 0 ? `<p class="mut">${esc(empty)}</p>` : `<ul>${items.join('')}</ul>`;
  return `<div data-testid="${esc(testid)}"><h3>${esc(title)} (${items.length})</h3>${body}</div>`;
}

export function teamOverview(status: Pick<Status, 'alerts' | 'runs' | 'agents'>): string {
  const byId = new Map(status.runs.map((r) => [r.runId, r]));
  const alerts = [...status.alerts.open].sort((a, b) => b.level - a.level);
  const waiting = status.runs.filter((r) => !r.ended && r.status === 'waiting-human');
  const running = status.runs.filter((r) => !r.ended && r.status !== 'waiting-human');
  const offline = status.agents.filter((a) => a.state === 'offline');
  const problems = [
    alerts.length > 0 ? `${alerts.length} open alert${alerts.length === 1 ? '' : 's'}` : '',
    waiting.length > 0 ? `${waiting.length} run${waiting.length === 1 ? '' : 's'} waiting for you` : '',
  ].filter((p) => p !== '');
  const verdict =
    problems.length === 0
      ? `<p class="ok" data-testid="overview-verdict" data-ok="true">All clear: no open alerts, nothing waiting for a human, ${running.length} running.</p>`
      : `<p class="${alerts.some((a) => a.level >= 3) ? 'bad' : 'warn'}" data-testid="overview-verdict" data-ok="false">Needs attention: ${problems.join(', ')}; ${running.length} running.</p>`;
  return `${verdict}
${list(
  'Open alerts',
  'overview-alerts',
  alerts.map((a) => alertItem(a, byId)),
  'None.',
)}
${list(
  'Waiting for a human',
  'overview-waiting',
  waiting.map(
    (r) =>
      `<li>${runLink(r.runId, runName(r), `overview-waiting-${r.runId}`)}: ${esc(r.waiting?.reason ?? '')} <span class="mut">since ${esc(r.waiting?.since ?? '')}</span></li>`,
  ),
  'No run is waiting.',
)}
${list(
  'Running',
  'overview-running',
  running.map(
    (r) =>
      `<li>${runLink(r.runId, runName(r), `overview-running-${r.runId}`)} <span class="pill">${esc(r.status)}</span> ${r.phase === null ? '<span class="mut">not started</span>' : `P${r.phase} ${esc(r.phaseName)}`} · iteration ${r.iteration}</li>`,
  ),
  'Nothing is running.',
)}
${offline.length > 0 ? `<p class="warn" data-testid="overview-offline">Offline: ${offline.map((a) => esc(a.role)).join(', ')}</p>` : ''}`;
}
