// @nightshift/client: the one front door for programs (issue 22) — every action and view that both
// `nightshift` and the dashboard offer, typed with the protocol's zod schemas, with typed errors
// (CONTROL_ERROR_CODES) and AsyncIterable follows. The CLI and the dashboard sit on it; it carries
// no CLI dependency (commander), so a web server or a user's script can import it alone.
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
export { computeEtas, createEtaSource, ETA_DEFAULTS, NO_HISTORY } from './eta.js';
export { type FollowEnd, type FollowOptions, type FollowResult, failIfJobFailed } from './follow.js';
export {
  type EndedRuns,
  liveAgents,
  type PickedUp,
  pickedUpFromJobs,
  queuedRuns,
  type ReadRunsOptions,
  type RecordedRun,
  readQueued,
  readRecordedRun,
  readRuns,
} from './history.js';
export { type ControlParts, type EtaOptions, WORKSPACE_ROOTS_KEY, type WorkspacePolicy } from './parts.js';
export { type LoadedRun, loadRun, phaseName } from './runs.js';
export * from './schemas.js';
export { llmSlots, queueInfo, queueNames, type StatusOptions, statusSnapshot } from './status.js';
