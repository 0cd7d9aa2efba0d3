// Entry of an agent process: `ROLE=builder node services/agent/dist/main.js`. Loads config,
// builds the bus, the model client and the worker, and runs until SIGTERM.
import { homedir, hostname } from 'node:os';
import { type Config, loadConfig, UNCONFINED_WARNING, workspaceRootsOf } from '@nightshift/config';
import { type ChatModel, GatewayChatModel, InstantChatModel, type LlmCaller } from '@nightshift/llm';
import { ROLES } from '@nightshift/protocol';
import { createBus, createKeys, createRedisClient, heartbeatLoop, redactRedisUrl } from '@nightshift/redis';
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
import { sweepAtStart } from '@nightshift/tools';
import { AgentService, assertWorkerRole } from './agent.js';
import type { AgentToolOptions } from './tool-session.js';

function llmPriorities(config: Config): Partial<Record<LlmCaller, number>> {
  return Object.fromEntries(ROLES.map((r) => [r, config.roles[r].bullmqPriority]));
}

/** The role's tools from config: the command policy, every role's row, the deny list (guide §7). */
function toolOptions(config: Config): AgentToolOptions {
  return {
    workspaceDir: config.workspaceDir,
    checkout: {
      roots: workspaceRootsOf(config),
      branchPrefix: config.git.branchPrefix,
      identity: { name: config.git.authorName, email: config.git.authorEmail },
    },
    memoryDir: config.memoryDir,
    allowlist: config.tools.commandAllowlist,
    commandTimeoutMs: config.tools.commandTimeoutMs,
    outputCapBytes: config.tools.outputCapBytes,
    deny: config.tools.deny,
    toolsByRole: Object.fromEntries(ROLES.map((r) => [r, config.roles[r].tools])),
    maxIterations: config.tools.maxToolIterations,
    contextBudgetChars: config.tools.contextBudgetChars,
    window: { numCtx: config.ollama.numCtx, numPredict: config.ollama.numPredict },
    // Scout gets its own role timeout to answer (guide §7: 300 s).
    scoutTimeoutMs: config.roles.scout.timeoutSeconds * 1000,
    // Where commands and git are found, and their locale: the host's, passed through.
    host: { path: process.env.PATH, lang: process.env.LANG },
    // The push authenticates as the operator running the agent (their ssh keys, credential helper).
    ...(config.git.pushRemote === undefined
      ? {}
      : {
          push: {
            remote: config.git.pushRemote,
            home: homedir(),
            sshAuthSock: process.env.SSH_AUTH_SOCK,
          },
        }),
    sandbox: { mode: config.tools.sandbox },
  };
}

function main(): void {
  let config: Config;
  let role: ReturnType<typeof assertWorkerRole>;
  try {
    config = loadConfig(process.env);
    role = assertWorkerRole(config.role);
  } catch (error) {
    // No logger yet: say what is wrong on stderr and exit 1 (STYLE: bad config fails at start).
    process.stderr.write(`agent: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
    return;
  }
  const logger = createLogger({ service: 'agent', role, level: config.logLevel });
  // issue 17 §3: running commands unconfined is announced at every start.
  if (config.tools.sandbox === 'off') logger.warn({ sandbox: 'off' }, UNCONFINED_WARNING);
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
      if (config.model.mode === 'instant') {
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
        runTimeoutSeconds: config.subagents.runTimeoutSeconds,
        concurrency: settings.concurrency,
        llmPriority: settings.bullmqPriority,
        lockDurationMs: config.queues.lockDurationMs,
        stalledIntervalMs: config.queues.stalledIntervalMs,
        maxStalledCount: config.queues.maxStalledCount,
        rateLimitDelayMs: config.queues.rateLimitDelayMs,
        retry: { attempts: 1000, baseMs: 250, maxMs: 5000 },
        tools: toolOptions(config),
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
      const health = new HealthRegistry();
      health.register('redis', () => ({ ok: bus.redis.status === 'ready', detail: bus.redis.status }));
      health.register('worker', () => {
        const s = agent.stats;
        return { ok: s.running, detail: `${s.active} active, ${s.completed} done, ${s.failed} failed` };
      });
      let healthServer: HealthServer | undefined;
      // Started in order, stopped in reverse: health → heartbeat → agent (running jobs finish) → model → bus → Redis.
      const parts = [
        defineService({
          name: 'redis',
          stop: async () => {
            await blocking.quit().catch(() => blocking.disconnect());
          },
        }),
        defineService({ name: 'bus', stop: () => bus.close() }),
        defineService({ name: 'model', start: () => gateway?.ready(), stop: () => gateway?.close() }),
        // Issue 21 §4: an agent killed mid-command or mid-checkout left a command's HOME or a
        // half-built checkout; the next one to start removes those of makers known gone (pid,
        // process start time, age: @nightshift/tools leftovers.ts) before it takes a job.
        defineService({
          name: 'leftover-sweep',
          start: () => sweepAtStart(config.workspaceDir, logger),
        }),
        agent,
        beats,
        defineService({
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
        }),
      ];
      return serviceGroup(`agent.${role}`, parts, { logger });
    },
    { logger },
  );
}

main();
