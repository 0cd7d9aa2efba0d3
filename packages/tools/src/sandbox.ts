// Resolves a model-supplied path inside a root directory, or refuses it with a typed SandboxViolation.
//
// Order of checks: the string itself (NUL, control characters, length, `\`, `~`), then lexical
// containment (`..` and absolute paths, normalised before anything touches the disk), then a
// component-by-component walk that follows symlinks exactly as the kernel would — including
// dangling ones, which realpath cannot resolve — and requires the real target to be inside the
// root's real path. Callers then operate on the returned real path, never on the model's string,
// so what was checked is what is opened. Percent-escapes are never decoded: `%2e%2e` is a name.
import { lstat, readlink, realpath } from 'node:fs/promises';
import * as path from 'node:path';
import { SandboxViolation } from '@nightshift/protocol';
import { isErrno } from './result.js';

/** Linux PATH_MAX and NAME_MAX, in bytes. */
export const MAX_PATH_BYTES = 4096;
export const MAX_COMPONENT_BYTES = 255;
/** Linux MAXSYMLINKS: more hops than this is a loop. */
const MAX_SYMLINK_HOPS = 40;

export const SANDBOX_RULES = [
  'not-a-path',
  'nul-byte',
  'control-character',
  'path-too-long',
  'component-too-long',
  'backslash',
  'home-relative',
  'absolute-outside',
  'dotdot-escape',
  'symlink-escape',
  'symlink-loop',
  'git-internals',
  'hard-link',
  'shell-metacharacter',
  'not-allowlisted',
  'option-injection',
] as const;
export type SandboxRule = (typeof SANDBOX_RULES)[number];

export type Access = 'read' | 'write';

export interface ResolvedPath {
  /** Real absolute path, symlinks resolved: what the caller must open. */
  absolute: string;
  /** The same, relative to the root's real path with `/` separators; `.` for the root itself. */
  relative: string;
  /** Real path of the root. */
  root: string;
}

export function sandboxViolation(
  rule: SandboxRule,
  reason: string,
  offending: unknown,
  extra: Record<string, unknown> = {},
): SandboxViolation {
  const shown = typeof offending === 'string' ? JSON.stringify(clip(offending)) : String(offending);
  return new SandboxViolation(`${reason}: ${shown}`, { rule, path: offending, ...extra });
}

function clip(text: string): string {
  return text.length > 120 ? `${text.slice(0, 120)}…(${text.length} chars)` : text;
}

/** Checks that need only the string. Throws SandboxViolation. */
export function checkPathString(requested: unknown): asserts requested is string {
  if (typeof requested !== 'string' || requested.length === 0) {
    throw sandboxViolation('not-a-path', 'path must be a non-empty string', requested);
  }
  if (requested.includes('\0')) throw sandboxViolation('nul-byte', 'path contains a NUL byte', requested);
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
  if (/[\u0001-\u001f\u007f]/.test(requested)) {
    throw sandboxViolation('control-character', 'path contains a control character', requested);
  }
  if (Buffer.byteLength(requested) > MAX_PATH_BYTES) {
    throw sandboxViolation('path-too-long', `path is longer than ${MAX_PATH_BYTES} bytes`, requested);
  }
  if (requested.split('/').some((c) => Buffer.byteLength(c) > MAX_COMPONENT_BYTES)) {
    throw sandboxViolation(
      'component-too-long',
      `a path component is longer than ${MAX_COMPONENT_BYTES} bytes`,
      requested,
    );
  }
  // `\` is a plain byte on Linux, but a name like `..\..\x` only ever means an escape attempt, and it
  // would become one if the workspace were checked out on Windows: refuse instead of creating it.
  if (requested.includes('\\')) {
    throw sandboxViolation('backslash', 'path contains a backslash (use / as the separator)', requested);
  }
  // Nothing expands `~` here; refuse rather than silently create a directory named `~`.
  if (requested.startsWith('~')) {
    throw sandboxViolation(
      'home-relative',
      'home-relative paths are not allowed (use a workspace path)',
      requested,
    );
  }
}

