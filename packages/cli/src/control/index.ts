// The control layer: every action and view that both `nightshift` and the dashboard offer.
export type { ActionOptions, RunAction, RunActionResult } from './actions.js';
export { isWaitingHuman } from './actions.js';
export {
  AGENT_QUEUE_ROLES,
  type AgentQueueResult,
  type AgentQueueRole,
  agentQueueName,
  isAgentQueueRole,
  parseAgentRole,
} from './agents.js';
export {
  ALERT_DECISIONS,
  type AlertDecision,
  alertsByLevel,
  DEPLOYMENT_RUN_ID,
  parseAlertDecision,
  type ResolveAlertResult,
} from './alerts.js';
export {
  type Control,
  createControl,
  type OpenControlOptions,
  type OpenedControl,
  openControl,
  type RunRecord,
} from './control.js';
export { CONTROL_ERROR_CODES, httpStatusOf } from './errors.js';
export type { FollowEnd, FollowOptions } from './follow.js';
export type { ControlParts } from './parts.js';
export { type LoadedRun, loadRun, phaseName } from './runs.js';
export * from './schemas.js';
export { llmSlots, queueInfo, queueNames, type StatusOptions, statusSnapshot } from './status.js';
