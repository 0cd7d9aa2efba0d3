// @nightshift/runtime: logger, metrics, the Service lifecycle and health, shared by every service's main.ts.
export {
  type CheckResult,
  type HealthCheck,
  HealthRegistry,
  type HealthRegistryOptions,
  type HealthReport,
  type HealthServer,
  type HealthServerOptions,
  healthEndpoint,
  startHealthServer,
} from './health.js';
export {
  createLogger,
  type Logger,
  type LoggerOptions,
  type LogLevel,
  REDACT_PATHS,
  registerSecret,
  scrubText,
} from './logger.js';
export { createMetrics, Metrics, type MetricsOptions } from './metrics.js';
export { SERVICE_NODE_OPTIONS, withServiceNodeOptions } from './node-options.js';
export {
  DEFAULT_GRACE_MS,
  type ProcessLike,
  type RunServiceOptions,
  runService,
  type ServiceRunner,
} from './runner.js';
export { CENSOR, isSensitiveKey, maskUrlPasswords, SecretScrubber } from './scrub.js';
export {
  type Closable,
  type CloseOptions,
  closeInOrder,
  defineService,
  Lifecycle,
  type Service,
  type ServiceParts,
  serviceGroup,
} from './service.js';
export { throttledErrorLog } from './throttle.js';
