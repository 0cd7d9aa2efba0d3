// Entry of the llm-gateway process: load config, build dependencies, run until SIGTERM.
import { hostname } from 'node:os';
import { loadConfig, UNCONFINED_WARNING } from '@nightshift/config';
import { OllamaChatModel, thinkSetting } from '@nightshift/llm';
import { createKeys, createRedisClient, heartbeatLoop, redactRedisUrl } from '@nightshift/redis';
import {
  createLogger,
  defineService,
  HealthRegistry,
  type HealthServer,
  runService,
  serviceGroup,
  startHealthServer,
  throttledErrorLog,
} from '@nightshift/runtime';
import { LlmGatewayService } from './gateway.js';

function main(): void {
  let config: ReturnType<typeof loadConfig>;
  try {
    config = loadConfig(process.env);
  } catch (error) {
    // No logger yet: the ConfigError lists every problem at once (STYLE: configuration).
    process.stderr.write(`llm-gateway: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
    return;
  }
  const logger = createLogger({ service: 'llm-gateway', level: config.logLevel });
  // issue 17 §3: running commands unconfined is announced at every start.
  if (config.tools.sandbox === 'off') logger.warn({ sandbox: 'off' }, UNCONFINED_WARNING);
  const instance = `${hostname()}-${process.pid}`;

  runService(
    () => {
      const keys = createKeys(config.redis.prefix);
      // One connection for the queue, the worker (BullMQ duplicates it for blocking reads) and heartbeats.
      const redis = createRedisClient(config.redis.url, {
        maxRetriesPerRequest: null,
        connectionName: `llm-gateway-${instance}`,
        onError: throttledErrorLog(logger, 'redis connection error'),
      });
      logger.info(
        { redis: redactRedisUrl(config.redis.url), prefix: keys.prefix, ollama: config.ollama.host },
        'starting',
      );
      const model = new OllamaChatModel({
        host: config.ollama.host,
        model: config.ollama.model,
        keepAlive: config.ollama.keepAlive,
        numCtx: config.ollama.numCtx,
        numPredict: config.ollama.numPredict,
        think: thinkSetting(config.ollama.think),
      });
      const gateway = new LlmGatewayService({
        connection: redis,
        prefix: keys.prefix,
        model,
        numParallel: config.ollama.numParallel,
        thinkingTraceChars: config.ollama.thinkingTraceChars,
        logger,
        lockDurationMs: config.queues.lockDurationMs,
        stalledIntervalMs: config.queues.stalledIntervalMs,
        maxStalledCount: config.queues.maxStalledCount,
        rateLimitDelayMs: config.queues.rateLimitDelayMs,
        // The run's LLM call log (for the morning report), capped like the bus streams.
        recordCall: async (call) => {
          await redis.xadd(
            keys.custom('run', call.runId, 'llm'),
            'MAXLEN',
            '~',
            20_000,
            '*',
            'call',
            JSON.stringify(call),
          );
        },
      });
      const beats = heartbeatLoop({
        redis,
        keys,
        role: 'llm-gateway',
        instance,
        intervalMs: config.heartbeat.intervalMs,
        ttlMs: config.heartbeat.ttlMs,
        logger,
        describe: () => ({
          status: gateway.running ? 'alive' : 'starting',
          info: {
            model: config.ollama.model,
            modelStatus: gateway.modelStatus.state,
            usage: gateway.usage.snapshot().total,
            habits: gateway.habits,
          },
        }),
      });
      const health = new HealthRegistry();
      health.register('redis', () => ({ ok: redis.status === 'ready', detail: redis.status }));
      health.register('worker', () => ({
        ok: gateway.running,
        detail: gateway.running ? 'running' : 'stopped',
      }));
      // A missing model is reported (an operator must pull it) but the gateway itself is up.
      health.register('model', () => {
        const m = gateway.modelStatus;
        return { ok: m.state !== 'missing', detail: 'message' in m ? `${m.state}: ${m.message}` : m.state };
      });
      let healthServer: HealthServer | undefined;
      const healthPart = defineService({
        name: 'health',
        start: async () => {
          if (config.health.port === undefined) return;
          healthServer = await startHealthServer({
            health,
            port: config.health.port,
            host: config.health.host,
            logger,
          });
          logger.info({ url: healthServer.url }, 'health endpoint listening');
        },
        stop: async () => healthServer?.close(),
      });
      // Started in this order, stopped in reverse: health → heartbeat → gateway (running calls finish) → Redis.
      const connection = defineService({
        name: 'redis',
        stop: async () => {
          await redis.quit().catch(() => redis.disconnect());
        },
      });
      return serviceGroup('llm-gateway', [connection, gateway, beats, healthPart], { logger });
    },
    { logger },
  );
}

main();
