// The dashboard's token: required on a reachable bind, checked on every route but /healthz
// (Bull Board included), as a bearer header or a session cookie; cookie writes must be same-origin.
import { randomBytes } from 'node:crypto';
import { type OpenedControl, openControl } from '@nightshift/client';
import { QUEUE_NAMES } from '@nightshift/redis';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from './server.js';
import { dropPrefixAndClose } from './test-support/control.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `{t-auth-${randomBytes(4).toString('hex')}}`;
const TOKEN = 'test-token-0123456789abcdef';
let control: OpenedControl;
let secured: FastifyInstance;

beforeAll(async () => {
  control = openControl({ url, prefix, actor: 'dashboard' });
  secured = await buildServer({ control, bus: control.bus, host: '0.0.0.0', token: TOKEN });
  const at = new Date().toISOString();
  await control.parts.store.append('run_a', 0, [
    { type: 'run.created', runId: 'run_a', task: 'guarded', at },
  ]);
});

afterAll(async () => {
  await secured?.close();
  await dropPrefixAndClose(control, prefix);
});

describe('auth', () => {
  it('refuses to build on a reachable address without a token', async () => {
    await expect(buildServer({ control, bus: control.bus, host: '0.0.0.0' })).rejects.toThrow(
      /DASHBOARD_TOKEN/,
    );
  });

  it('needs the token everywhere but /healthz (401), Bull Board included', async () => {
    expect((await secured.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    for (const path of [
      '/api/runs',
      '/api/status',
      '/metrics',
      '/queues/api/queues',
      '/api/openapi.json',
      '/api/runs/run_a/charts',
      '/assets/vega.min.js',
      '/partials/overview',
    ]) {
      expect((await secured.inject({ method: 'GET', url: path })).statusCode, path).toBe(401);
    }
    expect((await secured.inject({ method: 'POST', url: '/api/agents/builder/pause' })).statusCode).toBe(401);
    expect(await control.parts.queue(QUEUE_NAMES.agent('builder')).isPaused()).toBe(false);
    const wrong = await secured.inject({
      method: 'GET',
      url: '/api/runs',
      headers: { authorization: 'Bearer nope' },
    });
    expect(wrong.statusCode).toBe(401);
    const right = await secured.inject({
      method: 'GET',
      url: '/api/runs',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(right.statusCode).toBe(200);
    const board = await secured.inject({
      method: 'GET',
      url: '/queues/api/queues',
      headers: { authorization: `Bearer ${TOKEN}` },
    });
    expect(board.statusCode).toBe(200);
    const html = await secured.inject({ method: 'GET', url: '/', headers: { accept: 'text/html' } });
    expect(html.statusCode).toBe(401);
    expect(html.body).toContain('data-testid="login-token"');
    expect(html.body).not.toContain(TOKEN);
  });

  it('logs in with the token into an HttpOnly cookie that is not the token, and refuses cross-origin writes', async () => {
    const bad = await secured.inject({ method: 'POST', url: '/login', payload: { token: 'wrong' } });
    expect(bad.statusCode).toBe(401);
    const login = await secured.inject({
      method: 'POST',
      url: '/login',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `token=${TOKEN}&next=/runs/run_a`,
    });
    expect(login.statusCode).toBe(303);
    expect(login.headers.location).toBe('/runs/run_a');
    const setCookie = String(login.headers['set-cookie']);
    expect(setCookie).toMatch(/HttpOnly/);
    expect(setCookie).toMatch(/SameSite=Strict/);
    expect(setCookie).not.toContain(TOKEN);
    const cookie = setCookie.split(';')[0] as string;
    const page = await secured.inject({ method: 'GET', url: '/runs/run_a', headers: { cookie } });
    expect(page.statusCode).toBe(200);
    expect(page.body).not.toContain(TOKEN);
    const foreign = await secured.inject({
      method: 'POST',
      url: '/api/agents/scout/pause',
      headers: { cookie, origin: 'https://evil.example', host: 'localhost:8080' },
    });
    expect(foreign.statusCode).toBe(403);
    const own = await secured.inject({
      method: 'POST',
      url: '/api/agents/scout/resume',
      headers: { cookie, origin: 'http://localhost:8080', host: 'localhost:8080' },
    });
    expect(own.statusCode).toBe(200);
  });
});
