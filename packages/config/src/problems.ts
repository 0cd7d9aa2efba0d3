// Turns zod issues into ConfigError problems named after what the operator wrote: the variable or the file key.
import type { Problem } from '@nightshift/protocol';
import type { z } from 'zod';
import { DEFAULTS } from './defaults.js';
import type { EnvVar } from './env.js';
import type { ConfigFile } from './file.js';
import { getAt, isPlainObject, type Path } from './objects.js';
import { REDACTED, redactValue, secretKindOf } from './secrets.js';

export interface IssueContext {
  /** The merged input the schema saw. */
  merged: unknown;
  envOrigins: ReadonlyMap<string, EnvVar>;
  /** The raw text of each variable, for `received`. */
  env: Readonly<Record<string, string | undefined>>;
  file: ConfigFile | undefined;
}

export function issuesToProblems(issues: readonly z.core.$ZodIssue[], ctx: IssueContext): Problem[] {
  return issues.flatMap((issue) => {
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => unknownKey([...path, key], ctx));
    }
    return [problemAt(path, expectedOf(issue), ctx)];
  });
}

function expectedOf(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type' && issue.expected === 'object') return 'an object of settings';
  if (issue.code === 'invalid_type' && issue.expected === 'array') return 'a list';
  return issue.message;
}

// No `received` here: a misspelt key may well be a secret (`apikey:`), which we cannot recognise.
function unknownKey(path: Path, ctx: IssueContext): Problem {
  return { path: locate(path, ctx).path, expected: 'no such setting (check the spelling)' };
}

function problemAt(path: Path, expected: string, ctx: IssueContext): Problem {
  const where = locate(path, ctx);
  return { ...where, expected };
}

/** Finds who set `path`: an env variable (also for a deeper path it set as a whole), the file, or nobody. */
function locate(path: Path, ctx: IssueContext): { path: string; received?: string } {
  for (let i = path.length; i > 0; i--) {
    const origin = ctx.envOrigins.get(path.slice(0, i).join('.'));
    if (origin === undefined) continue;
    const raw = ctx.env[origin.name]?.trim() ?? '';
    const secret = origin.secret ?? secretKindOf(path);
    return {
      path: origin.name,
      received: secret === undefined ? JSON.stringify(raw) : JSON.stringify(redactValue(secret, raw)),
    };
  }
  const dotted = path.join('.');
  const inFile = ctx.file !== undefined && path.length > 0 && hasPath(ctx.file.data, path);
  // Not set by anyone: a cross-field rule failed against a default, so show that default.
  const value = getAt(ctx.merged, path) ?? getAt(DEFAULTS, path);
  const received = describeReceived(path, value);
  const label = inFile && ctx.file !== undefined ? `${ctx.file.label}: ${dotted}` : `${dotted} (default)`;
  return received === undefined ? { path: label } : { path: label, received };
}

function hasPath(root: unknown, path: Path): boolean {
  return isPlainObject(root) && getAt(root, path) !== undefined;
}

function describeReceived(path: Path, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  const secret = secretKindOf(path);
  if (secret !== undefined)
    return typeof value === 'string' ? JSON.stringify(redactValue(secret, value)) : REDACTED;
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
