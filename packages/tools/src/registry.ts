// Every tool by name, and the tools a role is offered (permitted and wired in this process).
import type { Role } from '@nightshift/protocol';
import { runCommandTool } from './command.js';
import { editFileTool, readFileTool, writeFileTool } from './file-tools.js';
import { gitTool } from './git.js';
import { listFilesTool } from './listing.js';
import { writeMemoryTool } from './memory.js';
import { type PermissionOptions, permittedTools, type ToolName } from './permissions.js';
import { askScoutTool, webSearchTool } from './remote-tools.js';
import { searchFilesTool } from './search.js';
import type { Tool, ToolContext } from './tool.js';

export const TOOLS: Readonly<Record<ToolName, Tool>> = {
  read_file: readFileTool,
  write_file: writeFileTool,
  edit_file: editFileTool,
  list_files: listFilesTool,
  search_files: searchFilesTool,
  run_command: runCommandTool,
  git: gitTool,
  ask_scout: askScoutTool,
  web_search: webSearchTool,
  write_memory: writeMemoryTool,
};

export function getTool(name: string): Tool | undefined {
  return Object.hasOwn(TOOLS, name) ? TOOLS[name as ToolName] : undefined;
}

export type OfferOptions = PermissionOptions & Pick<ToolContext, 'askScout' | 'webSearch' | 'memoryDir'>;

/**
 * The tools to put in front of `role`'s model: permitted ones whose backing is wired here, so a
 * model is not offered web_search with no provider, ask_scout with no bus link, or write_memory
 * with no memory directory. Calling one anyway still gets a clear tool error.
 */
export function toolsForRole(role: Role, options: OfferOptions = {}): Tool[] {
  return permittedTools(role, options)
    .filter((name) => {
      if (name === 'web_search') return options.webSearch !== undefined;
      if (name === 'ask_scout') return options.askScout !== undefined;
      if (name === 'write_memory') return options.memoryDir !== undefined;
      return true;
    })
    .map((name) => TOOLS[name]);
}
