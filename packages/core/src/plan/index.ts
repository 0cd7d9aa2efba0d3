// The planner (issue 24): history → step samples → a seeded simulation of the workflow → a forecast.
export {
  type EngineInput,
  type EngineResult,
  type PlannedRun,
  planFromSample,
  simulateRuns,
  type TraceEvent,
  type Waits,
} from './engine.js';
export {
  drawPlans,
  type Forecast,
  type ForecastInput,
  forecast,
  NO_SPREAD,
  PlanInputError,
  type QueuedRun,
  type RunForecast,
  type RunProgress,
  WHAT_IF_ROLES,
  type WhatIf,
} from './forecast.js';
export {
  buildProfile,
  type CallGroup,
  type CallSpec,
  type FollowerCall,
  iterationSteps,
  type Profile,
  progressOf,
  type RecordedCall,
  type RunSample,
  type StepSample,
  sampleRun,
  withLoads,
} from './profile.js';
export { quantile, seededRng } from './random.js';
export { activeMs, remainderOf, survivors } from './remainder.js';
