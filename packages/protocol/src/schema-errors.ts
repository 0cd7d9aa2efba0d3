// Turns zod issues into the project's Problem list: which field, what was expected, what came.
import type { z } from 'zod';
import { type Problem, ValidationError } from './errors.js';

export function problemsFrom(error: z.ZodError): Problem[] {
  return error.issues.map((issue) => ({
    path: issue.path.map(String).join('.'),
    expected: issue.message,
  }));
}

/** Parse with a schema or throw a ValidationError naming every bad field. */
export function validate<T extends z.ZodType>(schema: T, value: unknown, what: string): z.infer<T> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  throw new ValidationError(what, problemsFrom(result.error));
}
