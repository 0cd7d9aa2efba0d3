// Sentinel entry point: load the config, build the dependencies, watch until SIGTERM.
import { hostname } from 'node:os';
import { loadConfig, UNCONFINED_WARNING } from '@nightshift/config';
import { DEFAULT_DETECTION_THRESHOLDS, type DetectionThresholds } from '@nightshift/core';
import { createRunStore, openServiceConnections } from '@nightshift/redis';
import {
  createLogger,
  defineService,
  HealthRegistry,
  healthEndpoint,
  registerSecret,
  runService,
  serviceGroup,
} from '@nightshift/runtime';
import { SentinelService } from './sentinel.js';

const config = loadConfig(process.env);
registerSecret(config.alerts.webhookSecret);
const logger = createLogger({ service: 'sentinel', level: config.logLevel, role: 'sentinel' });
// issue 17 §3: running commands unconfined is announced at every start.
if (config.tools.sandbox === 'off') logger.warn({ sandbox: 'off' }, UNCONFINED_WARNING);
const onError = (err: Error) => logger.warn({ err: err.message }, 'redis connection error');

const connections = openServiceConnections(config.redis, 'sentinel', onError);
const { keys, redis, blocking, bus } = connections;
const d = config.detection;
const thresholds: DetectionThresholds = {
  ...DEFAULT_DETECTION_THRESHOLDS,
  stuckCalls: d.stuckCalls,
  sameErrorRepeats: d.sameErrorRepeats,
  memoryPercent: d.memoryPercent,
  queueDepth: d.queueDepth,
  backgroundQueueDepth: d.backgroundQueueDepth,
  llmLatencyMs: d.llmLatencySeconds * 1000,
  promptCuts: d.promptCuts,
  criticalBugs: d.criticalBugs,
  maxTaskAttempts: d.maxTaskAttempts,
  phaseOverrunFactor: d.phaseOverrunFactor,
  trustEmergencyBelow: config.trust.emergencyBelow,
  agentStuckMs: d.agentStuckMinutes * 60_000,
  // The guide names no number for a silent Director: its own role timeout (core uses the same default).
  directorSilentMs: config.roles.director.timeoutSeconds * 1000,
};
const webhookUrl = config.alerts.webhookUrl;

const sentinel = new SentinelService({
  redis,
  connection: blocking,
  keys,
  bus,
  store: createRunStore(redis, keys),
  // The Scribe's priority on `llm` marks its summaries as background calls (queue depth, issue 21).
  backgroundPriority: config.roles.scribe.bullmqPriority,
  logger,
  memoryDir: config.memoryDir,
  thresholds,
  escalation: { humanAfterAttempts: d.escalateAfterAttempts },
  phaseExpectedMs: {
    1: config.workflow.phaseExpectedSeconds[1] * 1000,
    2: config.workflow.phaseExpectedSeconds[2] * 1000,
    3: config.workflow.phaseExpectedSeconds[3] * 1000,
    4: config.workflow.phaseExpectedSeconds[4] * 1000,
  },
  ...(webhookUrl === undefined
    ? {}
    : {
        webhook: {
          url: webhookUrl,
          minLevel: config.alerts.minLevel,
          ...(config.alerts.webhookSecret === undefined ? {} : { secret: config.alerts.webhookSecret }),
        },
      }),
  intervalMs: config.sentinel.intervalMs,
  leaseTtlMs: config.sentinel.leaseTtlMs,
  circuit: {
    failureThreshold: config.sentinel.circuitFailureThreshold,
    coolDownMs: config.sentinel.circuitCoolDownMs,
    maxCoolDownMs: config.sentinel.circuitMaxCoolDownMs,
    trialTimeoutMs: config.sentinel.circuitTrialTimeoutMs,
  },
  heartbeatMs: config.heartbeat.intervalMs,
  heartbeatTtlMs: config.heartbeat.ttlMs,
  instance: `${hostname()}-${process.pid}`,
});
if (!webhookUrl) logger.warn('ALERT_WEBHOOK_URL is not set: Level 3+ alerts go to files and logs only');

const health = new HealthRegistry();
health.register('redis', async () => ({ ok: redis.status === 'ready', detail: redis.status }));
health.register('lease', async () => ({ ok: true, detail: sentinel.isLeader ? 'watching' : 'standby' }));

runService(
  serviceGroup(
    'sentinel',
    [
      sentinel,
      healthEndpoint(health, config.health, logger),
      defineService({
        name: 'connections',
        stop: async () => {
          await connections.close();
        },
      }),
    ].reverse(),
    { logger },
  ),
  { logger },
);
