// The dashboard's REST, team view and auth through `app.inject`, against a real Redis with its own
// key prefix: each route's happy path, bad input (400 naming the field), 404s and 409s.
import { randomBytes } from 'node:crypto';
import { type OpenedControl, openControl, StatusSchema } from '@nightshift/client';
import { type RunEventDraft, stamp } from '@nightshift/core';
import { createAlertStore, createRunStore, QUEUE_NAMES } from '@nightshift/redis';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from './server.js';
import { dropPrefixAndClose, seedRun } from './test-support/control.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `{t-dash-${randomBytes(4).toString('hex')}}`;
let control: OpenedControl;
let app: FastifyInstance;

const seed = (runId: string, drafts: RunEventDraft[]) => seedRun(control, runId, drafts);

async function eventTypes(runId: string): Promise<string[]> {
  const store = createRunStore(control.parts.redis, control.parts.keys);
  return (await store.read(runId)).map((e) => (e.event as { type: string }).type);
}

async function humanDecisions(): Promise<string[]> {
  const log = await control.bus.readLog({ count: 1000 });
  return log.flatMap((e) =>
    e.message?.from === 'human' && e.message.type === 'DECISION' ? [e.message.content] : [],
  );
}

const post = (path: string, payload?: unknown) =>
  app.inject({ method: 'POST', url: path, ...(payload === undefined ? {} : { payload: payload as object }) });

beforeAll(async () => {
  control = openControl({ url, prefix, actor: 'dashboard' });
  app = await buildServer({ control, bus: control.bus, host: '127.0.0.1', streamIntervalMs: 200 });
  await seed('run_a', [{ type: 'phase.started', phase: 1, iteration: 1 }]);
});

afterAll(async () => {
  await app?.close();
  await dropPrefixAndClose(control, prefix);
});

describe('REST: runs', () => {
  it('POST /api/runs enqueues a run job and returns its ids', async () => {
    const res = await post('/api/runs', {
      task: 'Fix the sum test',
      title: 'sum',
      budget: { maxTokens: 5000 },
    });
    expect(res.statusCode).toBe(201);
    const { runId, jobId } = res.json() as { runId: string; jobId: string };
    expect(runId).toBe(`run_${jobId}`);
    const job = await control.parts.queue(QUEUE_NAMES.runs).getJob(jobId);
    expect(job?.name).toBe('run');
    expect(job?.data).toMatchObject({ task: 'Fix the sum test', title: 'sum', budget: { maxTokens: 5000 } });
  });

  it('POST /api/runs refuses a bad body with 400 naming each field', async () => {
    const bad = await post('/api/runs', { task: 42 });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().issues).toEqual([expect.objectContaining({ path: 'task' })]);
    const budget = await post('/api/runs', { task: 'x', budget: { maxTokens: -1 } });
    expect(budget.statusCode).toBe(400);
    expect(budget.json().issues[0].path).toBe('budget.maxTokens');
    const unknown = await post('/api/runs', { task: 'x', colour: 'red' });
    expect(unknown.statusCode).toBe(400);
    expect(JSON.stringify(unknown.json().issues)).toMatch(/colour/);
    const notJson = await app.inject({
      method: 'POST',
      url: '/api/runs',
      headers: { 'content-type': 'application/json' },
      payload: '{not json',
    });
    expect(notJson.statusCode).toBe(400);
  });

  it('GET /api/runs lists runs and GET /api/runs/:id gives state, events and checkpoints', async () => {
    await control.parts.redis.rpush(
      control.parts.keys.runCheckpoints('run_a'),
      JSON.stringify({
        n: 1,
        trigger: 'phase-complete',
        at: new Date().toISOString(),
        phase: 1,
        iteration: 1,
        version: 2,
        decision: 'Continue',
        file: '/m/CP-1.md',
      }),
    );
    const list = await app.inject({ method: 'GET', url: '/api/runs' });
    expect(list.statusCode).toBe(200);
    expect(list.json().runs.map((r: { runId: string }) => r.runId)).toContain('run_a');
    const one = await app.inject({ method: 'GET', url: '/api/runs/run_a' });
    expect(one.statusCode).toBe(200);
    const body = one.json();
    expect(body.run).toMatchObject({ runId: 'run_a', phase: 1, phaseName: 'Planning', status: 'planning' });
    expect(body.events.map((e: { type: string }) => e.type)).toEqual(['run.created', 'phase.started']);
    expect(body.checkpoints).toEqual([expect.objectContaining({ n: 1, trigger: 'phase-complete' })]);
    expect(body.run.latestCheckpoint).toMatchObject({ n: 1 });
  });

  it('answers 404 for an unknown run and 400 for a malformed id', async () => {
    expect((await app.inject({ method: 'GET', url: '/api/runs/run_nope' })).statusCode).toBe(404);
    const bad = await app.inject({ method: 'GET', url: '/api/runs/a:b' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().issues[0].path).toBe('id');
    expect((await post('/api/runs/run_nope/pause', {})).statusCode).toBe(404);
  });

  it('GET /api/status is the StatusSchema snapshot', async () => {
    const res = await app.inject({ method: 'GET', url: '/api/status?run=run_a' });
    expect(res.statusCode).toBe(200);
    const status = StatusSchema.parse(res.json());
    expect(status.run?.runId).toBe('run_a');
    expect(status.agents.map((a) => a.role)).toEqual([
      'director',
      'architect',
      'scout',
      'builder',
      'refactorer',
      'inspector',
      'scribe',
    ]);
    expect((await app.inject({ method: 'GET', url: '/api/status?run=run_nope' })).statusCode).toBe(404);
  });
});

