// What every route module receives: the shared control layer, a bus:log reader, the metrics
// collector and the few settings routes need. Built once by buildServer.
import type { Control } from '@nightshift/client';
import type { DashboardMetrics } from './metrics.js';
import type { LogReader } from './stream-history.js';

export interface DashboardContext {
  readonly control: Control;
  readonly bus: LogReader;
  readonly metrics: DashboardMetrics;
  /** How often a run's live panel is recomputed for its SSE clients, ms. */
  readonly streamIntervalMs: number;
  /** Messages shown on a run page before the live stream continues. */
  readonly historyLimit: number;
  /** Width of the run page's charts, px (default the report's, DEFAULT_CHART_WIDTH). */
  readonly chartWidth: number;
  /** Set when TOOLS_SANDBOX=off: shown on every page and in /api/status (issue 17 §3). */
  readonly unconfinedWarning: string | undefined;
}
