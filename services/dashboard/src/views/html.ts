// HTML building blocks of the team view: escaping (every value from Redis goes through `esc`),
// the page layout with its tiny inline CSS, and the nonce that lets only our inline code run.
import { randomBytes } from 'node:crypto';

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
};

export function esc(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

export function newNonce(): string {
  return randomBytes(16).toString('base64');
}

/** CSP of our own pages: nothing but our nonce'd inline code, and fetch/SSE to ourselves. */
export function pageCsp(nonce: string): string {
  return [
    "default-src 'none'",
    `script-src 'nonce-${nonce}'`,
    `style-src 'nonce-${nonce}'`,
    "connect-src 'self'",
    "img-src 'self' data:",
    "form-action 'self'",
    "frame-ancestors 'none'",
    "base-uri 'none'",
  ].join('; ');
}

const CSS = `
:root{--bg:#0f1115;--fg:#e6e6e6;--mut:#9aa0a6;--acc:#7aa2f7;--ok:#9ece6a;--warn:#e0af68;--bad:#f7768e;--card:#1a1d24}
*{box-sizing:border-box}body{margin:0;font:14px/1.4 system-ui,sans-serif;background:var(--bg);color:var(--fg)}
header{display:flex;gap:1rem;align-items:center;padding:.6rem 1rem;background:var(--card);border-bottom:1px solid #2a2e38}
a{color:var(--acc)}a:hover{color:#c0caf5}header a{color:var(--acc);text-decoration:none}main{padding:1rem;display:grid;gap:1rem}
section{background:var(--card);border-radius:6px;padding:.8rem;min-width:0;overflow-x:auto}h1{font-size:1.1rem;margin:0}h2{font-size:1rem;margin:0 0 .5rem}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.25rem .5rem;border-bottom:1px solid #2a2e38}
th{color:var(--mut);font-weight:500}.mut{color:var(--mut)}.ok{color:var(--ok)}.warn{color:var(--warn)}.bad{color:var(--bad)}
button{background:#2a2e38;color:var(--fg);border:1px solid #3a3f4b;border-radius:4px;padding:.2rem .6rem;cursor:pointer}
button:hover{border-color:var(--acc)}button.danger{border-color:var(--bad)}input,textarea{background:#11141a;color:var(--fg);border:1px solid #3a3f4b;border-radius:4px;padding:.3rem}
.timeline{display:flex;gap:.3rem;flex-wrap:wrap}.timeline span{padding:.15rem .5rem;border-radius:10px;background:#2a2e38}
.timeline span.cur{background:var(--acc);color:#000}.stream{max-height:60vh;overflow:auto;display:grid;gap:.4rem}
.stream pre{margin:0;white-space:pre-wrap;background:#11141a;padding:.5rem;border-radius:4px;font-size:12px}
[data-testid="action-result"]{padding:0 1rem}.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,360px),1fr));gap:1rem}#panel{display:grid;gap:1rem}.pill{padding:.1rem .4rem;border-radius:8px;background:#2a2e38}
h3{font-size:.95rem;margin:.6rem 0 .3rem}.charts{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,680px),1fr));gap:1rem}figure{margin:0}figcaption{color:var(--mut);margin-bottom:.3rem}
`;

export interface LayoutOptions {
  title: string;
  nonce: string;
  body: string;
  script?: string;
}

export function layout(o: LayoutOptions): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>${esc(o.title)} · Nightshift</title><link rel="icon" href="data:,"><style nonce="${o.nonce}">${CSS}</style></head>
<body><header><h1><a href="/">Nightshift</a></h1><a href="/">Runs</a><a href="/queues">Queues (Bull Board)</a><a href="/api/openapi.json">API</a><a href="/metrics">Metrics</a></header>
<main>${o.body}</main>
<p class="mut" data-testid="action-result" role="status" aria-live="polite"></p>
${o.script ? `<script nonce="${o.nonce}">${o.script}</script>` : ''}
</body></html>`;
}

/**
 * Buttons carry `data-post` (the URL) and optional `data-body` (JSON) / `data-confirm`; one
 * delegated handler POSTs them with fetch — a state change is never a GET or a link.
 */
export const ACTIONS_JS = `
const result=document.querySelector('[data-testid="action-result"]');
document.addEventListener('click',async(ev)=>{
  const b=ev.target.closest('button[data-post]');if(!b)return;ev.preventDefault();
  if(b.dataset.confirm&&!confirm(b.dataset.confirm))return;
  let body=b.dataset.body?JSON.parse(b.dataset.body):{};
  if(b.dataset.noteFrom){const n=document.querySelector(b.dataset.noteFrom);if(n&&n.value.trim())body.note=n.value.trim();}
  b.disabled=true;
  try{const r=await fetch(b.dataset.post,{method:'POST',credentials:'same-origin',headers:{'content-type':'application/json'},body:JSON.stringify(body)});
    const j=await r.json().catch(()=>({}));result.textContent=r.ok?('OK: '+(j.action||j.queue||j.alertId||j.runId||'')+(j.paused===true?' paused':j.paused===false?' resumed':'')+(j.status?' → '+j.status:'')):('Error '+r.status+': '+(j.error||''));
    result.dataset.ok=String(r.ok);document.dispatchEvent(new CustomEvent('ns:acted'));
  }catch(e){result.textContent='Error: '+e.message}finally{b.disabled=false}
});
`;
