// Issue 18 §7: a run may name only a folder under the operator's workspace roots. Checked when a
// run is enqueued (CLI, REST), when the Director takes it, and again when an agent resolves it.
import { realpath, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { ValidationError } from '@nightshift/protocol';
import { isErrno } from './result.js';

/** True when `child` is `parent` or below it (both absolute, normalised). */
export function isInside(parent: string, child: string): boolean {
  const relative = path.relative(parent, child);
  return relative === '' || (!relative.startsWith('..') && !path.isAbsolute(relative));
}

async function realOrUndefined(folder: string): Promise<string | undefined> {
  try {
    return await realpath(folder);
  } catch (error) {
    if (isErrno(error, 'ENOENT', 'ENOTDIR', 'EACCES')) return undefined;
    throw error;
  }
}

export interface AllowedWorkspace {
  /** The folder's real path (symlinks resolved). */
  real: string;
  /** The real path of the root it is under. */
  root: string;
}

/**
 * The real path of `requested` (relative = to `base`) when it is an existing directory under one
 * of `roots`, compared after resolving every symlink, so a link that points outside is refused.
 * @throws ValidationError on field `workspace`, naming the roots; nothing is created or changed.
 */
export async function checkWorkspaceRoots(
  requested: string,
  roots: readonly string[],
  base: string,
): Promise<AllowedWorkspace> {
  const folder = path.resolve(base, requested);
  const named = roots.map((r) => path.resolve(base, r));
  const refuse = (expected: string): never => {
    throw new ValidationError('workspace', [{ path: 'workspace', expected, received: requested }]);
  };
  const real = await realOrUndefined(folder);
  let isDir = false;
  if (real !== undefined) isDir = (await stat(real)).isDirectory();
  if (real === undefined || !isDir) return refuse('an existing directory');
  const realRoots = (await Promise.all(named.map(realOrUndefined))).filter((r) => r !== undefined);
  const root = realRoots.find((r) => isInside(r, real));
  if (root === undefined) {
    const list = named.length === 0 ? '(none configured)' : named.join(', ');
    return refuse(`a folder under the workspace roots (WORKSPACE_ROOTS): ${list}`);
  }
  return { real, root };
}
