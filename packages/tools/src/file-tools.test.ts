// File tools, listing, search, memory and the provider formats, against real temp directories.
import { mkdir, mkdtemp, readFile, realpath, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ValidationError } from '@nightshift/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeToolCall } from './execute.js';
import { TOOLS, toolsForRole } from './registry.js';
import type { ToolResult } from './result.js';
import { type ToolContext, toAnthropicTools, toOllamaTools } from './tool.js';
import { workspaceForRun } from './workspace.js';

let base: string;
let root: string;
let memoryDir: string;

function ctx(over: Partial<ToolContext> = {}): ToolContext {
  return {
    role: 'builder',
    runId: 'run_files',
    workspaceRoot: root,
    memoryDir,
    allowlist: [],
    timeoutMs: 10_000,
    outputCapBytes: 65_536,
    deny: ['gateway', 'cron'],
    ...over,
  };
}

const call = (name: string, args: unknown, over: Partial<ToolContext> = {}) =>
  executeToolCall({ name, arguments: args }, ctx(over));

function output(result: ToolResult): string {
  if (!result.ok) throw new Error(`expected success, got ${result.error.code}: ${result.error.message}`);
  return result.output;
}

beforeAll(async () => {
  base = await mkdtemp(path.join(tmpdir(), 'ns-files-'));
  root = path.join(base, 'ws');
  memoryDir = path.join(base, 'memory');
  await mkdir(root);
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('tool definitions', () => {
  it('gives Ollama function tools with a JSON Schema object', () => {
    const [tool] = toOllamaTools([TOOLS.write_file]);
    expect(tool).toEqual({
      type: 'function',
      function: {
        name: 'write_file',
        description: expect.any(String),
        parameters: expect.objectContaining({ type: 'object', required: ['path', 'content'] }),
      },
    });
    expect(tool?.function.parameters).not.toHaveProperty('$schema');
    expect(tool?.function.parameters.properties.path).toMatchObject({ type: 'string' });
  });

  it('gives Anthropic tools with input_schema', () => {
    const [tool] = toAnthropicTools([TOOLS.run_command]);
    expect(tool).toMatchObject({
      name: 'run_command',
      input_schema: { type: 'object', properties: { argv: { type: 'array', items: { type: 'string' } } } },
    });
  });

  it('offers a role only what it may use and what is wired', () => {
    expect(toolsForRole('scout').map((t) => t.name)).toEqual(['read_file', 'list_files', 'search_files']);
    const withWeb = toolsForRole('scout', { webSearch: async () => 'r' }).map((t) => t.name);
    expect(withWeb).toContain('web_search');
    expect(toolsForRole('scribe').map((t) => t.name)).toEqual([]);
    expect(toolsForRole('scribe', { memoryDir }).map((t) => t.name)).toEqual(['write_memory']);
  });
});

describe('argument validation', () => {
  it('names the missing field instead of throwing', async () => {
    const result = await call('write_file', { path: 'x.txt' });
    expect(result).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENTS' } });
    if (!result.ok) expect(result.error.message).toContain('content');
  });

  it('accepts JSON-string arguments and reports bad JSON', async () => {
    expect(output(await call('write_file', '{"path":"j.txt","content":"json"}'))).toContain('j.txt');
    expect(await call('write_file', '{"path":')).toMatchObject({
      ok: false,
      error: { code: 'INVALID_ARGUMENTS' },
    });
  });

  it('names a bad regex pattern', async () => {
    const result = await call('search_files', { pattern: '(' });
    expect(result).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENTS' } });
    if (!result.ok) expect(result.error.message).toContain('pattern');
  });
});

describe('read_file / write_file / edit_file', () => {
  it('writes with parent directories and reads back', async () => {
    output(await call('write_file', { path: 'src/deep/mod.ts', content: 'export const a = 1;\n' }));
    expect(output(await call('read_file', { path: 'src/deep/mod.ts' }))).toBe('export const a = 1;\n');
  });

  it('reports a missing file without the host path', async () => {
    const result = await call('read_file', { path: 'nope.txt' });
    expect(result).toMatchObject({ ok: false, error: { code: 'TOOL_FAILED' } });
    if (!result.ok) expect(result.error.message).not.toContain(root);
  });

  it('caps what read_file returns', async () => {
    await writeFile(path.join(root, 'big.txt'), 'y'.repeat(5000));
    const result = await call('read_file', { path: 'big.txt' }, { outputCapBytes: 100 });
    expect(output(result)).toMatch(/^y{100}\n\[… truncated: showing the first 100 of 5000 bytes\]$/);
  });

  it('replaces exactly one occurrence, literally', async () => {
    await writeFile(path.join(root, 'e.txt'), 'one two three');
    output(await call('edit_file', { path: 'e.txt', old: 'two', new: '$& 2' }));
    expect(await readFile(path.join(root, 'e.txt'), 'utf8')).toBe('one $& 2 three');
  });

  it('refuses a missing or ambiguous `old`, unless replaceAll', async () => {
    await writeFile(path.join(root, 'm.txt'), 'a-a-a');
    const missing = await call('edit_file', { path: 'm.txt', old: 'zzz', new: 'q' });
    expect(missing).toMatchObject({ ok: false, error: { code: 'TOOL_FAILED' } });
    const twice = await call('edit_file', { path: 'm.txt', old: 'a', new: 'b' });
    expect(twice).toMatchObject({ ok: false, error: { code: 'TOOL_FAILED' } });
    if (!twice.ok) expect(twice.error.message).toContain('3 times');
    expect(await readFile(path.join(root, 'm.txt'), 'utf8')).toBe('a-a-a');
    output(await call('edit_file', { path: 'm.txt', old: 'a', new: 'b', replaceAll: true }));
    expect(await readFile(path.join(root, 'm.txt'), 'utf8')).toBe('b-b-b');
  });

  it('does not create a file when editing a missing one', async () => {
    expect((await call('edit_file', { path: 'ghost.txt', old: 'a', new: 'b' })).ok).toBe(false);
    await expect(stat(path.join(root, 'ghost.txt'))).rejects.toThrow();
  });
});

describe('list_files and search_files', () => {
  beforeAll(async () => {
    await mkdir(path.join(root, 'lst/node_modules/pkg'), { recursive: true });
    await mkdir(path.join(root, 'lst/inner'), { recursive: true });
    await writeFile(path.join(root, 'lst/inner/needle.ts'), 'const x = 1;\nfind the NEEDLE here\n');
    await writeFile(path.join(root, 'lst/node_modules/pkg/index.js'), 'NEEDLE in a dependency');
    await symlink('/etc', path.join(root, 'lst/etc-link'));
  });

  it('lists recursively, marks links, skips node_modules contents', async () => {
    const listing = output(await call('list_files', { path: 'lst', recursive: true })).split('\n');
    expect(listing).toEqual(['lst/etc-link@', 'lst/inner/', 'lst/inner/needle.ts', 'lst/node_modules/']);
  });

  it('finds matches with file and line, never following links or entering node_modules', async () => {
    expect(output(await call('search_files', { pattern: 'NEEDLE', path: 'lst' }))).toBe(
      'lst/inner/needle.ts:2: find the NEEDLE here',
    );
  });

  it('stops at maxResults and says so', async () => {
    await writeFile(path.join(root, 'lst/many.txt'), 'hit\n'.repeat(50));
    const result = await call('search_files', { pattern: '^hit$', path: 'lst/many.txt', maxResults: 5 });
    const lines = output(result).split('\n');
    expect(lines.slice(0, 5)).toEqual([1, 2, 3, 4, 5].map((n) => `lst/many.txt:${n}: hit`));
    expect(lines[5]).toContain('more matches not shown');
  });

  it('stops a catastrophic regex at its deadline instead of hanging the agent', async () => {
    await writeFile(path.join(root, 'lst/redos.txt'), `${'a'.repeat(40)}b\n`);
    const result = await call(
      'search_files',
      { pattern: '^(a+)+$', path: 'lst/redos.txt' },
      { timeoutMs: 300 },
    );
    expect(result).toMatchObject({ ok: false, error: { code: 'TIMEOUT' } });
  });
});

describe('ask_scout and web_search', () => {
  it('ask_scout is a tool error when nothing is injected, and asks Scout when it is', async () => {
    expect(await call('ask_scout', { question: 'q?' })).toEqual({
      ok: false,
      error: { code: 'TOOL_UNAVAILABLE', message: 'ask_scout is not available here' },
    });
    const asked: string[] = [];
    const askScout = async (question: string) => {
      asked.push(question);
      return 'use zod';
    };
    expect(output(await call('ask_scout', { question: 'which validator?' }, { askScout }))).toBe('use zod');
    expect(asked).toEqual(['which validator?']);
  });

  it('web_search is off unless a provider is injected', async () => {
    const off = await call('web_search', { query: 'x' }, { role: 'scout' });
    expect(off).toMatchObject({ ok: false, error: { code: 'TOOL_UNAVAILABLE' } });
    if (!off.ok) expect(off.error.message).toContain('not configured');
    const on = await call(
      'web_search',
      { query: 'x' },
      { role: 'scout', webSearch: async (q) => `results for ${q}` },
    );
    expect(output(on)).toBe('results for x');
  });

  it('a failing Scout is a tool error, not an exception', async () => {
    const askScout = async (): Promise<string> => {
      throw new Error('scout timed out');
    };
    expect(await call('ask_scout', { question: 'q' }, { askScout })).toMatchObject({
      ok: false,
      error: { code: 'TOOL_FAILED', message: 'scout timed out' },
    });
  });
});

describe('write_memory', () => {
  it('writes under <memoryDir>/<runId>, not the workspace', async () => {
    output(await call('write_memory', { path: 'team-state.md', content: '# state' }, { role: 'scribe' }));
    expect(await readFile(path.join(memoryDir, 'run_files', 'team-state.md'), 'utf8')).toBe('# state');
    await expect(stat(path.join(root, 'team-state.md'))).rejects.toThrow();
  });

  it('cannot leave the run memory directory', async () => {
    const result = await call(
      'write_memory',
      { path: '../other-run/x.md', content: 'x' },
      { role: 'scribe' },
    );
    expect(result).toMatchObject({ ok: false, error: { code: 'SANDBOX_VIOLATION' } });
    await expect(stat(path.join(memoryDir, 'other-run'))).rejects.toThrow();
  });

  it('is unavailable without a memory directory', async () => {
    const result = await call(
      'write_memory',
      { path: 'a.md', content: 'x' },
      { role: 'scribe', memoryDir: undefined },
    );
    expect(result).toMatchObject({ ok: false, error: { code: 'TOOL_UNAVAILABLE' } });
  });
});

describe('workspaceForRun', () => {
  it('makes one folder per run', async () => {
    const dir = path.join(base, 'workspaces');
    const a = await workspaceForRun(dir, 'run_a');
    const b = await workspaceForRun(dir, 'run_b');
    expect(a).toBe(path.join(await realpath(dir), 'run_a'));
    expect(a).not.toBe(b);
    expect((await stat(b)).isDirectory()).toBe(true);
  });

  it('uses a folder the task names, which must exist', async () => {
    const named = path.join(base, 'project');
    await mkdir(named);
    expect(await workspaceForRun(path.join(base, 'workspaces'), 'run_c', named)).toBe(named);
    await expect(workspaceForRun(base, 'run_d', path.join(base, 'missing'))).rejects.toBeInstanceOf(
      ValidationError,
    );
  });

  it('refuses a run id that is not one safe path component', async () => {
    for (const bad of ['../x', '..', '.', 'a/b', '', '-rf', 'x\u0000']) {
      await expect(workspaceForRun(base, bad)).rejects.toBeInstanceOf(ValidationError);
    }
  });
});
