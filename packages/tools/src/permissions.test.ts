// Permission matrix (issue 6 acceptance): every role × tool outcome matches guide §7, written out here independently.
import { mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ROLES, type Role } from '@nightshift/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeToolCall } from './execute.js';
import { isToolPermitted, permittedTools } from './permissions.js';
import type { Refusal, ToolContext } from './tool.js';

// guide §7 "Tools Needed", as issue 6 spells it out per role.
const EXPECTED: Record<Role, string[]> = {
  director: ['ask_scout'],
  architect: ['read_file', 'list_files', 'search_files'],
  scout: ['read_file', 'list_files', 'search_files', 'web_search'],
  builder: [
    'read_file',
    'write_file',
    'edit_file',
    'list_files',
    'search_files',
    'run_command',
    'git',
    'ask_scout',
  ],
  refactorer: ['read_file', 'write_file', 'edit_file', 'list_files', 'search_files', 'ask_scout'],
  inspector: ['read_file', 'list_files', 'search_files', 'run_command', 'ask_scout'],
  scribe: ['write_memory'],
};

const EVERY_TOOL = [
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
  'gateway',
  'cron',
  'shell',
];

let base: string;
let root: string;
let memoryDir: string;
const refusals: Refusal[] = [];
const scoutAskedBy: Role[] = [];
const searchedBy: Role[] = [];

function ctx(role: Role, over: Partial<ToolContext> = {}): ToolContext {
  return {
    role,
    runId: 'run_matrix',
    workspaceRoot: root,
    memoryDir,
    allowlist: ['node mark.mjs'],
    timeoutMs: 60_000,
    outputCapBytes: 65_536,
    deny: ['gateway', 'cron'],
    askScout: async (_q, c) => {
      scoutAskedBy.push(c.role);
      return 'answer';
    },
    webSearch: async (_q, c) => {
      searchedBy.push(c.role);
      return 'results';
    },
    onRefusal: (r) => refusals.push(r),
    ...over,
  };
}

/** Arguments that succeed when the tool runs, each leaving a per-role trace where it has an effect. */
function argsFor(tool: string, role: Role): unknown {
  switch (tool) {
    case 'read_file':
      return { path: 'hello.txt' };
    case 'write_file':
      return { path: `w-${role}.txt`, content: 'x' };
    case 'edit_file':
      return { path: `e-${role}.txt`, old: 'before', new: 'after' };
    case 'list_files':
      return {};
    case 'search_files':
      return { pattern: 'hello' };
    case 'run_command':
      return { argv: ['node', 'mark.mjs', `r-${role}`] };
    case 'git':
      return { action: 'status' };
    case 'ask_scout':
      return { question: 'q' };
    case 'web_search':
      return { query: 'q' };
    case 'write_memory':
      return { path: `m-${role}.md`, content: 'x' };
    default:
      return {};
  }
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

beforeAll(async () => {
  base = await mkdtemp(path.join(tmpdir(), 'ns-perms-'));
  root = path.join(base, 'ws');
  memoryDir = path.join(base, 'memory');
  await mkdir(root);
  await writeFile(path.join(root, 'hello.txt'), 'hello');
  await writeFile(
    path.join(root, 'mark.mjs'),
    "import { writeFileSync } from 'node:fs';\nwriteFileSync(process.argv[2], '');\n",
  );
  for (const role of ROLES) await writeFile(path.join(root, `e-${role}.txt`), 'before');
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('permittedTools', () => {
  it.each(ROLES)('%s gets exactly its row', (role) => {
    expect([...permittedTools(role)].sort()).toEqual([...EXPECTED[role]].sort());
  });

  it('lets the deny list win over the table and over overrides', () => {
    expect(permittedTools('builder', { deny: ['write_file'] })).not.toContain('write_file');
    const override = { architect: ['read_file', 'gateway', 'cron', 'no_such_tool'] };
    expect(permittedTools('architect', { toolsByRole: override })).toEqual(['read_file']);
    expect(isToolPermitted('architect', 'gateway', { toolsByRole: override, deny: [] })).toBe(false);
  });
});

describe('executeToolCall: role × tool matrix', () => {
  const cells = ROLES.flatMap((role) =>
    EVERY_TOOL.map((tool) => ({ role, tool, allowed: EXPECTED[role].includes(tool) })),
  );

  it.each(cells)('$role × $tool → allowed: $allowed', async ({ role, tool, allowed }) => {
    const before = refusals.length;
    const result = await executeToolCall({ name: tool, arguments: argsFor(tool, role) }, ctx(role));
    if (allowed) {
      expect(result).toMatchObject({ ok: true });
      expect(refusals.length).toBe(before);
    } else {
      expect(result).toEqual({
        ok: false,
        error: {
          code: 'TOOL_NOT_PERMITTED',
          message: `${tool} is not permitted for ${role}${tool === 'gateway' || tool === 'cron' ? ' (deny list)' : ''}`,
        },
      });
      expect(refusals.at(-1)).toMatchObject({ kind: 'permission', role, tool, runId: 'run_matrix' });
      expect(refusals.length).toBe(before + 1);
    }
  });

  it('never executed a refused call', async () => {
    for (const role of ROLES) {
      const may = (tool: string) => EXPECTED[role].includes(tool);
      expect(await exists(path.join(root, `w-${role}.txt`))).toBe(may('write_file'));
      expect(await readFile(path.join(root, `e-${role}.txt`), 'utf8')).toBe(
        may('edit_file') ? 'after' : 'before',
      );
      expect(await exists(path.join(root, `r-${role}`))).toBe(may('run_command'));
      expect(await exists(path.join(memoryDir, 'run_matrix', `m-${role}.md`))).toBe(may('write_memory'));
    }
    expect([...scoutAskedBy].sort()).toEqual(ROLES.filter((r) => EXPECTED[r].includes('ask_scout')).sort());
    expect(searchedBy).toEqual(ROLES.filter((r) => EXPECTED[r].includes('web_search')));
    const refusedCells = ROLES.reduce(
      (n, role) => n + EVERY_TOOL.filter((t) => !EXPECTED[role].includes(t)).length,
      0,
    );
    expect(refusals.filter((r) => r.kind === 'permission')).toHaveLength(refusedCells);
  });

  it('refuses a tool the deny list names even when an override grants it', async () => {
    const result = await executeToolCall(
      { name: 'cron', arguments: {} },
      ctx('builder', { toolsByRole: { builder: ['cron', 'read_file'] } }),
    );
    expect(result).toMatchObject({ ok: false, error: { code: 'TOOL_NOT_PERMITTED' } });
    const denied = await executeToolCall(
      { name: 'read_file', arguments: { path: 'hello.txt' } },
      ctx('architect', { deny: ['gateway', 'cron', 'read_file'] }),
    );
    expect(denied).toMatchObject({
      ok: false,
      error: { message: 'read_file is not permitted for architect (deny list)' },
    });
  });

  it('reports sandbox refusals too', async () => {
    const before = refusals.length;
    await executeToolCall({ name: 'read_file', arguments: { path: '../../etc/passwd' } }, ctx('architect'));
    expect(refusals.slice(before)).toEqual([
      expect.objectContaining({ kind: 'sandbox', role: 'architect', tool: 'read_file' }),
    ]);
  });
});
