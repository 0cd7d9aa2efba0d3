// GET /metrics (Prometheus text, collected from Redis on each scrape; behind the token like the
// rest) and GET /healthz (open to probes: only says whether Redis answers).
import type { FastifyInstance } from 'fastify';
import type { DashboardContext } from '../context.js';

export function registerMetrics(app: FastifyInstance, ctx: DashboardContext): void {
  app.get('/metrics', async (_request, reply) => {
    await ctx.metrics.collect();
    return reply.type(ctx.metrics.contentType).send(await ctx.metrics.metrics());
  });

  app.get('/healthz', async (_request, reply) => {
    const redis = ctx.control.parts.redis;
    try {
      await redis.ping();
      return reply.send({ ok: true, redis: redis.status });
    } catch (error) {
      return reply.code(503).send({
        ok: false,
        redis: redis.status,
        error: error instanceof Error ? error.message : String(error),
      });
    }
  });
}
