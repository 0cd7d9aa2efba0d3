// Issue 24 §3: a run's expected end, as the run list and the run page show it — p50 and p90 (UTC
// times; the full ISO in the tooltip), or honestly why there is none.
import type { RunSummary } from '@nightshift/client';
import { esc } from './html.js';

export function etaHtml(eta: RunSummary['eta'], testid: string): string {
  if (eta === null) return `<span class="mut" data-testid="${esc(testid)}">-</span>`;
  if (eta.p50At === null)
    return `<span class="mut" data-testid="${esc(testid)}">${esc(eta.note ?? 'no forecast')}</span>`;
  const time = (iso: string) =>
    `<time datetime="${esc(iso)}" title="${esc(iso)}">${esc(iso.slice(11, 19))}</time>`;
  // One past run gives no spread: the note says so instead of a p90 equal to the p50.
  const p90 = eta.p90At === null ? `<span class="mut">${esc(eta.note ?? 'no p90')}</span>` : time(eta.p90At);
  return `<span data-testid="${esc(testid)}">p50 ${time(eta.p50At)} · p90 ${p90}</span>`;
}
