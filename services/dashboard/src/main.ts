// Dashboard entry point: load the config, open the control layer, serve until SIGTERM.
import { openControl } from '@nightshift/cli';
import { loadConfig } from '@nightshift/config';
import { createLogger, createMetrics, defineService, registerSecret, runService } from '@nightshift/runtime';
import type { FastifyInstance } from 'fastify';
import { buildServer } from './server.js';

const config = loadConfig(process.env);
registerSecret(config.dashboard.token);
const logger = createLogger({ service: 'dashboard', level: config.logLevel });
const control = openControl({
  url: config.redis.url,
  prefix: config.redis.prefix,
  numParallel: config.ollama.numParallel,
  actor: 'dashboard',
  busOptions: {
    streamMaxLen: config.redis.streamMaxLen,
    maxDeliveries: config.redis.maxDeliveries,
    claimIdleMs: config.redis.claimIdleMs,
  },
  onError: (err) => logger.warn({ err: err.message }, 'redis connection error'),
});
let app: FastifyInstance | undefined;

runService(
  defineService({
    name: 'dashboard',
    start: async () => {
      app = await buildServer({
        control,
        bus: control.bus,
        host: config.dashboard.host,
        token: config.dashboard.token,
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
    stop: async () => {
      await app?.close();
      await control.close();
    },
  }),
  { logger },
);
