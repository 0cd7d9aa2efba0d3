// Errors as HTTP answers: a bad body or parameter is a 400 naming each field, an unknown run or
// alert a 404, a refused action a 409; anything unexpected a 500 whose details stay in the log.
import { httpStatusOf } from '@nightshift/client';
import { isNightshiftError, problemsFrom, ValidationError } from '@nightshift/protocol';
import type { FastifyError, FastifyInstance } from 'fastify';
import type { z } from 'zod';

export interface ErrorBody {
  error: string;
  code?: string;
  issues?: { path: string; message: string }[];
}

/** Parses with a zod schema or throws a ValidationError whose problems name the fields. */
export function parseInput<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ValidationError(what, problemsFrom(result.error));
}

export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | Error, request, reply) => {
    if (error instanceof ValidationError) {
      const body: ErrorBody = {
        error: error.message,
        code: error.code,
        issues: error.problems.map((p) => ({ path: p.path || '(body)', message: p.expected })),
      };
      return reply.code(400).send(body);
    }
    if (isNightshiftError(error)) {
      const status = httpStatusOf(error);
      if (status >= 500) request.log.error({ err: error }, 'request failed');
      return reply.code(status).send({ error: error.message, code: error.code } satisfies ErrorBody);
    }
    const statusCode = (error as FastifyError).statusCode;
    if (typeof statusCode === 'number' && statusCode >= 400 && statusCode < 500) {
      // Fastify's own refusals: unparseable JSON, wrong content type, body too large.
      return reply
        .code(statusCode)
        .send({ error: error.message, code: (error as FastifyError).code } satisfies ErrorBody);
    }
    request.log.error({ err: error }, 'request failed');
    return reply.code(500).send({ error: 'internal error (see the dashboard log)' } satisfies ErrorBody);
  });
}
