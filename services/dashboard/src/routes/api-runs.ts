// REST reads and run creation: POST /api/runs (the `runs` job schema), GET /api/runs,
// GET /api/runs/:id (state, events, checkpoints), GET /api/status (= `nightshift status --json`).
import { IdSchema, RunInputSchema } from '@nightshift/protocol';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { DashboardContext } from '../context.js';
import { parseInput } from '../http-errors.js';

export const RunParamsSchema = z.object({ id: IdSchema });
const ListQuerySchema = z.object({ limit: z.coerce.number().int().min(1).max(1000).default(50) });
const StatusQuerySchema = z.object({ run: IdSchema.optional() });

export function registerApiRuns(app: FastifyInstance, ctx: DashboardContext): void {
  app.post('/api/runs', async (request, reply) => {
    const input = parseInput(RunInputSchema, request.body ?? {}, 'run');
    const started = await ctx.control.startRun(input);
    return reply.code(201).send(started);
  });

  app.get('/api/runs', async (request) => {
    const { limit } = parseInput(ListQuerySchema, request.query, 'query');
    // Runs moved out of Redis (issue 21 §2) are not listed; how many there are is said, and
    // GET /api/runs/:id still reads each of them.
    const archived = await ctx.control.archivedRuns();
    return { runs: await ctx.control.listRuns(limit), archivedRuns: archived.runIds.length };
  });

  app.get('/api/runs/:id', async (request) => {
    const { id } = parseInput(RunParamsSchema, request.params, 'path');
    const run = await ctx.control.getRun(id);
    return {
      run: run.detail,
      events: run.events,
      checkpoints: run.checkpoints,
      unreadableEvents: run.unreadable,
      // Issue 18 §3: the run's branch, its commits, `git diff --stat base...branch` and the diff.
      branch: run.branch,
    };
  });

  app.get('/api/status', async (request) => {
    const { run } = parseInput(StatusQuerySchema, request.query, 'query');
    const status = await ctx.control.status(run === undefined ? {} : { runId: run });
    // Whether agents' commands run in the OS sandbox: 'off' only by explicit configuration.
    return { ...status, commandSandbox: ctx.unconfinedWarning === undefined ? 'on' : 'off' };
  });
}
