// @nightshift/core: the pure, clock-free decision logic (ARCHITECTURE §4). No I/O; time is a parameter.
export * from './budget.js';
export * from './convergence.js';
export * from './detection.js';
export * from './escalation.js';
export { incidentKey } from './incident-key.js';
export * from './levels.js';
export * from './run/context.js';
export * from './run/events.js';
export { apply, fold } from './run/fold.js';
export { observeRun } from './run/observe.js';
export * from './run/state.js';
export * from './run/steps.js';
export * from './run/timeouts.js';
export * from './run/workflow.js';
export * from './time.js';
export * from './trust.js';
export * from './votes.js';
export * from './run/replay.js';
