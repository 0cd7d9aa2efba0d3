// git: a repository per workspace, commits that name the run, and nothing in the repo can run code.
import { execFileSync } from 'node:child_process';
import { chmod, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeToolCall } from './execute.js';
import { commitAll, commitMessage, ensureGitRepo, gitDiff } from './git.js';
import type { ToolContext } from './tool.js';

let base: string;

function gitOut(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, encoding: 'utf8', env: { PATH: process.env.PATH ?? '' } }).trim();
}

function ctx(root: string): ToolContext {
  return {
    role: 'builder',
    runId: 'run_git42',
    workspaceRoot: root,
    allowlist: [],
    timeoutMs: 60_000,
    outputCapBytes: 65_536,
    deny: ['gateway', 'cron'],
  };
}

async function freshDir(name: string): Promise<string> {
  const dir = path.join(base, name);
  await mkdir(dir, { recursive: true });
  return dir;
}

beforeAll(async () => {
  base = await mkdtemp(path.join(tmpdir(), 'ns-git-'));
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('ensureGitRepo', () => {
  it('initialises once, with a local identity', async () => {
    const root = await freshDir('init');
    expect(await ensureGitRepo(root)).toEqual({ created: true });
    expect(await ensureGitRepo(root)).toEqual({ created: false });
    expect(gitOut(root, 'config', '--local', 'user.email')).toBe('nightshift@localhost');
  });

  it('leaves node_modules out of commit-all', async () => {
    const root = await freshDir('deps');
    await ensureGitRepo(root);
    await mkdir(path.join(root, 'node_modules/pkg'), { recursive: true });
    await writeFile(path.join(root, 'node_modules/pkg/index.js'), 'x');
    await writeFile(path.join(root, 'index.js'), 'y');
    await commitAll(root, 'run_d', 'deps');
    expect(gitOut(root, 'ls-files')).toBe('index.js');
  });

  it('gives a workspace inside another repository its own repository', async () => {
    const outer = await freshDir('outer');
    await ensureGitRepo(outer);
    const inner = await freshDir('outer/run_1');
    expect(await ensureGitRepo(inner)).toEqual({ created: true });
    await writeFile(path.join(inner, 'a.txt'), 'a');
    expect((await commitAll(inner, 'run_1', 'first')).committed).toBe(true);
    expect(() => gitOut(outer, 'rev-parse', '--verify', '--quiet', 'HEAD')).toThrow();
    expect(gitOut(inner, 'log', '--format=%s')).toBe('[run run_1] first');
  });
});

describe('commits through the tools', () => {
  it('write_file then git commit records the files with the run id', async () => {
    const root = await freshDir('tooling');
    const c = ctx(root);
    const write = (p: string, content: string) =>
      executeToolCall({ name: 'write_file', arguments: { path: p, content } }, c);
    expect((await write('src/sum.mjs', 'export const sum = (a, b) => a + b;\n')).ok).toBe(true);
    expect((await write('src/sum.test.mjs', "import './sum.mjs';\n")).ok).toBe(true);
    const status = await executeToolCall({ name: 'git', arguments: { action: 'status' } }, c);
    expect(status).toMatchObject({ ok: true, output: expect.stringContaining('src/sum.mjs') });
    const diff = await executeToolCall({ name: 'git', arguments: { action: 'diff' } }, c);
    expect(diff).toMatchObject({
      ok: true,
      output: expect.stringContaining('untracked files:\nsrc/sum.mjs'),
    });

    const commit = await executeToolCall(
      { name: 'git', arguments: { action: 'commit', message: 'add sum' } },
      c,
    );
    expect(commit).toMatchObject({ ok: true, data: { committed: true, message: '[run run_git42] add sum' } });
    expect(gitOut(root, 'log', '-1', '--format=%B')).toBe('[run run_git42] add sum');
    expect(gitOut(root, 'show', '--name-only', '--format=', 'HEAD').split('\n').sort()).toEqual([
      'src/sum.mjs',
      'src/sum.test.mjs',
    ]);

    const again = await executeToolCall({ name: 'git', arguments: { action: 'commit', message: 'noop' } }, c);
    expect(again).toMatchObject({ ok: true, output: 'nothing to commit', data: { committed: false } });
  });

  it('shows tracked changes since the last commit', async () => {
    const root = path.join(base, 'tooling');
    await writeFile(path.join(root, 'src/sum.mjs'), 'export const sum = (a, b) => b + a;\n');
    const { diff } = await gitDiff(root);
    expect(diff).toContain('+export const sum = (a, b) => b + a;');
  });

  it('requires a message for commit, naming the field', async () => {
    const result = await executeToolCall({ name: 'git', arguments: { action: 'commit' } }, ctx(base));
    expect(result).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENTS' } });
    if (!result.ok) expect(result.error.message).toContain('message');
  });

  it('prefixes the run id once', () => {
    expect(commitMessage('r1', 'x')).toBe('[run r1] x');
    expect(commitMessage('r1', '[run r1] x')).toBe('[run r1] x');
  });
});

describe('no code runs from the repository', () => {
  it('ignores hooks, including a hooksPath set in the repo config', async () => {
    const root = await freshDir('hooks');
    await ensureGitRepo(root);
    const hook = `#!/bin/sh\ntouch "${path.join(root, 'hook-ran')}"\n`;
    for (const dir of ['.git/hooks', 'myhooks']) {
      await mkdir(path.join(root, dir), { recursive: true });
      await writeFile(path.join(root, dir, 'pre-commit'), hook);
      await chmod(path.join(root, dir, 'pre-commit'), 0o755);
    }
    await writeFile(path.join(root, 'f.txt'), 'f');
    expect((await commitAll(root, 'run_h', 'with hooks present')).committed).toBe(true);
    gitOut(root, 'config', '--local', 'core.hooksPath', 'myhooks');
    await writeFile(path.join(root, 'g.txt'), 'g');
    expect((await commitAll(root, 'run_h', 'with hooksPath set')).committed).toBe(true);
    await expect(stat(path.join(root, 'hook-ran'))).rejects.toThrow();
  });
});
