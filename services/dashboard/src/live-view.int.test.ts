// Issue 22 §4 through `app.inject` against a real Redis: the run's charts (the report's specs) grow
// as the run moves and arrive on the event stream, the chart scripts are served from node_modules
// and nothing else is, and the team page puts alerts before waiting runs before running ones.
import { randomBytes } from 'node:crypto';
import { type OpenedControl, openControl } from '@nightshift/client';
import type { RunEventDraft } from '@nightshift/core';
import { createAlertStore } from '@nightshift/redis';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from './server.js';
import { dropPrefixAndClose, seedRun } from './test-support/control.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `{t-live-${randomBytes(4).toString('hex')}}`;
let control: OpenedControl;
let app: FastifyInstance;

interface ChartsBody {
  runId: string;
  key: string;
  charts: { id: string; points: number; spec: { data: { values: unknown[] } } }[];
}

const seed = (runId: string, drafts: RunEventDraft[]) => seedRun(control, runId, drafts);

async function charts(runId: string): Promise<ChartsBody> {
  const res = await app.inject({ method: 'GET', url: `/api/runs/${runId}/charts` });
  expect(res.statusCode).toBe(200);
  return res.json() as ChartsBody;
}

const points = (body: ChartsBody, id: string) => body.charts.find((c) => c.id === id)?.points;

beforeAll(async () => {
  control = openControl({ url, prefix, actor: 'dashboard' });
  app = await buildServer({ control, bus: control.bus, host: '127.0.0.1', streamIntervalMs: 100 });
});

afterAll(async () => {
  await app?.close();
  await dropPrefixAndClose(control, prefix);
});

describe('live charts', () => {
  it('grow with the run: a step in flight, then done, then the gateway log', async () => {
    await seed('run_c', [
      { type: 'phase.started', phase: 1, iteration: 1 },
      { type: 'step.requested', step: 'design', role: 'architect', messageId: 'req_d' },
    ]);
    const first = await charts('run_c');
    expect(first.charts.map((c) => c.id)).toEqual(['gantt', 'llm-slots', 'tokens', 'trust', 'latency']);
    expect(points(first, 'gantt')).toBe(1);
    expect(first.charts[0]?.spec.data.values).toEqual([expect.objectContaining({ state: 'running' })]);

    await seed('run_c', [
      {
        type: 'step.completed',
        step: 'design',
        role: 'architect',
        messageId: 'req_d',
        usage: { inputTokens: 100, outputTokens: 50 },
      },
      { type: 'step.requested', step: 'research', role: 'scout', messageId: 'req_r' },
    ]);
    const t = Date.now();
    const call = {
      role: 'scout',
      enqueuedAt: t,
      startedAt: t + 5,
      endedAt: t + 50,
      inputTokens: 1,
      outputTokens: 2,
    };
    await control.parts.redis.xadd(
      control.parts.keys.custom('run', 'run_c', 'llm'),
      '*',
      'call',
      JSON.stringify(call),
    );
    const second = await charts('run_c');
    expect(second.key).not.toBe(first.key);
    expect(points(second, 'gantt')).toBe(2);
    expect(points(second, 'tokens')).toBe(1);
    expect(points(second, 'llm-slots')).toBe(3);
    expect(second.charts[1]?.spec).toMatchObject({ background: '#1a1d24' });
  });

  it('sends them on the run stream as a `charts` event', async () => {
    const address = await app.listen({ port: 0, host: '127.0.0.1' });
    const res = await fetch(`${address}/api/stream?run=run_c`, { signal: AbortSignal.timeout(30_000) });
    expect(res.ok).toBe(true);
    const reader = res.body?.getReader();
    if (!reader) throw new Error('no stream body');
    let text = '';
    while (!/event: charts\ndata: .*\n\n/.test(text)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`the stream ended before a charts event: ${text.slice(0, 300)}`);
      text += new TextDecoder().decode(value);
    }
    await reader.cancel();
    const data = JSON.parse(/event: charts\ndata: (.*)\n\n/.exec(text)?.[1] ?? '{}') as ChartsBody;
    expect(data.runId).toBe('run_c');
    expect(points(data, 'gantt')).toBe(2);
  });

  it('answers 404 with the run id for a run that does not exist, and 400 for a bad id', async () => {
    const missing = await app.inject({ method: 'GET', url: '/api/runs/run_nope/charts' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: expect.stringContaining('run_nope') });
    const bad = await app.inject({ method: 'GET', url: '/api/runs/has%20space/charts' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().issues[0].path).toBe('id');
  });
});

