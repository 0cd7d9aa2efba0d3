// DNS rebinding (issue 17 §6): a foreign Host, or a write from a foreign Origin, is refused before
// anything runs — on the default loopback bind without a token and on a token-protected bind.
import { randomBytes } from 'node:crypto';
import { type OpenedControl, openControl } from '@nightshift/client';
import { QUEUE_NAMES } from '@nightshift/redis';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from './server.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `{t-host-${randomBytes(4).toString('hex')}}`;
const TOKEN = 'test-token-0123456789abcdef';
let control: OpenedControl;
let open: FastifyInstance;
let secured: FastifyInstance;

const runJobs = async (): Promise<number> => control.parts.queue(QUEUE_NAMES.runs).count();

beforeAll(async () => {
  control = openControl({ url, prefix, actor: 'dashboard' });
  open = await buildServer({ control, bus: control.bus, host: '127.0.0.1', bullBoard: false });
  secured = await buildServer({
    control,
    bus: control.bus,
    host: '0.0.0.0',
    token: TOKEN,
    allowedHosts: ['night.example.org'],
    interfaceAddresses: ['127.0.0.1', '10.1.2.3'],
    bullBoard: false,
  });
});

afterAll(async () => {
  await open?.close();
  await secured?.close();
  await control.parts.queue(QUEUE_NAMES.runs).obliterate({ force: true });
  await control.close();
});

const body = { task: 'rebinding probe' };

describe('Host and Origin on a loopback bind without a token', () => {
  it('refuses a foreign Host with 403, for reads and writes, and enqueues nothing', async () => {
    const before = await runJobs();
    const write = await open.inject({
      method: 'POST',
      url: '/api/runs',
      headers: { host: 'attacker.example:8080', origin: 'http://attacker.example:8080' },
      payload: body,
    });
    expect(write.statusCode).toBe(403);
    expect(write.json().error).toMatch(/unknown Host "attacker.example:8080".*DASHBOARD_ALLOWED_HOSTS/);
    const read = await open.inject({
      method: 'GET',
      url: '/api/runs',
      headers: { host: 'attacker.example:8080' },
    });
    expect(read.statusCode).toBe(403);
    expect(await runJobs()).toBe(before);
  });

  it('refuses a write from a foreign Origin even with our Host, and enqueues nothing', async () => {
    const before = await runJobs();
    for (const headers of [
      { host: 'localhost:8080', origin: 'http://attacker.example:8080' },
      { host: 'localhost:8080', origin: 'null' },
      { host: 'localhost:8080', referer: 'http://attacker.example/page' },
    ]) {
      const res = await open.inject({ method: 'POST', url: '/api/runs', headers, payload: body });
      expect(res.statusCode, JSON.stringify(headers)).toBe(403);
    }
    expect(await runJobs()).toBe(before);
  });

  it('still serves our own pages and scripts (same Origin, or none as curl and the CLI send)', async () => {
    const before = await runJobs();
    const own = await open.inject({
      method: 'POST',
      url: '/api/runs',
      headers: { host: '127.0.0.1:8080', origin: 'http://127.0.0.1:8080' },
      payload: body,
    });
    expect(own.statusCode).toBe(201);
    const script = await open.inject({
      method: 'POST',
      url: '/api/runs',
      headers: { host: 'localhost:8080' },
      payload: body,
    });
    expect(script.statusCode).toBe(201);
    expect(await runJobs()).toBe(before + 2);
    // The probe answers any name an orchestrator uses.
    expect(
      (await open.inject({ method: 'GET', url: '/healthz', headers: { host: 'pod-10-1-2-3' } })).statusCode,
    ).toBe(200);
  });
});

describe('Host and Origin on a token-protected bind behind a reverse proxy', () => {
  const auth = { authorization: `Bearer ${TOKEN}` };

  it('refuses a foreign Host even with the right token, and a foreign Origin on a write', async () => {
    const before = await runJobs();
    const host = await secured.inject({
      method: 'POST',
      url: '/api/runs',
      headers: { ...auth, host: 'attacker.example:8080' },
      payload: body,
    });
    expect(host.statusCode).toBe(403);
    const origin = await secured.inject({
      method: 'POST',
      url: '/api/runs',
      headers: { ...auth, host: 'night.example.org', origin: 'https://attacker.example' },
      payload: body,
    });
    expect(origin.statusCode).toBe(403);
    expect(await runJobs()).toBe(before);
  });

  it('accepts the configured proxy name and the machine address, and still needs the token there', async () => {
    const before = await runJobs();
    const proxied = await secured.inject({
      method: 'POST',
      url: '/api/runs',
      headers: { ...auth, host: 'night.example.org', origin: 'https://night.example.org' },
      payload: body,
    });
    expect(proxied.statusCode).toBe(201);
    const direct = await secured.inject({
      method: 'GET',
      url: '/api/runs',
      headers: { ...auth, host: '10.1.2.3:8080' },
    });
    expect(direct.statusCode).toBe(200);
    const noToken = await secured.inject({
      method: 'GET',
      url: '/api/runs',
      headers: { host: 'night.example.org' },
    });
    expect(noToken.statusCode).toBe(401);
    expect(await runJobs()).toBe(before + 1);
  });
});
