// Entry of an agent process: `ROLE=builder node services/agent/dist/main.js`. Loads config,
// builds the bus, the model client and the worker, and runs until SIGTERM.
import { hostname } from 'node:os';
import { type Config, loadConfig } from '@nightshift/config';
import { type ChatModel, GatewayChatModel, InstantChatModel, type LlmCaller } from '@nightshift/llm';
import { ROLES } from '@nightshift/protocol';
import { createBus, createKeys, createRedisClient, redactRedisUrl } from '@nightshift/redis';
import { createLogger, defineService, runService, serviceGroup } from '@nightshift/runtime';
import { AgentService, assertWorkerRole } from './agent.js';
import { throttledErrorLog } from './error-throttle.js';
import { heartbeatLoop } from './heartbeat.js';

/**
 * NIGHTSHIFT_MODEL selects the model: `gateway` (default, the real path through llm-gateway) or
 * `instant`, a SIMULATED model answering at once, for the dispatch benchmark and tests only.
 * TODO(config): move this variable into @nightshift/config (the only reader of process.env).
 */
function modelMode(env: NodeJS.ProcessEnv): 'gateway' | 'instant' {
  const mode = (env.NIGHTSHIFT_MODEL ?? 'gateway').trim().toLowerCase();
  if (mode === 'gateway' || mode === 'instant' || mode === '')
    return mode === 'instant' ? 'instant' : 'gateway';
  throw new Error(
    `NIGHTSHIFT_MODEL=${mode}: expected gateway (default) or instant (simulated, tests/bench only)`,
  );
}

function llmPriorities(config: Config): Partial<Record<LlmCaller, number>> {
  return Object.fromEntries(ROLES.map((r) => [r, config.roles[r].bullmqPriority]));
}

// TODO(health): serve @nightshift/runtime's /healthz once config has a port for it (e.g. HEALTH_PORT).
function main(): void {
  let config: Config;
  let mode: 'gateway' | 'instant';
  let role: ReturnType<typeof assertWorkerRole>;
  try {
    config = loadConfig(process.env);
    role = assertWorkerRole(config.role);
    mode = modelMode(process.env);
  } catch (error) {
    // No logger yet: say what is wrong on stderr and exit 1 (STYLE: bad config fails at start).
    process.stderr.write(`agent: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
    return;
  }
  const logger = createLogger({ service: 'agent', role, level: config.logLevel });
  const instance = `${hostname()}-${process.pid}`;
  const settings = config.roles[role];

  runService(
    () => {
      const keys = createKeys(config.redis.prefix);
      const onError = throttledErrorLog(logger, 'redis connection error');
      const bus = createBus({
        url: config.redis.url,
        keys,
        streamMaxLen: config.redis.streamMaxLen,
        maxDeliveries: config.redis.maxDeliveries,
        claimIdleMs: config.redis.claimIdleMs,
        onError,
      });
      // Workers and QueueEvents block: their connection needs maxRetriesPerRequest null (REFERENCE).
      const blocking = createRedisClient(config.redis.url, {
        maxRetriesPerRequest: null,
        connectionName: `agent-${role}-${instance}`,
        onError,
      });
      let model: ChatModel;
      let gateway: GatewayChatModel | undefined;
      if (mode === 'instant') {
        model = new InstantChatModel();
        logger.warn('NIGHTSHIFT_MODEL=instant: answers come from a SIMULATED model (tests/benchmarks only)');
      } else {
        gateway = new GatewayChatModel({
          connection: blocking,
          prefix: keys.prefix,
          maxQueue: config.ollama.maxQueue,
          priorities: llmPriorities(config),
          timeoutMs: settings.timeoutSeconds * 1000,
          onError,
        });
        model = gateway;
      }
      logger.info(
        { redis: redactRedisUrl(config.redis.url), prefix: keys.prefix, model: model.name },
        'starting',
      );
      const agent = new AgentService({
        role,
        bus,
        connection: blocking,
        model,
        logger,
        timeoutSeconds: settings.timeoutSeconds,
        concurrency: settings.concurrency,
        llmPriority: settings.bullmqPriority,
        lockDurationMs: config.queues.lockDurationMs,
        stalledIntervalMs: config.queues.stalledIntervalMs,
        maxStalledCount: config.queues.maxStalledCount,
        retry: { attempts: 1000, baseMs: 250, maxMs: 5000 },
      });
      const beats = heartbeatLoop({
        redis: bus.redis,
        keys,
        role,
        instance,
        intervalMs: config.heartbeat.intervalMs,
        ttlMs: config.heartbeat.ttlMs,
        logger,
        describe: () => {
          const s = agent.stats;
          return {
            status: s.active > 0 ? 'busy' : 'idle',
            info: {
              ...s,
              concurrency: settings.concurrency,
              model: model.name,
              usage: agent.usage.snapshot().total,
            },
          };
        },
      });
      // Started in order, stopped in reverse: heartbeat → agent (running jobs finish) → model → bus → Redis.
      const parts = [
        defineService({
          name: 'redis',
          stop: async () => {
            await blocking.quit().catch(() => blocking.disconnect());
          },
        }),
        defineService({ name: 'bus', stop: () => bus.close() }),
        defineService({ name: 'model', start: () => gateway?.ready(), stop: () => gateway?.close() }),
        agent,
        beats,
      ];
      return serviceGroup(`agent.${role}`, parts, { logger });
    },
    { logger },
  );
}

main();
