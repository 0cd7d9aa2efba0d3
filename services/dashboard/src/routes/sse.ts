// GET /api/stream?run=ID[&after=LOGID]: Server-Sent Events — `message` for each bus:log entry of
// the run (the guide's markdown form, from `render`), `panel` for the run's live panel whenever it
// changes, `charts` for its charts (Vega-Lite specs, live-charts.ts) whenever the run moved. A reconnecting client passes the last log id it has and misses nothing in between.

import { CONTROL_ERROR_CODES } from '@nightshift/client';
import { IdSchema, NightshiftError } from '@nightshift/protocol';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { DashboardContext } from '../context.js';
import { parseInput } from '../http-errors.js';
import { chartsKey, liveCharts } from '../live-charts.js';
import { matchesRun, recentForRun, sinceForRun, toPayload } from '../stream-history.js';
import { runPanel } from '../views/run-panel.js';

const StreamQuerySchema = z.object({
  run: IdSchema.optional(),
  after: z
    .string()
    .regex(/^\d+-\d+$/, 'a bus:log entry id like 1700000000000-0')
    .optional(),
});

const KEEPALIVE_MS = 15_000;

export function registerSse(app: FastifyInstance, ctx: DashboardContext): void {
  const open = new Set<AbortController>();
  // Streams never end on their own: end them when the server closes.
  app.addHook('onClose', async () => {
    for (const controller of open) controller.abort();
  });

  app.get('/api/stream', async (request, reply) => {
    const query = parseInput(StreamQuerySchema, request.query, 'query');
    const runId = query.run;
    if (runId !== undefined && !(await ctx.control.parts.store.exists(runId))) {
      throw new NightshiftError(CONTROL_ERROR_CODES.runNotFound, `no run ${runId}`, {
        category: 'invalid-input',
      });
    }
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      Connection: 'keep-alive',
      'X-Accel-Buffering': 'no',
      'X-Content-Type-Options': 'nosniff',
    });
    res.write('retry: 2000\n\n');
    const controller = new AbortController();
    open.add(controller);
    const { signal } = controller;
    const send = (event: string, data: unknown) => {
      if (!signal.aborted && !res.writableEnded)
        res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    const timers: NodeJS.Timeout[] = [];
    const stop = () => controller.abort();
    request.raw.on('close', stop);
    res.on('close', stop);
    res.on('error', stop);
    signal.addEventListener(
      'abort',
      () => {
        for (const t of timers) clearInterval(t);
        open.delete(controller);
        if (!res.writableEnded) res.end();
      },
      { once: true },
    );

    try {
      const start =
        query.after === undefined
          ? await recentForRun(ctx.bus, runId, ctx.historyLimit)
          : await sinceForRun(ctx.bus, runId, query.after);
      for (const entry of start.entries) send('message', toPayload(entry));
      if (runId !== undefined)
        timers.push(
          panelLoop(ctx, runId, send, signal, (e) => request.log.warn({ err: e }, 'panel update failed')),
        );
      timers.push(setInterval(() => !res.writableEnded && res.write(': keepalive\n\n'), KEEPALIVE_MS));
      await ctx.bus.tailLog(
        (entry) => {
          if (matchesRun(entry, runId)) send('message', toPayload(entry));
        },
        { from: start.head, signal, blockMs: 2000 },
      );
    } catch (error) {
      request.log.warn({ err: error }, 'event stream ended by an error');
    } finally {
      stop();
    }
  });
}

/** Recomputes the run's panel every interval; sends it, and the charts, only when they changed. */
function panelLoop(
  ctx: DashboardContext,
  runId: string,
  send: (event: string, data: unknown) => void,
  signal: AbortSignal,
  warn: (error: unknown) => void,
): NodeJS.Timeout {
  let last = '';
  let lastCharts = '';
  let busy = false;
  const update = async () => {
    if (busy || signal.aborted) return;
    busy = true;
    try {
      const status = await ctx.control.status({ runId });
      if (!status.run) return;
      const html = runPanel(status, status.run);
      if (html !== last) {
        last = html;
        send('panel', {
          html,
          phase: status.run.phase,
          status: status.run.status,
          version: status.run.version,
        });
      }
      // Events and LLM calls only grow: their counts say whether the charts can have changed.
      const key = await chartsKey(ctx, runId, status.run.version);
      if (key !== lastCharts) {
        const live = await liveCharts(ctx, runId);
        lastCharts = key;
        send('charts', live);
      }
    } catch (error) {
      warn(error);
    } finally {
      busy = false;
    }
  };
  void update();
  return setInterval(() => void update(), ctx.streamIntervalMs);
}
