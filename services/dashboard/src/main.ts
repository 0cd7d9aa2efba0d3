// Dashboard entry point: load the config, open the control layer, serve until SIGTERM. Like every
// service it also answers the Docker/k8s probe on HEALTH_PORT when that is set.
import { openControl } from '@nightshift/client';
import { loadConfig, UNCONFINED_WARNING, unconfinedWarning, workspaceRootsOf } from '@nightshift/config';
import { runArchiveDir } from '@nightshift/redis';
import {
  createLogger,
  createMetrics,
  defineService,
  HealthRegistry,
  registerSecret,
  runService,
  serviceGroup,
  startHealthServer,
} from '@nightshift/runtime';
import type { FastifyInstance } from 'fastify';
import { buildServer } from './server.js';

const config = loadConfig(process.env);
registerSecret(config.dashboard.token);
const logger = createLogger({ service: 'dashboard', level: config.logLevel });
// issue 17 §3: running commands unconfined is announced at every start.
if (config.tools.sandbox === 'off') logger.warn({ sandbox: 'off' }, UNCONFINED_WARNING);
const control = openControl({
  url: config.redis.url,
  prefix: config.redis.prefix,
  numParallel: config.ollama.numParallel,
  actor: 'dashboard',
  // Issue 24 §3: the ETAs on the run list, the run page and the API, one forecast per ETA_CACHE_MS.
  eta: {
    historyRuns: config.plan.historyRuns,
    loadStretch: config.plan.loadStretch,
    samples: config.plan.etaSamples,
    cacheMs: config.plan.etaCacheMs,
  },
  // Issue 18 §7: POST /api/runs refuses a workspace outside the roots before enqueueing.
  workspace: { dir: config.workspaceDir, roots: workspaceRootsOf(config) },
  // Issue 21 §2: the run page and GET /api/runs/:id read archived runs from MEMORY_DIR/archive.
  archiveDir: runArchiveDir(config.memoryDir),
  busOptions: {
    streamMaxLen: config.redis.streamMaxLen,
    maxDeliveries: config.redis.maxDeliveries,
    claimIdleMs: config.redis.claimIdleMs,
  },
  onError: (err) => logger.warn({ err: err.message }, 'redis connection error'),
});
const health = new HealthRegistry();
health.register('redis', async () => ({
  ok: control.parts.redis.status === 'ready',
  detail: control.parts.redis.status,
}));
let app: FastifyInstance | undefined;
let probe: { close(): Promise<void> } | undefined;

runService(
  serviceGroup(
    'dashboard',
    [
      defineService({ name: 'connections', stop: () => control.close() }),
      defineService({
        name: 'health',
        start: async () => {
          if (config.health.port === undefined) return;
          probe = await startHealthServer({
            health,
            port: config.health.port,
            host: config.health.host,
            logger,
          });
        },
        stop: async () => probe?.close(),
      }),
      defineService({
        name: 'http',
        start: async () => {
          app = await buildServer({
            control,
            bus: control.bus,
            host: config.dashboard.host,
            token: config.dashboard.token,
            allowedHosts: config.dashboard.allowedHosts,
            unconfinedWarning: unconfinedWarning(config),
            logger,
            metrics: createMetrics({
              collectDefaultMetrics: true,
              defaultMetricsPrefix: 'nightshift_dashboard_',
            }),
          });
          const address = await app.listen({ host: config.dashboard.host, port: config.dashboard.port });
          logger.info(
            { address, auth: config.dashboard.token ? 'token' : 'none (loopback only)' },
            'dashboard listening',
          );
        },
        stop: async () => app?.close(),
      }),
    ],
    { logger },
  ),
  { logger },
);
