// @nightshift/charts: the run charts — series from a run's events and LLM call log, and their
// Vega-Lite specs. One source for the morning report (`nightshift report`) and the dashboard.
export { type LlmCall, LlmCallSchema, parseLlmCallLog, type StreamEntries } from './llm-calls.js';
export {
  type ChartSeries,
  chartSeries,
  occupancy,
  type RoleTokens,
  type SeriesInput,
  type Span,
  type TrustPoint,
} from './series.js';
export { type ChartId, type ChartOptions, type ChartSpec, chartSpecs, DEFAULT_CHART_WIDTH } from './specs.js';
