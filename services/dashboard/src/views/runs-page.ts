// The team view's front page: recent runs (refreshed in place every few seconds) and a form to
// start a new run through the same REST route scripts use.
import type { RunSummary } from '@nightshift/client';
import { etaHtml } from './eta.js';
import { ACTIONS_JS, esc, layout } from './html.js';

function phaseCell(r: RunSummary): string {
  return r.phase === null ? '<span class="mut">not started</span>' : `P${r.phase} ${esc(r.phaseName)}`;
}

function statusClass(status: string): string {
  if (status === 'finished') return 'ok';
  if (status === 'failed' || status === 'aborted') return 'bad';
  if (status === 'waiting-human' || status === 'paused') return 'warn';
  return '';
}

export function runsTable(runs: readonly RunSummary[]): string {
  if (runs.length === 0) return '<p class="mut" data-testid="runs-empty">No runs yet.</p>';
  const rows = runs
    .map(
      (r) => `<tr data-testid="run-row-${esc(r.runId)}">
<td><a href="/runs/${encodeURIComponent(r.runId)}" data-testid="run-link-${esc(r.runId)}">${esc(r.title ?? r.task.slice(0, 80))}</a><div class="mut">${esc(r.runId)}</div></td>
<td class="${statusClass(r.status)}">${esc(r.status)}</td><td>${phaseCell(r)}</td><td>${r.iteration}</td>
<td>${r.tokens}</td><td>${etaHtml(r.eta, `run-eta-${r.runId}`)}</td><td class="mut">${esc(r.createdAt ?? '')}</td></tr>`,
    )
    .join('');
  return `<table data-testid="runs-table"><thead><tr><th>Run</th><th>Status</th><th>Phase</th><th>Iter.</th><th>Tokens</th><th>ETA (UTC)</th><th>Created</th></tr></thead><tbody>${rows}</tbody></table>`;
}

const RUNS_JS = `
const box=document.getElementById('runs');
const overview=document.getElementById('overview');
async function refresh(){try{const r=await fetch('/partials/runs',{credentials:'same-origin'});if(r.ok)box.innerHTML=await r.text();
  const o=await fetch('/partials/overview',{credentials:'same-origin'});if(o.ok)overview.innerHTML=await o.text();}catch(e){}}
setInterval(refresh,3000);document.addEventListener('ns:acted',refresh);
document.getElementById('new-run').addEventListener('submit',async(ev)=>{ev.preventDefault();const f=ev.target;
  const body={task:f.task.value};if(f.title.value.trim())body.title=f.title.value.trim();if(f.workspace.value.trim())body.workspace=f.workspace.value.trim();
  const r=await fetch('/api/runs',{method:'POST',credentials:'same-origin',headers:{'content-type':'application/json'},body:JSON.stringify(body)});
  const j=await r.json().catch(()=>({}));const out=document.querySelector('[data-testid="action-result"]');
  out.textContent=r.ok?('Started '+j.runId):('Error '+r.status+': '+(j.error||'')+' '+(j.issues||[]).map(i=>i.path+': '+i.message).join('; '));
  if(r.ok){f.reset();refresh();}});
`;

/** `overview`: the "is everything OK?" block (team-overview.ts), shown first. */
export function runsPage(runs: readonly RunSummary[], nonce: string, overview: string): string {
  return layout({
    title: 'Runs',
    nonce,
    body: `<section data-testid="team-overview"><h2>Is everything OK?</h2><div id="overview">${overview}</div></section>
<section><h2>Runs</h2><div id="runs">${runsTable(runs)}</div></section>
<section><h2>Start a run</h2><form id="new-run" data-testid="new-run-form">
<p><textarea name="task" rows="3" cols="80" required placeholder="What should the team do tonight?" data-testid="new-run-task"></textarea></p>
<p><input name="title" placeholder="title (optional)"> <input name="workspace" placeholder="workspace directory (optional)">
<button type="submit" data-testid="new-run-submit">Start</button></p></form></section>`,
    script: ACTIONS_JS + RUNS_JS,
  });
}
