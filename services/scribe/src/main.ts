// Scribe entry point: load the config, keep team state, checkpoints, summaries and the archive
// until SIGTERM.
import { hostname } from 'node:os';
import { loadConfig, UNCONFINED_WARNING } from '@nightshift/config';
import { GatewayChatModel } from '@nightshift/llm';
import { createArchivedRunStore, openServiceConnections } from '@nightshift/redis';
import {
  createLogger,
  defineService,
  HealthRegistry,
  healthEndpoint,
  runService,
  serviceGroup,
} from '@nightshift/runtime';
import { ScribeService } from './scribe.js';

const config = loadConfig(process.env);
const logger = createLogger({ service: 'scribe', level: config.logLevel, role: 'scribe' });
// issue 17 §3: running commands unconfined is announced at every start.
if (config.tools.sandbox === 'off') logger.warn({ sandbox: 'off' }, UNCONFINED_WARNING);
const onError = (err: Error) => logger.warn({ err: err.message }, 'redis connection error');
const connections = openServiceConnections(config.redis, 'scribe', onError);
const { keys, redis, blocking, bus } = connections;
const { store, archive } = createArchivedRunStore(redis, keys, config.memoryDir);
// Summaries go through the gateway at the Scribe's own (low) priority, within its role timeout
// (guide §7: Scribe 60 s, Low); when that fails the Scribe summarises extractively and says so.
const scribeTimeoutMs = config.roles.scribe.timeoutSeconds * 1000;
const model = new GatewayChatModel({
  connection: blocking,
  prefix: keys.prefix,
  maxQueue: config.ollama.maxQueue,
  priorities: { scribe: config.roles.scribe.bullmqPriority },
  timeoutMs: scribeTimeoutMs,
  onError,
});
const scribe = new ScribeService({
  redis,
  connection: blocking,
  keys,
  bus,
  store,
  retention: { policy: config.retention, archive },
  memoryDir: config.memoryDir,
  logger,
  model,
  summary: {
    timeoutMs: scribeTimeoutMs,
    maxTokens: config.scribe.summaryMaxTokens,
    maxFolds: config.scribe.summaryMaxFolds,
  },
  archiveAfterMinutes: config.subagents.archiveAfterMinutes,
  // No Scribe-specific lease setting yet: the Director's TTL is the deployment's failover time.
  leaseTtlMs: config.director.leaseTtlMs,
  heartbeatMs: config.heartbeat.intervalMs,
  heartbeatTtlMs: config.heartbeat.ttlMs,
  instance: `${hostname()}-${process.pid}`,
  lockDurationMs: config.queues.lockDurationMs,
  stalledIntervalMs: config.queues.stalledIntervalMs,
  maxStalledCount: config.queues.maxStalledCount,
});
const health = new HealthRegistry();
health.register('redis', async () => ({ ok: redis.status === 'ready', detail: redis.status }));
health.register('lease', async () => ({ ok: true, detail: scribe.isLeader ? 'leading' : 'standby' }));

runService(
  serviceGroup(
    'scribe',
    [
      defineService({
        name: 'connections',
        stop: async () => {
          await model.close();
          await connections.close();
        },
      }),
      healthEndpoint(health, config.health, logger),
      scribe,
    ],
    { logger },
  ),
  { logger },
);