describe('REST: steering', () => {
  it('pauses and resumes a run through its events, and says so on the bus', async () => {
    await seed('run_p', [{ type: 'phase.started', phase: 1, iteration: 1 }]);
    const paused = await post('/api/runs/run_p/pause', { note: 'looking at it' });
    expect(paused.statusCode).toBe(200);
    expect(paused.json()).toMatchObject({ action: 'pause', changed: true, status: 'paused' });
    const again = await post('/api/runs/run_p/pause');
    expect(again.json()).toMatchObject({ changed: false, status: 'paused' });
    const resumed = await post('/api/runs/run_p/resume', {});
    expect(resumed.json()).toMatchObject({ action: 'resume', changed: true, status: 'planning' });
    expect(await eventTypes('run_p')).toEqual(['run.created', 'phase.started', 'run.paused', 'run.resumed']);
    expect(await humanDecisions()).toEqual(expect.arrayContaining(['PAUSE run_p', 'RESUME run_p']));
    const bad = await post('/api/runs/run_p/pause', { note: 5 });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().issues[0].path).toBe('note');
  });

  it('decides only for a run that waits for a human; abort any time before the end', async () => {
    await seed('run_w', [{ type: 'phase.started', phase: 2, iteration: 1 }]);
    const early = await post('/api/runs/run_w/decide', { decision: 'continue' });
    expect(early.statusCode).toBe(409);
    await seed('run_w', [{ type: 'run.waiting-human', reason: 'budget exceeded', cause: 'budget' }]);
    const badDecision = await post('/api/runs/run_w/decide', { decision: 'maybe' });
    expect(badDecision.statusCode).toBe(400);
    expect(badDecision.json().issues[0].path).toBe('decision');
    const ok = await post('/api/runs/run_w/decide', { decision: 'revise', note: 'smaller steps' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({
      action: 'decide',
      decision: 'revise',
      changed: true,
      status: 'running',
    });
    const store = createRunStore(control.parts.redis, control.parts.keys);
    expect((await store.read('run_w')).at(-1)?.event).toMatchObject({
      type: 'human.decided',
      decision: 'revise',
      note: 'smaller steps',
    });
    expect(await humanDecisions()).toContain('DECIDE run_w revise');
    const abort = await post('/api/runs/run_w/abort', {});
    expect(abort.json()).toMatchObject({ action: 'abort', changed: true });
    expect((await post('/api/runs/run_w/abort', {})).json()).toMatchObject({ changed: false });
    await seed('run_w', [{ type: 'run.finished', outcome: 'aborted' }]);
    const ended = await post('/api/runs/run_w/pause', {});
    expect(ended.statusCode).toBe(409);
    expect(ended.json().code).toBe('RUN_ENDED');
  });

  it('pauses and resumes an agent queue', async () => {
    const queue = control.parts.queue(QUEUE_NAMES.agent('builder'));
    const paused = await post('/api/agents/builder/pause');
    expect(paused.json()).toMatchObject({
      role: 'builder',
      queue: 'agent.builder',
      paused: true,
      changed: true,
    });
    expect(await queue.isPaused()).toBe(true);
    const status = StatusSchema.parse((await app.inject({ method: 'GET', url: '/api/status' })).json());
    expect(status.agents.find((a) => a.role === 'builder')).toMatchObject({
      state: 'paused',
      queuePaused: true,
    });
    await post('/api/agents/builder/resume');
    expect(await queue.isPaused()).toBe(false);
    const bad = await post('/api/agents/wizard/pause');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().issues[0].path).toBe('role');
  });

  it('resolves an alert and tells the sentinel on the bus', async () => {
    const alerts = createAlertStore(control.parts.redis, control.parts.keys);
    const { alert } = await alerts.raise({
      key: 'test:queue-depth',
      runId: 'run_a',
      level: 3,
      rule: 'resources.queue-depth',
      subject: 'llm',
      reason: '60 calls waiting',
      actions: ['pause-queues'],
    });
    const listed = StatusSchema.parse((await app.inject({ method: 'GET', url: '/api/status' })).json());
    expect(listed.alerts.open.map((a) => a.id)).toContain(alert.id);
    expect(listed.alerts.openByLevel['3']).toBeGreaterThanOrEqual(1);
    const bad = await post(`/api/alerts/${alert.id}/resolve`, { decision: 'ignore' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().issues[0].path).toBe('decision');
    const res = await post(`/api/alerts/${alert.id}/resolve`, {
      decision: 'continue',
      note: 'queue drained',
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ alertId: alert.id, status: 'resolved', changed: true });
    expect((await alerts.get(alert.id))?.resolution).toMatchObject({
      decision: 'continue',
      note: 'queue drained',
    });
    expect(await humanDecisions()).toContain(`RESOLVE ${alert.id} continue`);
    expect((await post(`/api/alerts/${alert.id}/resolve`, { decision: 'abort' })).json()).toMatchObject({
      changed: false,
    });
    expect((await post('/api/alerts/alert_nope/resolve', { decision: 'continue' })).statusCode).toBe(404);
  });

  it('never changes state on GET', async () => {
    for (const path of ['/api/runs/run_a/pause', '/api/agents/builder/pause', '/api/runs/run_a/abort']) {
      expect((await app.inject({ method: 'GET', url: path })).statusCode).toBe(404);
    }
  });
});

describe('team view, OpenAPI, metrics', () => {
  it('renders the runs list and a run page, escaping what it shows', async () => {
    await control.parts.store.append('run_x', 0, [
      stamp(
        { type: 'run.created', runId: 'run_x', task: '<script>alert(1)</script> fix it' },
        new Date().toISOString(),
      ),
    ]);
    const home = await app.inject({ method: 'GET', url: '/' });
    expect(home.statusCode).toBe(200);
    expect(home.headers['content-security-policy']).toMatch(/script-src 'nonce-/);
    expect(home.body).toContain('data-testid="run-link-run_a"');
    expect(home.body).not.toContain('<script>alert(1)</script>');
    expect(home.body).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    const page = await app.inject({ method: 'GET', url: '/runs/run_a' });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('data-testid="run-phase">P1 Planning');
    expect(page.body).toContain('data-testid="agent-pause-builder"');
    expect((await app.inject({ method: 'GET', url: '/runs/run_nope' })).statusCode).toBe(404);
  });

  it('serves an OpenAPI document of every route', async () => {
    const doc = (await app.inject({ method: 'GET', url: '/api/openapi.json' })).json();
    expect(doc.openapi).toBe('3.1.0');
    for (const path of [
      '/api/runs',
      '/api/runs/{id}',
      '/api/runs/{id}/decide',
      '/api/alerts/{id}/resolve',
      '/api/agents/{role}/pause',
      '/api/status',
    ]) {
      expect(doc.paths[path], path).toBeDefined();
    }
    expect(doc.components.schemas.RunInput.properties.task).toBeDefined();
  });

  it('serves /metrics as Prometheus text with the named series', async () => {
    const res = await app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    for (const line of res.body.split('\n')) {
      if (line === '' || line.startsWith('#')) continue;
      expect(line).toMatch(/^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[^}]*\})? (-?[0-9.e+-]+|NaN|[+-]Inf)$/);
    }
    for (const name of [
      'nightshift_queue_jobs',
      'nightshift_llm_slots_in_use',
      'nightshift_escalations',
      'nightshift_llm_calls_total',
    ]) {
      expect(res.body).toContain(`# TYPE ${name}`);
    }
    expect(res.body).toMatch(/nightshift_escalations\{level="3",status="resolved"\} [1-9]/);
  });
});
