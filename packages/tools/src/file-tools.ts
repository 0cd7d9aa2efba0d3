// read_file, write_file, edit_file: the workspace's files, through the sandbox (issue 6 §1).
import { z } from 'zod';
import { readCapped, readWhole, rewrite, truncationNote, writeInside } from './file-io.js';
import { ToolFailure } from './result.js';
import { resolveInside } from './sandbox.js';
import { defineTool } from './tool.js';

/** Largest content write_file / edit_file accept in one call, in characters. */
export const MAX_WRITE_CHARS = 2_000_000;

const pathParam = z.string().min(1).describe('Path relative to the workspace root, e.g. src/index.ts');

export const readFileTool = defineTool({
  name: 'read_file',
  description: 'Read a UTF-8 text file from the workspace. Long files are cut at the output cap.',
  parameters: z.object({ path: pathParam }),
  async execute({ path }, ctx) {
    const file = await resolveInside(ctx.workspaceRoot, path, 'read');
    const read = await readCapped(file, ctx.outputCapBytes);
    const shown = Buffer.byteLength(read.text);
    const output = read.truncated ? read.text + truncationNote(shown, read.bytes) : read.text;
    return { output, data: { path: file.relative, bytes: read.bytes, truncated: read.truncated } };
  },
});

export const writeFileTool = defineTool({
  name: 'write_file',
  description:
    'Create or overwrite a UTF-8 text file in the workspace; missing parent directories are created.',
  parameters: z.object({ path: pathParam, content: z.string().max(MAX_WRITE_CHARS) }),
  async execute({ path, content }, ctx) {
    const file = await writeInside(ctx.workspaceRoot, path, content);
    const bytes = Buffer.byteLength(content);
    return { output: `wrote ${bytes} bytes to ${file.relative}`, data: { path: file.relative, bytes } };
  },
});

export const editFileTool = defineTool({
  name: 'edit_file',
  description:
    'Replace an exact string in a workspace file. `old` must occur exactly once, unless replaceAll is true.',
  parameters: z.object({
    path: pathParam,
    old: z.string().min(1).describe('Exact text to find (whitespace matters)'),
    new: z.string().max(MAX_WRITE_CHARS).describe('Replacement text'),
    replaceAll: z.boolean().optional().describe('Replace every occurrence instead of requiring exactly one'),
  }),
  async execute(args, ctx) {
    const file = await resolveInside(ctx.workspaceRoot, args.path, 'write');
    const text = await readWhole(file);
    const count = countOccurrences(text, args.old);
    if (count === 0) throw new ToolFailure(`edit_file: \`old\` was not found in ${file.relative}`);
    if (count > 1 && args.replaceAll !== true) {
      throw new ToolFailure(
        `edit_file: \`old\` occurs ${count} times in ${file.relative}; add surrounding text to make it unique, or set replaceAll`,
      );
    }
    // split/join, not String.replace: `$&`-style patterns in `new` must stay literal.
    await rewrite(file, text.split(args.old).join(args.new));
    return {
      output: `replaced ${count} occurrence${count === 1 ? '' : 's'} in ${file.relative}`,
      data: { path: file.relative, replacements: count },
    };
  },
});

function countOccurrences(text: string, needle: string): number {
  let count = 0;
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) count += 1;
  return count;
}
