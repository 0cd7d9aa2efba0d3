// Scribe entry point: load the config, keep team state and checkpoints until SIGTERM.
import { loadConfig } from '@nightshift/config';
import { createBus, createKeys, createRedisClient, createRunStore } from '@nightshift/redis';
import {
  createLogger,
  defineService,
  HealthRegistry,
  runService,
  serviceGroup,
  startHealthServer,
} from '@nightshift/runtime';
import { ScribeService } from './scribe.js';

const config = loadConfig(process.env);
const logger = createLogger({ service: 'scribe', level: config.logLevel, role: 'scribe' });
const onError = (err: Error) => logger.warn({ err: err.message }, 'redis connection error');
const keys = createKeys(config.redis.prefix);
const redis = createRedisClient(config.redis.url, { onError, connectionName: 'scribe' });
const blocking = createRedisClient(config.redis.url, { onError, maxRetriesPerRequest: null });
const bus = createBus({
  url: config.redis.url,
  keys,
  streamMaxLen: config.redis.streamMaxLen,
  maxDeliveries: config.redis.maxDeliveries,
  claimIdleMs: config.redis.claimIdleMs,
  onError,
});
const scribe = new ScribeService({
  redis,
  connection: blocking,
  keys,
  bus,
  store: createRunStore(redis, keys),
  memoryDir: config.memoryDir,
  logger,
  lockDurationMs: config.queues.lockDurationMs,
  stalledIntervalMs: config.queues.stalledIntervalMs,
  maxStalledCount: config.queues.maxStalledCount,
});
const health = new HealthRegistry();
health.register('redis', async () => ({ ok: redis.status === 'ready', detail: redis.status }));
let server: { close(): Promise<void> } | undefined;

runService(
  serviceGroup(
    'scribe',
    [
      defineService({
        name: 'connections',
        stop: async () => {
          await bus.close();
          redis.disconnect();
          blocking.disconnect();
        },
      }),
      defineService({
        name: 'health',
        start: async () => {
          if (config.health.port !== undefined) {
            server = await startHealthServer({
              health,
              port: config.health.port,
              host: config.health.host,
              logger,
            });
          }
        },
        stop: async () => server?.close(),
      }),
      scribe,
    ],
    { logger },
  ),
  { logger },
);
