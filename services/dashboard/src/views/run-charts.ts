// The run page's charts section: the morning report's Vega-Lite specs, drawn in the browser by
// vega + vega-lite (served by routes/assets.ts) and redrawn whenever the stream sends `charts`.
// Expressions run in vega-interpreter (`ast: true`), so the page's nonce CSP stays free of eval.
import { ASSETS } from '../routes/assets.js';
import { esc } from './html.js';

const CHARTS_JS = `
import { expressionInterpreter } from '${ASSETS.interpreter}';
const box = document.getElementById('charts');
const problem = document.querySelector('[data-testid="charts-error"]');
const views = new Map();
let drawing = Promise.resolve();
function figure(id) {
  let fig = box.querySelector('figure[data-chart="' + id + '"]');
  if (fig) return fig;
  fig = document.createElement('figure');
  fig.dataset.chart = id;
  fig.dataset.testid = 'chart-' + id;
  fig.append(document.createElement('figcaption'), document.createElement('div'));
  box.append(fig);
  return fig;
}
async function draw(data) {
  box.querySelector('[data-testid="charts-empty"]')?.remove();
  for (const chart of data.charts) {
    const fig = figure(chart.id);
    fig.querySelector('figcaption').textContent = chart.title;
    const target = fig.querySelector('div');
    views.get(chart.id)?.finalize();
    target.replaceChildren();
    const runtime = vega.parse(vegaLite.compile(chart.spec).spec, undefined, { ast: true });
    const view = new vega.View(runtime, { expr: expressionInterpreter, renderer: 'svg', container: target, hover: false });
    views.set(chart.id, view);
    await view.runAsync();
    fig.dataset.points = String(chart.points);
  }
  box.dataset.key = data.key;
  box.dataset.draws = String(Number(box.dataset.draws || 0) + 1);
  problem.textContent = '';
}
function queue(data) {
  drawing = drawing.then(() => draw(data)).catch((error) => {
    problem.textContent = 'The charts could not be drawn: ' + (error && error.message ? error.message : error);
  });
}
document.addEventListener('ns:charts', (event) => queue(event.detail));
if (window.nsCharts) queue(window.nsCharts);
`;

export function chartsSection(nonce: string): string {
  const n = esc(nonce);
  return `<section data-testid="run-charts"><h2>Charts <span class="mut">(the morning report's, live)</span></h2>
<p class="bad" data-testid="charts-error" role="alert"></p>
<div id="charts" class="charts"><p class="mut" data-testid="charts-empty">The charts appear with the run's first events.</p></div>
<script nonce="${n}" src="${ASSETS.vega}"></script><script nonce="${n}" src="${ASSETS.vegaLite}"></script>
<script type="importmap" nonce="${n}">${JSON.stringify({ imports: { 'vega-util': ASSETS.vegaUtil } })}</script>
<script type="module" nonce="${n}">${CHARTS_JS}</script></section>`;
}
