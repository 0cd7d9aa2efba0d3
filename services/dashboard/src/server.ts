// buildServer(deps): the whole dashboard as one Fastify instance — Host/Origin check and auth first, then Bull Board,
// the team view, REST, SSE, OpenAPI and metrics. Injectable: tests call it with `app.inject`.
import { DEFAULT_CHART_WIDTH } from '@nightshift/charts';
import type { Control } from '@nightshift/client';
import { createMetrics, type Metrics } from '@nightshift/runtime';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import { assertBindAllowed, registerAuth } from './auth.js';
import { BULL_BOARD_PATH, registerBullBoard } from './bull-board.js';
import type { DashboardContext } from './context.js';
import { hostPolicy, registerHostCheck } from './host-check.js';
import { installErrorHandler } from './http-errors.js';
import { DashboardMetrics } from './metrics.js';
import { registerOpenApi } from './openapi.js';
import { registerApiControl } from './routes/api-control.js';
import { registerApiRuns } from './routes/api-runs.js';
import { registerAssets } from './routes/assets.js';
import { registerMetrics } from './routes/metrics.js';
import { registerRunCharts } from './routes/run-charts.js';
import { registerSse } from './routes/sse.js';
import { registerTeamView } from './routes/team-view.js';
import type { LogReader } from './stream-history.js';

export interface DashboardDeps {
  control: Control;
  /** bus:log reads for the message stream. */
  bus: LogReader;
  /** The address it will listen on: anything but loopback needs `token`. */
  host: string;
  /** DASHBOARD_TOKEN; when set every route but /healthz needs it. */
  token?: string | undefined;
  /** DASHBOARD_ALLOWED_HOSTS: Host names besides loopback and the bind address (host-check.ts). */
  allowedHosts?: readonly string[] | undefined;
  /** This machine's addresses, for a bind on all of them; default os.networkInterfaces(). */
  interfaceAddresses?: readonly string[] | undefined;
  logger?: FastifyBaseLogger;
  metrics?: Metrics;
  streamIntervalMs?: number;
  historyLimit?: number;
  /** Width of the run page's live charts, px; default DEFAULT_CHART_WIDTH (the report's). */
  chartWidth?: number;
  /** The warning to show when agents run commands unconfined (config tools.sandbox off). */
  unconfinedWarning?: string | undefined;
  /** Mount Bull Board at /queues (default true). */
  bullBoard?: boolean;
}

/** Headers on every answer; our HTML pages add a strict nonce CSP of their own. */
const SECURITY_HEADERS: Record<string, string> = {
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
  'Permissions-Policy': 'camera=(), microphone=(), geolocation=()',
};

export async function buildServer(deps: DashboardDeps): Promise<FastifyInstance> {
  // Refuse before anything is built: a reachable dashboard without a token must never start.
  assertBindAllowed(deps.host, deps.token);
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    // SSE connections never go idle: close them on shutdown instead of waiting forever.
    forceCloseConnections: true,
    bodyLimit: 1024 * 1024,
  });
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, text, done) => {
    done(null, Object.fromEntries(new URLSearchParams(String(text))));
  });
  app.addHook('onSend', async (request, reply, payload) => {
    for (const [name, value] of Object.entries(SECURITY_HEADERS)) reply.header(name, value);
    const path = request.url.split('?')[0] ?? '';
    // Static scripts (Bull Board's, our chart renderer's) may be cached; nothing else.
    if (!path.startsWith(`${BULL_BOARD_PATH}/static`) && !path.startsWith('/assets/'))
      reply.header('Cache-Control', 'no-store');
    if (!reply.hasHeader('Content-Security-Policy')) {
      reply.header(
        'Content-Security-Policy',
        "frame-ancestors 'none'; base-uri 'self'; object-src 'none'; form-action 'self'",
      );
    }
    return payload;
  });
  installErrorHandler(app);
  // The Host/Origin check runs before auth, token or no token: DNS rebinding (host-check.ts).
  registerHostCheck(
    app,
    hostPolicy({
      bindHost: deps.host,
      allowedHosts: deps.allowedHosts,
      interfaceAddresses: deps.interfaceAddresses,
    }),
  );
  registerAuth(app, deps.token);

  const ctx: DashboardContext = {
    control: deps.control,
    bus: deps.bus,
    metrics: new DashboardMetrics(deps.control, deps.metrics ?? createMetrics()),
    streamIntervalMs: deps.streamIntervalMs ?? 1000,
    historyLimit: deps.historyLimit ?? 200,
    chartWidth: deps.chartWidth ?? DEFAULT_CHART_WIDTH,
    unconfinedWarning: deps.unconfinedWarning,
  };
  registerMetrics(app, ctx);
  registerOpenApi(app);
  registerApiRuns(app, ctx);
  registerApiControl(app, ctx);
  registerSse(app, ctx);
  registerTeamView(app, ctx);
  registerAssets(app);
  registerRunCharts(app, ctx);
  if (deps.bullBoard !== false) await registerBullBoard(app, (name) => deps.control.parts.queue(name));
  await app.ready();
  return app;
}
