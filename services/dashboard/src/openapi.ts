// The REST API as an OpenAPI 3.1 document, served at /api/openapi.json. Bodies and responses are
// generated from the same zod schemas the routes validate with (z.toJSONSchema), so they agree.
import { RunDetailSchema, RunSummarySchema, StatusSchema } from '@nightshift/client';
import { RunInputSchema } from '@nightshift/protocol';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { DecideBodySchema, NoteBodySchema, ResolveBodySchema } from './routes/api-control.js';

const json = (schema: z.ZodType, io: 'input' | 'output') =>
  z.toJSONSchema(schema, { io, unrepresentable: 'any' });

const ErrorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: { type: 'string' },
    code: { type: 'string' },
    issues: {
      type: 'array',
      items: { type: 'object', properties: { path: { type: 'string' }, message: { type: 'string' } } },
    },
  },
};

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const body = (name: string, required = true) => ({
  required,
  content: { 'application/json': { schema: ref(name) } },
});
const ok = (description: string, schema?: object) => ({
  description,
  ...(schema ? { content: { 'application/json': { schema } } } : {}),
});
const errors = {
  '400': ok('invalid input: `issues` names each bad field', ref('Error')),
  '401': ok('missing or wrong token (when DASHBOARD_TOKEN is set)', ref('Error')),
};
const runId = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const actionResult = {
  type: 'object',
  properties: {
    runId: { type: 'string' },
    action: { type: 'string', enum: ['pause', 'resume', 'abort', 'decide'] },
    changed: { type: 'boolean' },
    status: { type: 'string' },
    version: { type: 'integer' },
    decision: { type: 'string' },
    messageId: { type: 'string' },
  },
};

export function openApiDocument(): Record<string, unknown> {
  const runAction = (summary: string) => ({
    post: {
      summary,
      parameters: [runId],
      requestBody: body('NoteBody', false),
      responses: {
        '200': ok('done (changed=false: it already was so)', actionResult),
        ...errors,
        '404': ok('no such run', ref('Error')),
        '409': ok('the run has ended', ref('Error')),
      },
    },
  });
  const agentAction = (summary: string) => ({
    post: {
      summary,
      parameters: [{ name: 'role', in: 'path', required: true, schema: { type: 'string' } }],
      responses: { '200': ok('the queue state'), ...errors },
    },
  });
  return {
    openapi: '3.1.0',
    info: { title: 'Nightshift dashboard API', version: '0.1.0' },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        Error: ErrorSchema,
        RunInput: json(RunInputSchema, 'input'),
        NoteBody: json(NoteBodySchema, 'input'),
        DecideBody: json(DecideBodySchema, 'input'),
        ResolveBody: json(ResolveBodySchema, 'input'),
        RunSummary: json(RunSummarySchema, 'output'),
        RunDetail: json(RunDetailSchema, 'output'),
        Status: json(StatusSchema, 'output'),
      },
    },
    security: [{ bearer: [] }],
    paths: {
      '/api/runs': {
        post: {
          summary: 'Start a run (same schema as a `runs` job)',
          requestBody: body('RunInput'),
          responses: {
            '201': ok('enqueued', {
              type: 'object',
              properties: { runId: { type: 'string' }, jobId: { type: 'string' } },
            }),
            ...errors,
          },
        },
        get: {
          summary: 'Recent runs in Redis, newest first, and how many older runs are archived',
          parameters: [
            { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000 } },
          ],
          responses: {
            '200': ok('runs', {
              type: 'object',
              properties: {
                runs: { type: 'array', items: ref('RunSummary') },
                // Issue 21 §2: archived runs are not listed; GET /api/runs/{id} still reads each.
                archivedRuns: { type: 'integer', minimum: 0 },
              },
            }),
          },
        },
      },
      '/api/runs/{id}': {
        get: {
          summary: 'A run: folded state, events, checkpoints',
          parameters: [runId],
          responses: {
            '200': ok('the run', {
              type: 'object',
              properties: {
                run: ref('RunDetail'),
                events: { type: 'array' },
                checkpoints: { type: 'array' },
              },
            }),
            ...errors,
            '404': ok('no such run', ref('Error')),
          },
        },
      },
      '/api/runs/{id}/charts': {
        get: {
          summary:
            "The run's charts as Vega-Lite specs with their data inline (the morning report's; the run page draws them and the event stream re-sends them as `charts`)",
          parameters: [runId],
          responses: {
            '200': ok('the charts', {
              type: 'object',
              properties: {
                runId: { type: 'string' },
                key: { type: 'string', description: 'changes whenever the charts may have changed' },
                charts: {
                  type: 'array',
                  items: {
                    type: 'object',
                    properties: {
                      id: { type: 'string', enum: ['gantt', 'llm-slots', 'tokens', 'trust', 'latency'] },
                      title: { type: 'string' },
                      points: { type: 'integer' },
                      spec: { type: 'object', description: 'a Vega-Lite top-level spec' },
                    },
                  },
                },
              },
            }),
            ...errors,
            '404': ok('no such run', ref('Error')),
          },
        },
      },
      '/api/runs/{id}/pause': runAction('Pause a run (event run.paused)'),
      '/api/runs/{id}/resume': runAction('Resume a paused run (event run.resumed)'),
      '/api/runs/{id}/abort': runAction('Abort a run (human.decided abort)'),
      '/api/runs/{id}/decide': {
        post: {
          summary: 'Answer a run waiting for a human (human.decided + a human DECISION on the bus)',
          parameters: [runId],
          requestBody: body('DecideBody'),
          responses: {
            '200': ok('recorded', actionResult),
            ...errors,
            '404': ok('no such run', ref('Error')),
            '409': ok('the run is not waiting for a human, or has ended', ref('Error')),
          },
        },
      },
      '/api/alerts/{id}/resolve': {
        post: {
          summary: 'Resolve an alert; the sentinel acts on the `RESOLVE <id> <decision>` DECISION',
          parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
          requestBody: body('ResolveBody'),
          responses: { '200': ok('resolved'), ...errors, '404': ok('no such alert', ref('Error')) },
        },
      },
      '/api/agents/{role}/pause': agentAction("Pause a role's queue agent.<role> (BullMQ global pause)"),
      '/api/agents/{role}/resume': agentAction("Resume a role's queue"),
      '/api/status': {
        get: {
          summary: 'The deployment at a glance (= `nightshift status --json`)',
          parameters: [{ name: 'run', in: 'query', schema: { type: 'string' } }],
          responses: { '200': ok('status', ref('Status')), ...errors },
        },
      },
      '/api/stream': {
        get: {
          summary:
            'Server-Sent Events: `message` (bus:log entries in the guide markdown form), `panel` and, with `run`, `charts` (as GET /api/runs/{id}/charts, whenever the run moved)',
          parameters: [
            { name: 'run', in: 'query', schema: { type: 'string' } },
            { name: 'after', in: 'query', schema: { type: 'string' } },
          ],
          responses: { '200': { description: 'text/event-stream' } },
        },
      },
      '/metrics': {
        get: { summary: 'Prometheus metrics', responses: { '200': { description: 'text/plain' } } },
      },
      '/healthz': {
        get: { summary: 'Liveness (no token needed)', security: [], responses: { '200': ok('ok') } },
      },
    },
  };
}

export function registerOpenApi(app: FastifyInstance): void {
  const document = openApiDocument();
  app.get('/api/openapi.json', async () => document);
}
