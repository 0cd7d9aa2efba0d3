// list_files: what is in a workspace directory, without following symlinks out of it.
import type { Dirent } from 'node:fs';
import { readdir } from 'node:fs/promises';
import * as path from 'node:path';
import { z } from 'zod';
import { isErrno, ToolFailure } from './result.js';
import { resolveInside } from './sandbox.js';
import { defineTool } from './tool.js';

/** Directories a recursive listing or search names but never descends into (size, not secrecy). */
export const SKIPPED_DIRS: ReadonlySet<string> = new Set(['.git', 'node_modules']);
export const MAX_LIST_ENTRIES = 2000;
const MAX_DEPTH = 32;

function label(entry: Dirent, relative: string): string {
  if (entry.isDirectory()) return `${relative}/`;
  if (entry.isSymbolicLink()) return `${relative}@`;
  return relative;
}

export const listFilesTool = defineTool({
  name: 'list_files',
  description:
    'List a workspace directory (default: the root). Directories end in /, symlinks in @ (not followed). ' +
    'recursive descends into subdirectories except .git and node_modules.',
  parameters: z.object({
    path: z.string().min(1).optional().describe('Directory relative to the workspace root; default "."'),
    recursive: z.boolean().optional(),
  }),
  async execute(args, ctx) {
    const dir = await resolveInside(ctx.workspaceRoot, args.path ?? '.', 'read');
    const lines: string[] = [];
    let bytes = 0;
    let truncated = false;
    const visit = async (absolute: string, depth: number): Promise<void> => {
      const entries = await readdir(absolute, { withFileTypes: true });
      entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
      for (const entry of entries) {
        if (truncated) return;
        const relative = path.relative(dir.root, path.join(absolute, entry.name)).split(path.sep).join('/');
        const line = label(entry, relative);
        bytes += Buffer.byteLength(line) + 1;
        if (lines.length >= MAX_LIST_ENTRIES || bytes > ctx.outputCapBytes) {
          truncated = true;
          return;
        }
        lines.push(line);
        // isDirectory() on a Dirent does not follow symlinks, so links are listed, never entered.
        if (
          args.recursive === true &&
          entry.isDirectory() &&
          depth < MAX_DEPTH &&
          !SKIPPED_DIRS.has(entry.name)
        ) {
          await visit(path.join(absolute, entry.name), depth + 1);
        }
      }
    };
    try {
      await visit(dir.absolute, 0);
    } catch (error) {
      if (isErrno(error, 'ENOTDIR')) {
        throw new ToolFailure(`not a directory: ${dir.relative}`);
      }
      throw error;
    }
    const note = truncated ? `\n[… truncated after ${lines.length} entries]` : '';
    const output = lines.length === 0 ? `(${dir.relative} is empty)` : lines.join('\n') + note;
    return { output, data: { path: dir.relative, entries: lines, truncated } };
  },
});
