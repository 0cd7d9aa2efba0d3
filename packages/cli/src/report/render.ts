// The morning report as a self-contained HTML page and its markdown twin (guide §8 "Morning
// Review Checklist", filled in). No external URL anywhere: styles inline, charts inline SVG.
import { displayName, type Role } from '@nightshift/protocol';
import type { ReportData } from './data.js';
import { forecastOutcome, forecastSection } from './forecast-section.js';

const esc = (t: string) =>
  t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export interface Section {
  title: string;
  /** Markdown lines. */
  lines: string[];
}

/** The guide's morning checklist, filled from the data (one section per item). */
export function sections(d: ReportData): Section[] {
  const st = d.state;
  const done = st.completed.map((c) => `- [x] ${c.step} (${c.role}, iteration ${c.iteration})`);
  const failedSteps = d.series.spans
    .filter((x) => x.ok === false)
    .map((x) => `- [ ] ${x.step} (${x.role}) failed`);
  const alerts = st.alerts.map((a) => `- L${a.level} ${a.code}: ${a.reason}`);
  if (st.status === 'waiting-human') alerts.unshift(`- waiting for a human: ${st.waiting?.reason ?? ''}`);
  const trustLines = d.series.trust
    .filter((t) => t.reason !== 'start')
    .map((t) => `- ${displayName(t.role as Role)} → ${t.score}/10: ${t.reason}`);
  return [
    {
      title: 'Outcome',
      lines: [
        `- Status: **${st.status}**${st.outcome ? ` (${st.outcome})` : ''}`,
        `- Task: ${st.task}`,
        `- Phases: ${st.phases.map((p) => `P${p.phase}`).join(' → ') || 'none'}`,
        `- Iterations: ${st.iteration}`,
        forecastOutcome(d.runId, d.forecast),
      ],
    },
    forecastSection(d.forecast),
    { title: 'What finished', lines: done.length ? done : ['- nothing yet'] },
    { title: 'What failed', lines: failedSteps.length ? failedSteps : ['- nothing'] },
    { title: 'Open escalations and alerts', lines: alerts.length ? alerts : ['- none'] },
    { title: 'Trust changes', lines: trustLines.length ? trustLines : ['- none'] },
    {
      title: "Director's decision log",
      lines: st.decisions.length
        ? st.decisions.map(
            (x) =>
              `- iteration ${x.iteration}: **${x.decision}** by ${x.by}${x.rule ? ` (rule ${x.rule})` : ''}${x.fallback ? ' — fallback model' : ''}: ${x.rationale}`,
          )
        : ['- none'],
    },
    {
      title: 'Findings',
      lines: st.findings.all.length
        ? st.findings.all.map(
            (f) => `- [${f.severity}] ${f.file ?? ''} ${f.description} (iteration ${f.iteration})`,
          )
        : ['- none'],
    },
    {
      title: 'Files changed',
      lines: d.diffStat ? ['```', ...d.diffStat.split('\n'), '```'] : ['- no git history in the workspace'],
    },
    {
      title: 'Tests run',
      lines: d.testsRun.length
        ? d.testsRun.map((t) => `- ${t.passed ? 'PASS' : 'FAIL?'} ${t.at}: ${t.text.replace(/\n/g, ' ')}`)
        : ['- none recorded on the bus'],
    },
    {
      title: 'Budget used',
      lines: [
        `- Tokens: ${st.budget.spent.tokens}${st.budget.limit.maxTokens ? ` of ${st.budget.limit.maxTokens}` : ''}`,
        `- Estimated cost: $${st.budget.spent.usd.toFixed(4)}${st.budget.limit.maxUsd ? ` of $${st.budget.limit.maxUsd}` : ''}`,
        ...Object.entries(d.series.tokensByRole).map(
          ([r, v]) => `- ${displayName(r as Role)}: ${v.tokens} tokens${cacheNote(v)}, $${v.usd.toFixed(4)}`,
        ),
      ],
    },
    {
      title: 'Files to read',
      lines: d.files.length ? d.files.map((f) => `- ${f.label}: ${f.path}`) : ['- none written'],
    },
  ];
}

