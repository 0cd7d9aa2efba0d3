// REST steering, all POST (a GET never changes state): pause / resume / abort / decide a run,
// resolve an alert, pause / resume an agent's queue. Each is one call into the shared control layer.
import { ALERT_DECISIONS, parseAgentRole } from '@nightshift/client';
import { HumanDecisionSchema } from '@nightshift/core';
import { IdSchema } from '@nightshift/protocol';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { DashboardContext } from '../context.js';
import { parseInput } from '../http-errors.js';
import { RunParamsSchema } from './api-runs.js';

const note = z.string().trim().min(1, 'a non-empty note').max(10_000).optional();
export const NoteBodySchema = z.strictObject({ note });
export const DecideBodySchema = z.strictObject({ decision: HumanDecisionSchema, note });
export const ResolveBodySchema = z.strictObject({ decision: z.enum(ALERT_DECISIONS), note });
const AlertParamsSchema = z.object({ id: IdSchema });

/** An action button may send no body at all: that is `{}`. */
const bodyOf = (body: unknown): unknown => body ?? {};
const noteOf = (n: string | undefined) => (n === undefined ? {} : { note: n });

export function registerApiControl(app: FastifyInstance, ctx: DashboardContext): void {
  const c = ctx.control;
  for (const action of ['pause', 'resume', 'abort'] as const) {
    app.post(`/api/runs/:id/${action}`, async (request) => {
      const { id } = parseInput(RunParamsSchema, request.params, 'path');
      const body = parseInput(NoteBodySchema, bodyOf(request.body), `${action} request`);
      const options = noteOf(body.note);
      if (action === 'pause') return c.pauseRun(id, options);
      if (action === 'resume') return c.resumeRun(id, options);
      return c.abortRun(id, options);
    });
  }

  app.post('/api/runs/:id/decide', async (request) => {
    const { id } = parseInput(RunParamsSchema, request.params, 'path');
    const body = parseInput(DecideBodySchema, bodyOf(request.body), 'decision');
    return c.decide(id, body.decision, noteOf(body.note));
  });

  app.post('/api/alerts/:id/resolve', async (request) => {
    const { id } = parseInput(AlertParamsSchema, request.params, 'path');
    const body = parseInput(ResolveBodySchema, bodyOf(request.body), 'resolution');
    return c.resolveAlert(id, body.decision, body.note);
  });

  for (const action of ['pause', 'resume'] as const) {
    app.post(`/api/agents/:role/${action}`, async (request) => {
      const role = parseAgentRole((request.params as { role?: unknown }).role);
      return action === 'pause' ? c.pauseAgent(role) : c.resumeAgent(role);
    });
  }
}
