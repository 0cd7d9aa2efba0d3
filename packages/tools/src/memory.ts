// write_memory: the Scribe's only tool, confined to the run's memory directory, not the workspace.
import { z } from 'zod';
import { writeInside } from './file-io.js';
import { MAX_WRITE_CHARS } from './file-tools.js';
import { ToolUnavailable } from './result.js';
import { defineTool } from './tool.js';
import { memoryDirForRun } from './workspace.js';

export const writeMemoryTool = defineTool({
  name: 'write_memory',
  description: 'Create or overwrite a markdown file in this run\'s memory directory (e.g. "team-state.md").',
  parameters: z.object({
    path: z.string().min(1).describe("Path relative to the run's memory directory"),
    content: z.string().max(MAX_WRITE_CHARS),
  }),
  async execute({ path, content }, ctx) {
    if (ctx.memoryDir === undefined) throw new ToolUnavailable('write_memory needs a memory directory');
    const root = await memoryDirForRun(ctx.memoryDir, ctx.runId);
    const file = await writeInside(root, path, content);
    const bytes = Buffer.byteLength(content);
    return {
      output: `wrote ${bytes} bytes to memory ${file.relative}`,
      data: { path: file.relative, bytes },
    };
  },
});