describe('chart scripts', () => {
  const SERVED = ['vega.min.js', 'vega-lite.min.js', 'vega-interpreter.js', 'vega-util/index.js'];
  it.each(SERVED)('serves /assets/%s from node_modules as JavaScript', async (file) => {
    const res = await app.inject({ method: 'GET', url: `/assets/${file}` });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^text\/javascript/);
    expect(res.body).toMatch(file === 'vega-interpreter.js' ? /expressionInterpreter/ : /export|function/);
    // A browser asking again with the ETag it has gets 304 and no body.
    const etag = String(res.headers.etag);
    const again = await app.inject({
      method: 'GET',
      url: `/assets/${file}`,
      headers: { 'if-none-match': etag },
    });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
    const other = await app.inject({
      method: 'GET',
      url: `/assets/${file}`,
      headers: { 'if-none-match': '"old"' },
    });
    expect(other.statusCode).toBe(200);
  });

  // Unknown names, paths that leave vega-util's folder, and a name on Object.prototype.
  const REFUSED = [
    'package.json',
    'vega-util/..%2F..%2Fpackage.json',
    'vega-util/..%2Findex.d.ts',
    'vega-util/missing.js',
    'constructor',
  ];
  it.each(REFUSED)('serves nothing else: /assets/%s is 404', async (file) => {
    expect((await app.inject({ method: 'GET', url: `/assets/${file}` })).statusCode).toBe(404);
  });

  it('the run page loads them under its nonce, without loosening the CSP', async () => {
    const res = await app.inject({ method: 'GET', url: '/runs/run_c' });
    expect(res.statusCode).toBe(200);
    const csp = String(res.headers['content-security-policy']);
    const nonce = /'nonce-([^']+)'/.exec(csp)?.[1];
    expect(csp).not.toMatch(/unsafe-eval|unsafe-inline/);
    expect(res.body).toContain(`<script nonce="${nonce}" src="/assets/vega.min.js">`);
    expect(res.body).toContain('<script type="importmap"');
    expect(res.body).toContain('data-testid="run-charts"');
  });
});

describe('team page', () => {
  it('says what needs attention: alerts first, then runs waiting for a human, then running ones', async () => {
    await seed('run_w', [{ type: 'run.waiting-human', reason: 'budget exceeded', cause: 'budget' }]);
    const calm = await app.inject({ method: 'GET', url: '/partials/overview' });
    expect(calm.body).toContain('data-ok="false"');
    expect(calm.body).toMatch(/1 run waiting for you/);
    await createAlertStore(control.parts.redis, control.parts.keys).raise({
      key: 'test:depth',
      runId: 'run_c',
      level: 3,
      rule: 'resources.queue-depth',
      subject: 'llm',
      reason: '60 calls waiting',
      actions: [],
    });
    const page = await app.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).toBe(200);
    const at = (s: string) => page.body.indexOf(s);
    expect(at('data-testid="overview-verdict"')).toBeGreaterThan(-1);
    expect(at('data-testid="overview-alerts"')).toBeLessThan(at('data-testid="overview-waiting"'));
    expect(at('data-testid="overview-waiting"')).toBeLessThan(at('data-testid="overview-running"'));
    expect(at('data-testid="overview-running"')).toBeLessThan(at('data-testid="runs-table"'));
    expect(page.body).toMatch(/Needs attention: 1 open alert, 1 run waiting for you; 1 running/);
    expect(page.body).toContain('data-testid="overview-waiting-run_w"');
    expect(page.body).toContain('data-testid="overview-running-run_c"');
    expect(page.body).toContain('data-testid="overview-alert-run-');
  });
});
