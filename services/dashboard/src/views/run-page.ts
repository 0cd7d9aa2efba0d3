// A run's page: the live panel and the message stream, both kept current by one EventSource on
// /api/stream?run=ID — `panel` events replace the panel, `message` events append a message in the
// guide's markdown form (set as textContent, so a message can never inject markup).
import type { RunDetail, RunRecord, Status } from '@nightshift/client';

type BranchReport = NonNullable<RunRecord['branch']>;

import { ACTIONS_JS, esc, layout } from './html.js';
import { chartsSection } from './run-charts.js';
import { runPanel } from './run-panel.js';

export interface StreamItem {
  logId: string;
  text: string;
}

export function messageHtml(item: StreamItem): string {
  return `<pre data-testid="msg" data-log-id="${esc(item.logId)}">${esc(item.text)}</pre>`;
}

const STREAM_JS = `
const runId=document.body.dataset.run;const panel=document.getElementById('panel');const stream=document.getElementById('stream');
const state=document.querySelector('[data-testid="stream-state"]');
let last=stream.lastElementChild?stream.lastElementChild.dataset.logId:'';
function connect(){
  const es=new EventSource('/api/stream?run='+encodeURIComponent(runId)+(last?'&after='+encodeURIComponent(last):''));
  es.onopen=()=>{state.textContent='live';state.className='ok'};
  es.onerror=()=>{state.textContent='reconnecting…';state.className='warn'};
  es.addEventListener('panel',(e)=>{const d=JSON.parse(e.data);panel.innerHTML=d.html;document.body.dataset.phase=String(d.phase??'');document.body.dataset.status=d.status;});
  es.addEventListener('charts',(e)=>{const d=JSON.parse(e.data);window.nsCharts=d;document.dispatchEvent(new CustomEvent('ns:charts',{detail:d}));});
  es.addEventListener('message',(e)=>{const d=JSON.parse(e.data);if(stream.querySelector('[data-log-id="'+d.logId+'"]'))return;
    const pre=document.createElement('pre');pre.dataset.testid='msg';pre.dataset.logId=d.logId;pre.textContent=d.text;stream.appendChild(pre);last=d.logId;
    while(stream.children.length>500)stream.removeChild(stream.firstElementChild);stream.scrollTop=stream.scrollHeight;});
}
connect();
`;

export function runPage(o: {
  status: Status;
  run: RunDetail;
  messages: readonly StreamItem[];
  nonce: string;
  /** Issue 18 §3: the run's branch, commits and diff (collapsed). */
  branch?: BranchReport | null | undefined;
}): string {
  const { run } = o;
  return layout({
    title: run.title ?? run.runId,
    nonce: o.nonce,
    body: `<p class="mut">Run <code data-testid="run-id">${esc(run.runId)}</code> · stream <span data-testid="stream-state" class="mut">connecting…</span></p>
<div id="panel" data-testid="run-panel">${runPanel(o.status, run)}</div>
${chartsSection(o.nonce)}
${branchSection(run, o.branch)}
<section><h2>Messages (bus:log)</h2><div id="stream" class="stream" data-testid="message-stream">${o.messages.map(messageHtml).join('')}</div></section>`,
    script: ACTIONS_JS + STREAM_JS,
  }).replace(
    '<body>',
    `<body data-run="${esc(run.runId)}" data-phase="${run.phase ?? ''}" data-status="${esc(run.status)}">`,
  );
}

export function notFoundPage(what: string, nonce: string): string {
  return layout({
    title: 'Not found',
    nonce,
    body: `<section><h2>Not found</h2><p>${esc(what)}</p></section>`,
  });
}

function branchSection(run: RunDetail, branch: BranchReport | null | undefined): string {
  if (!run.branch) return '';
  if (!branch)
    return `<section data-testid="run-branch"><h2>Branch</h2><p><code>${esc(run.branch)}</code> (not readable from here)</p></section>`;
  const commits = branch.commits
    .map((c) => `<li><code>${esc(c.sha.slice(0, 12))}</code> ${esc(c.subject)}</li>`)
    .join('');
  return `<section data-testid="run-branch"><h2>Branch</h2><p><code>${esc(branch.branch)}</code> from <code>${esc(branch.baseRef)}</code> (${esc(branch.base.slice(0, 12))}) in ${esc(branch.repository)}</p>
<ul>${commits || '<li>(no commits)</li>'}</ul><pre>${esc(branch.diffStat)}</pre>
<details><summary>Full diff</summary><pre>${esc(branch.diff)}</pre></details></section>`;
}
