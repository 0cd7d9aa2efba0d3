// Health checks registered by components, and a tiny GET /healthz server for Docker HEALTHCHECK and k8s probes.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NightshiftError } from '@nightshift/protocol';
import type { Logger } from './logger.js';
import { scrubText } from './logger.js';
import { defineService, type Service } from './service.js';

export interface CheckResult {
  ok: boolean;
  detail: string;
}

/** A check may return a boolean, `{ ok, detail? }`, or throw (= not ok, detail = the error message). */
export type HealthCheck = () =>
  | boolean
  | { ok: boolean; detail?: string }
  | Promise<boolean | { ok: boolean; detail?: string }>;

export interface HealthReport {
  ok: boolean;
  checks: Record<string, CheckResult>;
}

export interface HealthRegistryOptions {
  /** A check slower than this counts as failed (a hung Redis must not hang the probe). Default 2 s. */
  timeoutMs?: number;
}

export class HealthRegistry {
  readonly #checks = new Map<string, HealthCheck>();
  readonly #timeoutMs: number;

  constructor(options: HealthRegistryOptions = {}) {
    this.#timeoutMs = options.timeoutMs ?? 2000;
  }

  /** Adds a named check; returns a function that removes it. Names are unique. */
  register(name: string, check: HealthCheck): () => void {
    if (this.#checks.has(name)) {
      throw new NightshiftError('HEALTH_CHECK_EXISTS', `health check ${name} is already registered`);
    }
    this.#checks.set(name, check);
    return () => {
      if (this.#checks.get(name) === check) this.#checks.delete(name);
    };
  }

  /** Runs every check in parallel; ok only when all are ok (no checks = ok). */
  async check(): Promise<HealthReport> {
    const entries = await Promise.all(
      [...this.#checks].map(async ([name, check]) => [name, await this.#run(check)] as const),
    );
    return { ok: entries.every(([, r]) => r.ok), checks: Object.fromEntries(entries) };
  }

  async #run(check: HealthCheck): Promise<CheckResult> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<CheckResult>((resolve) => {
      timer = setTimeout(
        () => resolve({ ok: false, detail: `timed out after ${this.#timeoutMs} ms` }),
        this.#timeoutMs,
      );
      timer.unref();
    });
    const run = (async (): Promise<CheckResult> => {
      const result = await check();
      if (typeof result === 'boolean') return { ok: result, detail: result ? 'ok' : 'failed' };
      return { ok: result.ok, detail: scrubText(result.detail ?? (result.ok ? 'ok' : 'failed')) };
    })().catch((error: unknown) => ({
      ok: false,
      // Error texts may carry a connection URL: never serve a password over HTTP.
      detail: scrubText(error instanceof Error ? error.message : String(error)),
    }));
    try {
      return await Promise.race([run, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }
}

export interface HealthServerOptions {
  health: HealthRegistry;
  /** 0 = any free port (see `port` on the result). */
  port: number;
  /** Default 127.0.0.1: health is for the local Docker/k8s probe, not the network. */
  host?: string;
  path?: string;
  logger?: Logger;
}

export interface HealthServer {
  readonly name: string;
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/** Serves `GET /healthz` → 200 (all ok) or 503, body = the HealthReport as JSON. */
export async function startHealthServer(options: HealthServerOptions): Promise<HealthServer> {
  const host = options.host ?? '127.0.0.1';
  const path = options.path ?? '/healthz';
  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    if (url.pathname !== path) {
      res.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not found"}');
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res
        .writeHead(405, { allow: 'GET, HEAD', 'content-type': 'application/json' })
        .end('{"error":"method not allowed"}');
      return;
    }
    options.health.check().then(
      (report) => {
        res.writeHead(report.ok ? 200 : 503, {
          'content-type': 'application/json',
          'cache-control': 'no-store',
        });
        res.end(req.method === 'HEAD' ? undefined : JSON.stringify(report));
      },
      (error: unknown) => {
        options.logger?.error({ err: error }, 'health check crashed');
        res.writeHead(503, { 'content-type': 'application/json' }).end('{"ok":false,"checks":{}}');
      },
    );
  });
  server.on('error', (error) => options.logger?.error({ err: error }, 'health server error'));
  server.on('clientError', (error, socket) => {
    options.logger?.debug({ err: error }, 'health client error');
    socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once('error', onError);
    server.listen(options.port, host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  let closing: Promise<void> | undefined;
  return {
    name: 'health-server',
    port,
    url: `http://${urlHost}:${port}${path}`,
    close: () => {
      closing ??= new Promise<void>((resolve, reject) => {
        server.close((error) => (error === undefined ? resolve() : reject(error)));
        server.closeAllConnections(); // keep-alive probes must not hold the shutdown
      });
      return closing;
    },
  };
}

/**
 * The health endpoint as a service part: serves `/healthz` when a port is configured
 * (HEALTH_PORT), and does nothing otherwise. One definition for every service's main.ts.
 */
export function healthEndpoint(
  health: HealthRegistry,
  where: { port?: number | undefined; host: string },
  logger?: Logger,
): Service {
  let server: HealthServer | undefined;
  return defineService({
    name: 'health',
    start: async () => {
      if (where.port === undefined) return;
      server = await startHealthServer({
        health,
        port: where.port,
        host: where.host,
        ...(logger ? { logger } : {}),
      });
    },
    stop: async () => server?.close(),
  });
}
