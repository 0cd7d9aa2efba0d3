// The Sentinel's library face: the service class (for in-process tests and embedding), resolving
// alerts, and the pure parts (planner, circuit breaker, webhook signing). `main.ts` runs it.
export { type ActDeps, type ActFacts, directorContent, type WebhookConfig } from './act.js';
export { AgentWindow, errorOf } from './agents.js';
export {
  type Circuit,
  type CircuitConfig,
  type CircuitEffect,
  type CircuitEvent,
  type CircuitState,
  type CircuitStep,
  CLOSED,
  DEFAULT_CIRCUIT_CONFIG,
  parseCircuit,
  stepCircuit,
} from './circuit.js';
export { CIRCUIT_HOLDER, circuitLabel, failureEvent } from './circuits.js';
export type { RoundReport } from './engine.js';
export { classifyFailure, type FailureKind } from './failures.js';
export {
  alertFilePath,
  emergencyPath,
  renderAlertFile,
  renderEmergency,
  resolveCommand,
  stateDumpPath,
} from './files.js';
export type { MemoryInfo } from './gather.js';
export { QueueHolds } from './holds.js';
export { buildObservations, depthOf, type Facts } from './observe.js';
export * from './planner.js';
export {
  applyResolution,
  parseResolve,
  type ResolveAlertDeps,
  resolutionEvents,
  resolveAlert,
  resolveContent,
} from './resolve.js';
export { SentinelService, type SentinelServiceOptions } from './sentinel.js';
export {
  ALERT_ID_HEADER,
  backoffMs,
  DEFAULT_WEBHOOK_RETRY,
  postWebhook,
  type RetryPolicy,
  SIGNATURE_HEADER,
  signBody,
  verifySignature,
} from './webhook.js';
