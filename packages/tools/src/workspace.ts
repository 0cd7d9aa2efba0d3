// Where a run works: one folder per run under WORKSPACE_DIR, or a folder the task names.
import { mkdir, realpath, stat } from 'node:fs/promises';
import * as path from 'node:path';
import { ValidationError } from '@nightshift/protocol';
import { isErrno } from './result.js';

// One path component: letters, digits, `_ . -`, starting with a letter, digit or `_` (never `.`, `..`, `-x`).
const SAFE_RUN_ID = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/** A run id becomes a directory name and part of commit messages; refuse anything else. */
export function assertSafeRunId(runId: string): void {
  if (!SAFE_RUN_ID.test(runId)) {
    throw new ValidationError('run id', [
      {
        path: 'runId',
        expected: 'letters, digits, _ . - (max 128, starting with a letter, digit or _)',
        received: runId,
      },
    ]);
  }
}

/**
 * The run's workspace, as a real absolute path. Without `requested`: `<workspaceDir>/<runId>`,
 * created if missing. With it (the task names a folder): that folder — relative to workspaceDir if
 * not absolute — which must already exist; a person chose it, so it is not sandboxed further.
 */
export async function workspaceForRun(
  workspaceDir: string,
  runId: string,
  requested?: string,
): Promise<string> {
  assertSafeRunId(runId);
  if (requested !== undefined && requested !== '') {
    const folder = path.resolve(workspaceDir, requested);
    let isDir = false;
    try {
      isDir = (await stat(folder)).isDirectory();
    } catch (error) {
      if (!isErrno(error, 'ENOENT', 'ENOTDIR')) throw error;
    }
    if (!isDir) {
      throw new ValidationError('workspace', [
        { path: 'workspace', expected: 'an existing directory', received: requested },
      ]);
    }
    return realpath(folder);
  }
  const folder = path.join(path.resolve(workspaceDir), runId);
  await mkdir(folder, { recursive: true });
  return realpath(folder);
}

/** `<memoryDir>/<runId>`, created if missing: the only place write_memory may write. */
export async function memoryDirForRun(memoryDir: string, runId: string): Promise<string> {
  assertSafeRunId(runId);
  const folder = path.join(path.resolve(memoryDir), runId);
  await mkdir(folder, { recursive: true });
  return realpath(folder);
}
