import { afterAll, describe, expect, it } from 'vitest';
import { HealthRegistry, type HealthServer, startHealthServer } from './health.js';

describe('HealthRegistry', () => {
  it('is ok with no checks, and only when every check is ok', async () => {
    const health = new HealthRegistry();
    expect(await health.check()).toEqual({ ok: true, checks: {} });
    health.register('redis', () => true);
    health.register('worker', async () => ({ ok: true, detail: '2 active' }));
    expect(await health.check()).toEqual({
      ok: true,
      checks: { redis: { ok: true, detail: 'ok' }, worker: { ok: true, detail: '2 active' } },
    });
    const remove = health.register('bus', () => false);
    expect((await health.check()).ok).toBe(false);
    remove();
    expect((await health.check()).ok).toBe(true);
  });

  it('a throwing check is not ok and its message has no password; a hung one times out', async () => {
    const health = new HealthRegistry({ timeoutMs: 20 });
    health.register('redis', async () => {
      throw new Error('connect ECONNREFUSED redis://:hunter2@127.0.0.1:1');
    });
    health.register('hung', () => new Promise<boolean>(() => undefined));
    const report = await health.check();
    expect(report.ok).toBe(false);
    expect(report.checks.redis).toEqual({
      ok: false,
      detail: 'connect ECONNREFUSED redis://:***@127.0.0.1:1',
    });
    expect(report.checks.hung).toEqual({ ok: false, detail: 'timed out after 20 ms' });
  });

  it('refuses a duplicate name', () => {
    const health = new HealthRegistry();
    health.register('a', () => true);
    expect(() => health.register('a', () => true)).toThrow(/already registered/);
  });
});

describe('startHealthServer', () => {
  const servers: HealthServer[] = [];
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.close()));
  });

  it('serves 200 when healthy, 503 when not, 404 elsewhere, on 127.0.0.1', async () => {
    const health = new HealthRegistry();
    let redisOk = true;
    health.register('redis', () => redisOk);
    const server = await startHealthServer({ health, port: 0 });
    servers.push(server);
    expect(server.url).toBe(`http://127.0.0.1:${server.port}/healthz`);

    const good = await fetch(server.url);
    expect(good.status).toBe(200);
    expect(await good.json()).toEqual({ ok: true, checks: { redis: { ok: true, detail: 'ok' } } });

    redisOk = false;
    const bad = await fetch(server.url);
    expect(bad.status).toBe(503);
    expect(await bad.json()).toMatchObject({ ok: false });

    expect((await fetch(`http://127.0.0.1:${server.port}/other`)).status).toBe(404);
    expect((await fetch(server.url, { method: 'POST' })).status).toBe(405);
  });

  it('close is idempotent and frees the port', async () => {
    const server = await startHealthServer({ health: new HealthRegistry(), port: 0 });
    const closing = server.close();
    expect(server.close()).toBe(closing);
    await closing;
    await expect(fetch(server.url)).rejects.toThrow();
  });
});
