// The live part of a run's page, rendered on the server from the status snapshot and re-sent over
// SSE whenever it changes: phase timeline, the seven agents, LLM slots, alerts, checkpoint, controls.
import type { AgentInfo, AlertInfo, RunDetail, Status } from '@nightshift/client';
import { etaHtml } from './eta.js';
import { esc } from './html.js';

const post = (url: string, label: string, testid: string, extra = ''): string =>
  `<button type="button" data-post="${esc(url)}" data-testid="${esc(testid)}" ${extra}>${esc(label)}</button>`;

function runControls(run: RunDetail): string {
  if (run.ended)
    return `<span class="mut">run ${esc(run.status)}${run.outcome ? ` (${esc(run.outcome)})` : ''}</span>`;
  const id = encodeURIComponent(run.runId);
  const pauseOrResume =
    run.status === 'paused'
      ? post(`/api/runs/${id}/resume`, 'Resume run', 'run-resume')
      : post(`/api/runs/${id}/pause`, 'Pause run', 'run-pause');
  const abort = post(
    `/api/runs/${id}/abort`,
    'Abort run',
    'run-abort',
    `class="danger" data-confirm="Abort run ${esc(run.runId)}?"`,
  );
  return `${pauseOrResume} ${abort}`;
}

function waitingBox(run: RunDetail): string {
  if (!run.waiting) return '';
  const id = encodeURIComponent(run.runId);
  const url = `/api/runs/${id}/decide`;
  const btn = (decision: string, label: string) =>
    post(
      url,
      label,
      `decide-${decision}`,
      `data-body='{"decision":"${decision}"}' data-note-from="#decide-note"`,
    );
  return `<section data-testid="waiting-human"><h2 class="warn">Waiting for a human (${esc(run.waiting.cause)})</h2>
<p>${esc(run.waiting.reason)}</p><p class="mut">since ${esc(run.waiting.since)}</p>
<p><input id="decide-note" data-testid="decide-note" size="60" placeholder="note (required for revise)"></p>
<p>${btn('continue', 'Continue')} ${btn('revise', 'Revise')} ${btn('finish', 'Finish')} ${btn('abort', 'Abort')}</p></section>`;
}

function timeline(run: RunDetail): string {
  const entries = run.phases.map((p, i) => {
    const current = i === run.phases.length - 1 && !run.ended;
    return `<span data-testid="phase-entry" class="${current ? 'cur' : ''}">P${p.phase}.${p.iteration}</span>`;
  });
  return `<div class="timeline" data-testid="phase-timeline">${entries.join('') || '<span class="mut">not started</span>'}</div>`;
}

function agentRow(a: AgentInfo): string {
  const cls =
    a.state === 'offline' ? 'bad' : a.state === 'paused' ? 'warn' : a.state === 'working' ? 'ok' : '';
  const task = a.currentTask
    ? `${esc(a.currentTask.step)} <span class="mut">${esc(a.currentTask.runId)}</span>`
    : '-';
  const controls =
    a.queue === null
      ? '<span class="mut">no queue</span>'
      : a.queuePaused
        ? post(`/api/agents/${a.role}/resume`, 'Resume', `agent-resume-${a.role}`)
        : post(`/api/agents/${a.role}/pause`, 'Pause', `agent-pause-${a.role}`);
  return `<tr data-testid="agent-row-${a.role}"><td>${esc(a.role)}</td>
<td class="${cls}" data-testid="agent-state-${a.role}">${esc(a.state)}</td><td data-testid="agent-task-${a.role}">${task}</td>
<td data-testid="agent-trust-${a.role}">${a.trust === null ? '-' : `${a.trust}/10`}</td><td>${a.instances}</td>
<td class="mut" data-testid="agent-heartbeat-${a.role}">${esc(a.lastHeartbeat ?? '-')}</td>
<td>${a.queue === null ? '-' : `${a.depth} waiting`}</td><td>${controls}</td></tr>`;
}

function alertsBox(alerts: readonly AlertInfo[]): string {
  if (alerts.length === 0) return '<p class="mut" data-testid="alerts-none">No open alerts.</p>';
  const items = alerts.map((a) => {
    const url = `/api/alerts/${encodeURIComponent(a.id)}/resolve`;
    const btn = (d: string, label: string) =>
      post(url, label, `alert-${d}-${a.id}`, `data-body='{"decision":"${d}"}'`);
    return `<li data-testid="alert-${esc(a.id)}"><b class="${a.level >= 3 ? 'bad' : 'warn'}">L${a.level}</b> ${esc(a.rule)} [${esc(a.subject)}] ${esc(a.reason)} <span class="mut">${esc(a.raisedAt)}</span> ${btn('continue', 'Continue')} ${btn('abort', 'Abort')}</li>`;
  });
  return `<ul data-testid="alerts-list">${items.join('')}</ul>`;
}

export function runPanel(status: Status, run: RunDetail): string {
  const alerts = status.alerts.open.filter((a) => a.runId === undefined || a.runId === run.runId);
  const cp = run.latestCheckpoint;
  return `<section><h2 data-testid="run-title">${esc(run.title ?? run.task.slice(0, 120))}</h2>
<p><span class="pill" data-testid="run-status">${esc(run.status)}</span>
<span class="pill" data-testid="run-phase">${run.phase === null ? 'not started' : `P${run.phase} ${esc(run.phaseName)}`}</span>
<span class="pill" data-testid="run-iteration">iteration ${run.iteration}</span>
<span class="mut">${run.tokens} tokens · $${run.usd.toFixed(4)} · findings ${run.findings.critical}/${run.findings.major}/${run.findings.minor} (critical/major/minor)</span></p>
${timeline(run)}${run.ended ? '' : `<p>Expected end (UTC): ${etaHtml(run.eta, 'run-eta')}</p>`}<p>${runControls(run)}</p>
${run.inFlight.length > 0 ? `<p class="mut" data-testid="in-flight">in flight: ${run.inFlight.map((f) => `${esc(f.step)} (${esc(f.role)})`).join(', ')}</p>` : ''}
</section>${waitingBox(run)}
<section class="wide"><h2>Agents</h2><table data-testid="agents-table"><thead><tr><th>Role</th><th>State</th><th>Task</th><th>Trust</th><th>Up</th><th>Heartbeat</th><th>Queue</th><th></th></tr></thead>
<tbody>${status.agents.map(agentRow).join('')}</tbody></table></section>
<div class="grid"><section><h2>Model load</h2><p>LLM slots in use: <b data-testid="llm-slots">${status.llm.inUse}/${status.llm.limit}</b></p>
<p>Waiting for a slot: <b data-testid="llm-waiting">${status.llm.waiting}</b></p>
<h2>Latest checkpoint</h2><p data-testid="checkpoint-latest">${cp ? `CP-${cp.n} · ${esc(cp.trigger)} · ${esc(cp.decision)} · P${cp.phase ?? '-'} iteration ${cp.iteration} · <span class="mut">${esc(cp.at)}</span>` : '<span class="mut">none yet</span>'}</p>
</section><section><h2>Alerts and emergencies</h2>${alertsBox(alerts)}</section></div>`;
}
