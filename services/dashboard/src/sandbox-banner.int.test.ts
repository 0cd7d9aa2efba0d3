// TOOLS_SANDBOX=off is shown by the dashboard (issue 17 §3): /api/status says commandSandbox "off"
// and every page carries the warning at the top; with the sandbox on, neither appears.
import { randomBytes } from 'node:crypto';
import { type OpenedControl, openControl } from '@nightshift/client';
import { UNCONFINED_WARNING } from '@nightshift/config';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from './server.js';

const url = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const prefix = `{t-sbx-${randomBytes(4).toString('hex')}}`;
let control: OpenedControl;
let off: FastifyInstance;
let on: FastifyInstance;

beforeAll(async () => {
  control = openControl({ url, prefix, actor: 'dashboard' });
  const deps = { control, bus: control.bus, host: '127.0.0.1', bullBoard: false };
  off = await buildServer({ ...deps, unconfinedWarning: UNCONFINED_WARNING });
  on = await buildServer(deps);
});

afterAll(async () => {
  await off?.close();
  await on?.close();
  await control.close();
});

const get = (app: FastifyInstance, path: string) =>
  app.inject({ method: 'GET', url: path, headers: { host: '127.0.0.1' } });

describe('dashboard: command sandbox', () => {
  it('off: /api/status says so and the runs page shows the warning', async () => {
    expect((await get(off, '/api/status')).json()).toMatchObject({ commandSandbox: 'off' });
    const page = (await get(off, '/')).body;
    expect(page).toContain('data-testid="sandbox-off"');
    expect(page).toContain('TOOLS_SANDBOX=off');
  });

  it('on: /api/status says on, no warning on the page', async () => {
    expect((await get(on, '/api/status')).json()).toMatchObject({ commandSandbox: 'on' });
    expect((await get(on, '/')).body).not.toContain('sandbox-off');
  });
});
