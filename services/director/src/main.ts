// Director entry point: load the config, build the dependencies, lead runs until SIGTERM.
import { hostname } from 'node:os';
import { loadConfig, UNCONFINED_WARNING, workspaceRootsOf } from '@nightshift/config';
import { costOf, priceOf } from '@nightshift/core';
import { AnthropicChatModel, GatewayChatModel } from '@nightshift/llm';
import { ROLES } from '@nightshift/protocol';
import { createArchivedRunStore, openServiceConnections } from '@nightshift/redis';
import {
  createLogger,
  defineService,
  HealthRegistry,
  healthEndpoint,
  registerSecret,
  runService,
  serviceGroup,
} from '@nightshift/runtime';
import { prepareRunCheckout } from '@nightshift/tools';
import { DirectorBrain } from './brain.js';
import { InboxAwaiter, ReviewDebate } from './debate.js';
import { DirectorService } from './director.js';
import { RunDriver } from './driver.js';
import { CheckoutPruner } from './prune.js';
import { Verifier } from './verify.js';

const config = loadConfig(process.env);
registerSecret(config.anthropic.apiKey);
const logger = createLogger({ service: 'director', level: config.logLevel, role: 'director' });
// issue 17 §3: running commands unconfined is announced at every start.
if (config.tools.sandbox === 'off') logger.warn({ sandbox: 'off' }, UNCONFINED_WARNING);
const onError = (err: Error) => logger.warn({ err: err.message }, 'redis connection error');

const connections = openServiceConnections(config.redis, 'director', onError);
const { keys, redis, blocking: bullmq, bus } = connections;
// Issue 21 §2: runs archived out of Redis are read from MEMORY_DIR/archive (the checkout pruner's).
const { store } = createArchivedRunStore(redis, keys, config.memoryDir);
const directorTimeoutMs = config.roles.director.timeoutSeconds * 1000;
const priorities = Object.fromEntries(ROLES.map((r) => [r, config.roles[r].bullmqPriority]));

const fallback = new GatewayChatModel({
  connection: bullmq,
  prefix: keys.prefix,
  maxQueue: config.ollama.maxQueue,
  priorities,
  timeoutMs: directorTimeoutMs,
  onError,
});
const primary = config.anthropic.apiKey
  ? new AnthropicChatModel({
      apiKey: config.anthropic.apiKey,
      model: config.anthropic.model,
      maxRetries: config.anthropic.maxRetries,
      timeoutMs: config.anthropic.timeoutMs,
      ...(config.anthropic.baseUrl ? { baseUrl: config.anthropic.baseUrl } : {}),
    })
  : undefined;
if (!primary) logger.warn('ANTHROPIC_API_KEY is not set: the Director decides on the Ollama fallback model');

const brain = new DirectorBrain({
  primary,
  fallback,
  onFallback: (reason) => logger.warn({ reason }, 'Anthropic unavailable; the Director falls back to Ollama'),
});
const roleTimeoutsMs = Object.fromEntries(
  // A worker's job may be retried after a stall: allow two role timeouts and a margin.
  ROLES.map((r) => [r, config.roles[r].timeoutSeconds * 2000 + config.queues.lockDurationMs]),
) as Record<(typeof ROLES)[number], number>;

const costOfModel = (model: string, usage: Parameters<typeof costOf>[1]) =>
  priceOf(model) ? costOf(model, usage) : 0;
const awaiter = new InboxAwaiter();
// guide §3 review debate; votes wait at most one role timeout of the slowest voter.
const debate = new ReviewDebate({
  bus,
  awaiter,
  logger,
  config: {
    maxRounds: config.debate.maxRounds,
    supermajority: config.debate.supermajority,
    weightedThreshold: config.debate.weightedThreshold,
    defaultTrust: config.trust.start,
  },
  voteTimeoutMs: config.roles.inspector.timeoutSeconds * 1000,
});
const verifier = new Verifier({
  brain,
  debate,
  logger,
  maxIterations: config.workflow.maxIterations,
  saveTrust: async (role, score) => {
    await redis.hset(keys.trust, role, String(score));
  },
  memoryDir: config.memoryDir,
  costOf: costOfModel,
});
const driver = new RunDriver({
  store,
  bus,
  brain,
  verifier,
  // The Scribe's rolling summary (services/scribe) replaces the raw history in REQUEST contexts.
  summaryOf: (runId) => redis.get(keys.custom('run', runId, 'summary')),
  logger,
  workflow: {
    maxIterations: config.workflow.maxIterations,
    maxStepAttempts: config.detection.sameErrorRepeats,
  },
  roleTimeoutsMs,
  costOf: costOfModel,
});
const director = new DirectorService({
  redis,
  connection: bullmq,
  keys,
  bus,
  store,
  driver,
  awaiter,
  logger,
  leaseTtlMs: config.director.leaseTtlMs,
  tickMs: config.director.tickMs,
  heartbeatMs: config.heartbeat.intervalMs,
  heartbeatTtlMs: config.heartbeat.ttlMs,
  instance: `${hostname()}-${process.pid}`,
  // Issue 18: checked against the roots and given its own checkout and branch before it exists.
  prepareCheckout: (input, runId) =>
    prepareRunCheckout({
      runId,
      workspaceDir: config.workspaceDir,
      requested: input.workspace,
      base: input.base,
      roots: workspaceRootsOf(config),
      branchPrefix: config.git.branchPrefix,
      identity: { name: config.git.authorName, email: config.git.authorEmail },
      git: { host: { path: process.env.PATH, lang: process.env.LANG } },
    }),
});

// Redis came back after a drop (a restart, a failover, a crash that may have lost its last
// second of writes): re-send what is in flight now instead of waiting for step timeouts. The bus
// publishes an id once, so requests whose jobs survived are not queued twice.
let connectedBefore = false;
redis.on('ready', () => {
  if (!connectedBefore) {
    connectedBefore = true;
    return;
  }
  driver.resendInFlight();
  director.redisReconnected();
  void debate
    .resendPending()
    .then((requeued) => logger.info({ requeued }, 'Redis is back: requests in flight re-sent'))
    .catch((err: unknown) => logger.warn({ err }, 'could not re-send the pending votes'));
});

const health = new HealthRegistry();
health.register('redis', async () => ({ ok: redis.status === 'ready', detail: redis.status }));
health.register('lease', async () => ({ ok: true, detail: director.isLeader ? 'leading' : 'standby' }));

runService(
  serviceGroup(
    'director',
    [
      director,
      healthEndpoint(health, config.health, logger),
      // The roots this deployment enforces, for `nightshift run` to check against before enqueueing.
      defineService({
        name: 'workspace-roots',
        start: async () => {
          await redis.set(keys.custom('config', 'workspace-roots'), JSON.stringify(workspaceRootsOf(config)));
        },
      }),
      // Issue 18 §3: checkouts of ended runs go after the retention; their branches stay.
      new CheckoutPruner({
        store,
        workspaceDir: config.workspaceDir,
        retentionMs: config.git.checkoutRetentionHours * 3_600_000,
        logger,
        host: { path: process.env.PATH, lang: process.env.LANG },
      }),
      defineService({
        name: 'connections',
        stop: async () => {
          await fallback.close();
          await connections.close();
        },
      }),
    ].reverse(),
    { logger },
  ),
  { logger },
);
