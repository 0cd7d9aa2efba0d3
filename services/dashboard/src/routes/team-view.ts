// The team view: `/` ("is everything OK?", runs and a start form), `/partials/overview` and
// `/partials/runs` (the overview and the list, for in-place refresh)
// and `/runs/:id` (the live run page). Server-rendered HTML under a nonce CSP; no CDN.
import { CONTROL_ERROR_CODES } from '@nightshift/client';
import { IdSchema, isNightshiftError } from '@nightshift/protocol';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { DashboardContext } from '../context.js';
import { recentForRun, toPayload } from '../stream-history.js';
import { esc, newNonce, pageCsp } from '../views/html.js';
import { notFoundPage, runPage } from '../views/run-page.js';
import { runsPage, runsTable } from '../views/runs-page.js';
import { teamOverview } from '../views/team-overview.js';

function sendHtml(reply: FastifyReply, nonce: string, body: string, code = 200): FastifyReply {
  return reply
    .code(code)
    .header('Content-Security-Policy', pageCsp(nonce))
    .type('text/html; charset=utf-8')
    .send(body);
}

export function registerTeamView(app: FastifyInstance, ctx: DashboardContext): void {
  // Every page says so at the top when commands run unconfined (TOOLS_SANDBOX=off).
  const html = (reply: FastifyReply, nonce: string, body: string, code?: number): FastifyReply =>
    sendHtml(
      reply,
      nonce,
      ctx.unconfinedWarning === undefined
        ? body
        : body.replace(
            '<main>',
            `<main><section data-testid="sandbox-off"><h2>WARNING: commands run unconfined</h2><p>${esc(ctx.unconfinedWarning)}</p></section>`,
          ),
      code,
    );
  app.get('/', async (_request, reply) => {
    const nonce = newNonce();
    const status = await ctx.control.status({ runs: 50 });
    return html(reply, nonce, runsPage(status.runs, nonce, teamOverview(status)));
  });

  app.get('/partials/overview', async (_request, reply) => {
    const status = await ctx.control.status({ runs: 50 });
    return reply.type('text/html; charset=utf-8').send(teamOverview(status));
  });

  app.get('/partials/runs', async (_request, reply) => {
    return reply.type('text/html; charset=utf-8').send(runsTable(await ctx.control.listRuns(50)));
  });

  app.get('/runs/:id', async (request, reply) => {
    const nonce = newNonce();
    const id = IdSchema.safeParse((request.params as { id?: unknown }).id);
    if (!id.success) return html(reply, nonce, notFoundPage('That is not a run id.', nonce), 404);
    let status: Awaited<ReturnType<typeof ctx.control.status>>;
    try {
      status = await ctx.control.status({ runId: id.data });
    } catch (error) {
      if (isNightshiftError(error) && error.code === CONTROL_ERROR_CODES.runNotFound) {
        return html(reply, nonce, notFoundPage(`No run ${id.data}.`, nonce), 404);
      }
      throw error;
    }
    const run = status.run;
    if (!run) return html(reply, nonce, notFoundPage(`No run ${id.data}.`, nonce), 404);
    // Issue 21 §2: a run moved out of Redis shows the messages its archive holds.
    const archived = await ctx.control.parts.store.archived(id.data);
    const entries = archived
      ? archived.logEntries().slice(-ctx.historyLimit)
      : (await recentForRun(ctx.bus, id.data, ctx.historyLimit)).entries;
    // Issue 18 §3: the branch with its commits and diff, read from the repository.
    const { branch } = await ctx.control.getRun(id.data);
    return html(reply, nonce, runPage({ status, run, messages: entries.map(toPayload), nonce, branch }));
  });
}