export function toMarkdown(d: ReportData, chartTitles: string[]): string {
  const out = [
    `# Morning report — ${d.state.title ?? d.runId}`,
    '',
    ...(d.warning ? [`> **WARNING:** ${d.warning}`, ''] : []),
    `Run \`${d.runId}\`, ${d.events.length} events, ${d.messages.length} messages.`,
    '',
  ];
  for (const s of sections(d)) out.push(`## ${s.title}`, ...s.lines, '');
  out.push('## Charts', ...chartTitles.map((t) => `- ${t} (in the HTML report)`), '');
  return out.join('\n');
}

function mdInline(text: string): string {
  return esc(text)
    .replace(/\*\*(.+?)\*\*/g, '<strong>$1</strong>')
    .replace(/`(.+?)`/g, '<code>$1</code>');
}

export function toHtml(d: ReportData, charts: { title: string; svg: string }[]): string {
  const body: string[] = [];
  for (const s of sections(d)) {
    body.push(`<section><h2>${esc(s.title)}</h2>`);
    if (s.lines[0] === '```') body.push(`<pre>${esc(s.lines.slice(1, -1).join('\n'))}</pre>`);
    else {
      body.push('<ul>');
      for (const line of s.lines) {
        const checked = line.startsWith('- [x] ') ? '☑ ' : line.startsWith('- [ ] ') ? '☐ ' : '';
        body.push(`<li>${checked}${mdInline(line.replace(/^- (\[[ x]\] )?/, ''))}</li>`);
      }
      body.push('</ul>');
    }
    body.push('</section>');
  }
  const figures = charts
    .map((c) => `<figure><figcaption>${esc(c.title)}</figcaption>${c.svg}</figure>`)
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Morning report — ${esc(d.state.title ?? d.runId)}</title>
<style>
body{font:15px/1.45 system-ui,sans-serif;margin:2rem auto;max-width:1100px;color:#1d2330;padding:0 1rem}
h1{font-size:1.6rem}h2{font-size:1.1rem;border-bottom:1px solid #dde;padding-bottom:.2rem}
.grid{display:grid;grid-template-columns:1fr 1fr;gap:1rem}section{background:#f7f8fb;border-radius:8px;padding:.4rem 1rem}
figure{margin:1rem 0;background:#fff;border:1px solid #e3e6ee;border-radius:8px;padding:.5rem}figcaption{font-weight:600;margin-bottom:.3rem}
pre{white-space:pre-wrap;font-size:13px}code{background:#eef;padding:0 .2rem;border-radius:3px}
.status{font-size:1.1rem;padding:.4rem .8rem;border-radius:6px;display:inline-block;background:${d.state.status === 'finished' ? '#d8f5dd' : '#fde9c8'}}
</style></head><body>
<h1>Morning report — ${esc(d.state.title ?? d.runId)}</h1>
${d.warning ? `<p class="warning" style="background:#fbd5d5;padding:.5rem .8rem;border-radius:6px"><strong>WARNING:</strong> ${esc(d.warning)}</p>\n` : ''}<p class="status">${esc(d.state.status)}${d.state.outcome ? ` · ${esc(d.state.outcome)}` : ''} · run <code>${esc(d.runId)}</code> · ${d.events.length} events · ${d.messages.length} messages</p>
<div class="charts">${figures}</div>
<div class="grid">${body.join('\n')}</div>
</body></html>
`;
}

/** ` (1200 read from the prompt cache, 1500 written to it)`, or nothing when no call was cached. */
function cacheNote(v: { cacheReadTokens?: number; cacheWriteTokens?: number }): string {
  const parts = [
    v.cacheReadTokens ? `${v.cacheReadTokens} read from the prompt cache` : '',
    v.cacheWriteTokens
      ? `${v.cacheWriteTokens} written to ${v.cacheReadTokens ? 'it' : 'the prompt cache'}`
      : '',
  ].filter((p) => p !== '');
  return parts.length === 0 ? '' : ` (${parts.join(', ')})`;
}
