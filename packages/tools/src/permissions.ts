// Which role may call which tool (guide §7 "Agent-Specific Settings"), as data; the deny list always wins.
import type { Role } from '@nightshift/protocol';

export const TOOL_NAMES = [
  'read_file',
  'write_file',
  'edit_file',
  'list_files',
  'search_files',
  'run_command',
  'git',
  'ask_scout',
  'web_search',
  'write_memory',
] as const;
export type ToolName = (typeof TOOL_NAMES)[number];

/** guide §7: `tools.subagents.tools.deny: ["gateway", "cron"]`. */
export const DEFAULT_TOOL_DENY: readonly string[] = ['gateway', 'cron'];

const READ: readonly ToolName[] = ['read_file', 'list_files', 'search_files'];

/**
 * guide §7, "Tools Needed": Director — all coordination tools; Architect — file read, analysis;
 * Scout — web search, file read; Builder — all file/code tools; Refactorer — file read/write;
 * Inspector — file read, test runner; Scribe — file write only (to the memory directory).
 * ask_scout goes to the roles that work while Scout is available to them (Director, Builder,
 * Refactorer, Inspector); Scout does not ask itself, and Architect hands over to Scout in P1 (guide §4).
 */
export const TOOLS_BY_ROLE: Readonly<Record<Role, readonly ToolName[]>> = {
  director: ['ask_scout'],
  architect: [...READ],
  scout: [...READ, 'web_search'],
  builder: [...READ, 'write_file', 'edit_file', 'run_command', 'git', 'ask_scout'],
  refactorer: [...READ, 'write_file', 'edit_file', 'ask_scout'],
  inspector: [...READ, 'run_command', 'ask_scout'],
  scribe: ['write_memory'],
};

export interface PermissionOptions {
  /** Overrides of TOOLS_BY_ROLE, per role (config). */
  toolsByRole?: Partial<Record<Role, readonly string[]>> | undefined;
  /** Default DEFAULT_TOOL_DENY. */
  deny?: readonly string[] | undefined;
}

export function isToolName(name: string): name is ToolName {
  return (TOOL_NAMES as readonly string[]).includes(name);
}

/** The tools `role` may call: its table row (or override), known tools only, minus the deny list. */
export function permittedTools(role: Role, options: PermissionOptions = {}): ToolName[] {
  const deny = options.deny ?? DEFAULT_TOOL_DENY;
  const row = options.toolsByRole?.[role] ?? TOOLS_BY_ROLE[role];
  return row.filter((name): name is ToolName => isToolName(name) && !deny.includes(name));
}

export function isToolPermitted(role: Role, tool: string, options: PermissionOptions = {}): boolean {
  return (permittedTools(role, options) as string[]).includes(tool);
}