export function isWithin(parent: string, child: string): boolean {
  if (child === parent) return true;
  const prefix = parent.endsWith(path.sep) ? parent : `${parent}${path.sep}`;
  return child.startsWith(prefix);
}

/**
 * Resolves `requested` (relative to `root`, or absolute inside it) to a real path inside the
 * root's real path. For `write`, also refuses paths inside a `.git` directory (a hook or
 * `core.fsmonitor` written there would run code the allowlist never approved) and files with
 * more than one hard link (the other link may be outside, e.g. a package store).
 */
export async function resolveInside(
  root: string,
  requested: unknown,
  access: Access = 'read',
): Promise<ResolvedPath> {
  checkPathString(requested);
  const lexicalRoot = path.resolve(root);
  const realRoot = await realpath(lexicalRoot);
  // `..` is normalised lexically first: `a/../b` is `b`; whatever climbs above the root is refused.
  const candidate = path.resolve(lexicalRoot, requested);
  if (!isWithin(lexicalRoot, candidate) && !isWithin(realRoot, candidate)) {
    if (path.isAbsolute(requested)) {
      throw sandboxViolation('absolute-outside', 'absolute path outside the workspace', requested);
    }
    throw sandboxViolation('dotdot-escape', 'path climbs out of the workspace', requested);
  }
  const real = await realTarget(candidate, requested);
  if (!isWithin(realRoot, real)) {
    throw sandboxViolation(
      'symlink-escape',
      'path leads outside the workspace through a symlink',
      requested,
      {
        target: real,
      },
    );
  }
  const relative = path.relative(realRoot, real).split(path.sep).join('/') || '.';
  if (access === 'write') await checkWritable(real, relative, requested);
  return { absolute: real, relative, root: realRoot };
}

async function checkWritable(real: string, relative: string, requested: string): Promise<void> {
  if (relative.split('/').some((c) => c.toLowerCase() === '.git')) {
    throw sandboxViolation('git-internals', 'writing inside .git is not allowed', requested);
  }
  let links = 0;
  try {
    const st = await lstat(real);
    links = st.isFile() ? st.nlink : 0;
  } catch (error) {
    if (!isErrno(error, 'ENOENT', 'ENOTDIR')) throw error;
  }
  if (links > 1) {
    throw sandboxViolation(
      'hard-link',
      'file has other hard links, which may be outside the workspace',
      requested,
    );
  }
}

/** Real path of an absolute, normalised path whose tail may not exist yet; follows dangling links. */
async function realTarget(absolute: string, requested: string): Promise<string> {
  const budget = { hops: MAX_SYMLINK_HOPS };
  return walk('/', absolute.split('/'), budget, requested);
}

async function walk(start: string, components: string[], budget: { hops: number }, requested: string) {
  let current = start;
  let missing = false;
  for (const component of components) {
    if (component === '' || component === '.') continue;
    if (component === '..') {
      current = path.dirname(current);
      continue;
    }
    const next = path.join(current, component);
    if (missing) {
      current = next;
      continue;
    }
    let isLink = false;
    try {
      isLink = (await lstat(next)).isSymbolicLink();
    } catch (error) {
      if (!isErrno(error, 'ENOENT', 'ENOTDIR')) throw error;
      // Everything below a missing name is missing too; the operation itself will create or fail.
      missing = true;
      current = next;
      continue;
    }
    if (!isLink) {
      current = next;
      continue;
    }
    budget.hops -= 1;
    if (budget.hops < 0)
      throw sandboxViolation('symlink-loop', 'too many levels of symbolic links', requested);
    const target = await readlink(next);
    // `current` is already real, so resolving the link's relative target from it matches the kernel.
    current = await walk(path.isAbsolute(target) ? '/' : current, target.split('/'), budget, requested);
  }
  return current;
}
