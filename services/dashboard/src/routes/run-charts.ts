// GET /api/runs/:id/charts: the run page's charts as Vega-Lite specs with their data inline (the
// morning report's specs, @nightshift/charts), for scripts and for a page that wants them without
// the event stream. The stream sends the same object as its `charts` event.
import type { FastifyInstance } from 'fastify';
import type { DashboardContext } from '../context.js';
import { parseInput } from '../http-errors.js';
import { liveCharts } from '../live-charts.js';
import { RunParamsSchema } from './api-runs.js';

export function registerRunCharts(app: FastifyInstance, ctx: DashboardContext): void {
  app.get('/api/runs/:id/charts', async (request) => {
    const { id } = parseInput(RunParamsSchema, request.params, 'path');
    return liveCharts(ctx, id);
  });
}
