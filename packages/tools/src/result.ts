// What every tool call returns to the model: success text, or a typed error it can read and recover from.
import { NightshiftError } from '@nightshift/protocol';

/** Stable codes a tool error carries; the tool loop and metrics key on these. */
export const TOOL_ERROR_CODES = [
  'INVALID_ARGUMENTS',
  'UNKNOWN_TOOL',
  'TOOL_NOT_PERMITTED',
  'TOOL_UNAVAILABLE',
  'SANDBOX_VIOLATION',
  'TIMEOUT',
  'TOOL_FAILED',
] as const;
export type ToolErrorCode = (typeof TOOL_ERROR_CODES)[number];

export interface ToolError {
  /** One of TOOL_ERROR_CODES, or the `code` of the NightshiftError that caused it. */
  code: string;
  message: string;
}

export type ToolResult = { ok: true; output: string; data?: unknown } | { ok: false; error: ToolError };

/** What a tool's body hands back on success (the wrapper turns it into a ToolResult). */
export interface ToolOutput {
  output: string;
  data?: unknown;
}

export function toolOk(output: string, data?: unknown): ToolResult {
  return data === undefined ? { ok: true, output } : { ok: true, output, data };
}

export function toolError(code: string, message: string): ToolResult {
  return { ok: false, error: { code, message } };
}

/** A tool that could not do what was asked for a reason the model can act on (missing file, bad regex). */
export class ToolFailure extends NightshiftError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('TOOL_FAILED', message, { category: 'invalid-input', details });
  }
}

/** A tool that exists but is not wired in this process (no Scout link, no web search provider). */
export class ToolUnavailable extends NightshiftError {
  constructor(message: string) {
    super('TOOL_UNAVAILABLE', message, { category: 'policy' });
  }
}

export function isErrno(error: unknown, ...codes: string[]): error is NodeJS.ErrnoException {
  return (
    error instanceof Error &&
    !(error instanceof NightshiftError) &&
    typeof (error as NodeJS.ErrnoException).code === 'string' &&
    (codes.length === 0 || codes.includes((error as NodeJS.ErrnoException).code as string))
  );
}

/**
 * Turns anything a tool threw into a tool error. Host paths in fs error messages are replaced by
 * workspace-relative ones so the model sees names it can use and the host layout does not leak.
 */
export function errorToResult(error: unknown, hostRoots: readonly string[]): ToolResult {
  if (error instanceof NightshiftError) return toolError(error.code, scrub(error.message, hostRoots));
  if (isErrno(error)) return toolError('TOOL_FAILED', scrub(describeErrno(error), hostRoots));
  if (error instanceof Error) return toolError('TOOL_FAILED', scrub(error.message, hostRoots));
  return toolError('TOOL_FAILED', String(error));
}

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: 'no such file or directory',
  EISDIR: 'is a directory',
  ENOTDIR: 'not a directory',
  EEXIST: 'already exists',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  ELOOP: 'is a symbolic link (not followed)',
  ENXIO: 'not a regular file',
  ENOTEMPTY: 'directory not empty',
};

function describeErrno(error: NodeJS.ErrnoException): string {
  const text = (error.code && ERRNO_TEXT[error.code]) ?? error.message;
  return error.path === undefined ? text : `${text}: ${error.path}`;
}

function scrub(message: string, hostRoots: readonly string[]): string {
  let out = message;
  // Longest first, so /a/b is replaced before its prefix /a.
  for (const root of [...hostRoots].sort((a, b) => b.length - a.length)) {
    if (root.length > 1) out = out.split(`${root}/`).join('').split(root).join('.');
  }
  return out;
}
