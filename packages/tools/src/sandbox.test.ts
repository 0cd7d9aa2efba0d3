// Acceptance (issue 6): ≥ 30 escape attempts, each refused with SandboxViolation, nothing written outside.
import { link, mkdir, mkdtemp, readdir, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { SandboxViolation } from '@nightshift/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { executeToolCall } from './execute.js';
import { resolveInside, type SandboxRule } from './sandbox.js';
import type { ToolContext } from './tool.js';

let base: string;
let root: string;
let sentinel: string;
let outside: string;

function ctx(): ToolContext {
  return {
    role: 'builder',
    runId: 'run_sandbox',
    workspaceRoot: root,
    allowlist: [],
    timeoutMs: 10_000,
    outputCapBytes: 65_536,
    deny: ['gateway', 'cron'],
  };
}

beforeAll(async () => {
  base = await mkdtemp(path.join(tmpdir(), 'ns-sandbox-'));
  root = path.join(base, 'ws');
  sentinel = path.join(base, 'sentinel');
  outside = path.join(base, 'outside');
  await Promise.all([mkdir(root), mkdir(sentinel), mkdir(outside)]);
  await writeFile(path.join(outside, 'secret.txt'), 'secret');
  await writeFile(path.join(outside, 'target.txt'), 'original');
  await mkdir(path.join(root, 'a'));
  await mkdir(path.join(root, 'sub'));
  await writeFile(path.join(root, 'file.txt'), 'inside');
  const links: Array<[string, string]> = [
    ['etc', '/etc'],
    ['passwd', '/etc/passwd'],
    ['up', '..'],
    ['out', sentinel],
    ['c1', 'c2'],
    ['c2', 'c3'],
    ['c3', sentinel],
    ['dangling', path.join(sentinel, 'new.txt')],
    ['dl2', 'dl3'],
    ['dl3', '../sentinel/new2.txt'],
    ['secret', path.join(outside, 'secret.txt')],
    ['target', path.join(outside, 'target.txt')],
    ['loop1', 'loop2'],
    ['loop2', 'loop1'],
    ['a/deep', '../../sentinel'],
    ['baselink', base],
    ['relup', 'a/../..'],
    // Lexically `a/deep/..` is `a` (inside); the kernel follows a/deep first, then `..` — the base dir.
    ['s', 'a/deep/..'],
    ['inlink', 'sub'],
  ];
  for (const [name, target] of links) await symlink(target, path.join(root, name));
  await link(path.join(outside, 'target.txt'), path.join(root, 'hl'));
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

type Tool = 'read_file' | 'write_file' | 'edit_file' | 'list_files' | 'search_files';
interface Attempt {
  what: string;
  tool: Tool;
  path: () => string;
  rule: SandboxRule;
}

const access = (tool: Tool) => (tool === 'write_file' || tool === 'edit_file' ? 'write' : 'read');
const p = (value: string) => () => value;

const ATTEMPTS: Attempt[] = [
  { what: 'parent', tool: 'write_file', path: p('../x'), rule: 'dotdot-escape' },
  { what: 'two up to /etc', tool: 'read_file', path: p('../../etc/passwd'), rule: 'dotdot-escape' },
  { what: 'absolute /etc/passwd', tool: 'read_file', path: p('/etc/passwd'), rule: 'absolute-outside' },
  { what: 'down then up twice', tool: 'write_file', path: p('a/../../x'), rule: 'dotdot-escape' },
  { what: 'dots and dot-dots', tool: 'write_file', path: p('./a/./../../x'), rule: 'dotdot-escape' },
  { what: 'bare ..', tool: 'list_files', path: p('..'), rule: 'dotdot-escape' },
  { what: 'trailing slash ../', tool: 'list_files', path: p('../'), rule: 'dotdot-escape' },
  {
    what: 'into the sibling sentinel',
    tool: 'write_file',
    path: p('../sentinel/pwned'),
    rule: 'dotdot-escape',
  },
  { what: 'out and back out', tool: 'write_file', path: () => `../ws/../sentinel/x`, rule: 'dotdot-escape' },
  {
    what: 'absolute sentinel',
    tool: 'write_file',
    path: () => path.join(sentinel, 'pwned'),
    rule: 'absolute-outside',
  },
  {
    what: 'absolute via root/..',
    tool: 'write_file',
    path: () => `${root}/../sentinel/x`,
    rule: 'absolute-outside',
  },
  { what: 'filesystem root', tool: 'list_files', path: p('/'), rule: 'absolute-outside' },
  { what: 'double slash', tool: 'read_file', path: p('//etc/passwd'), rule: 'absolute-outside' },
  { what: '/..', tool: 'list_files', path: p('/..'), rule: 'absolute-outside' },
  { what: 'NUL inside a name', tool: 'write_file', path: p('x\u0000.txt'), rule: 'nul-byte' },
  { what: 'NUL then dot-dots', tool: 'read_file', path: p('a/\u0000/../../x'), rule: 'nul-byte' },
  { what: 'newline in a name', tool: 'write_file', path: p('a\nb'), rule: 'control-character' },
  { what: 'dir symlink to /etc', tool: 'read_file', path: p('etc/passwd'), rule: 'symlink-escape' },
  { what: 'file symlink to /etc/passwd', tool: 'read_file', path: p('passwd'), rule: 'symlink-escape' },
  {
    what: 'symlink to parent, write',
    tool: 'write_file',
    path: p('up/sentinel/pwned'),
    rule: 'symlink-escape',
  },
  { what: 'symlink to parent, list', tool: 'list_files', path: p('up'), rule: 'symlink-escape' },
  { what: 'dir symlink, write through', tool: 'write_file', path: p('out/pwned'), rule: 'symlink-escape' },
  {
    what: 'dir symlink, mkdir through',
    tool: 'write_file',
    path: p('out/sub/deep.txt'),
    rule: 'symlink-escape',
  },
  { what: 'dir symlink, search', tool: 'search_files', path: p('out'), rule: 'symlink-escape' },
  { what: 'symlink chain', tool: 'write_file', path: p('c1/pwned'), rule: 'symlink-escape' },
  { what: 'dangling symlink to outside', tool: 'write_file', path: p('dangling'), rule: 'symlink-escape' },
  { what: 'dangling relative chain', tool: 'write_file', path: p('dl2'), rule: 'symlink-escape' },
  { what: 'symlink to outside file', tool: 'read_file', path: p('secret'), rule: 'symlink-escape' },
  { what: 'edit through symlink', tool: 'edit_file', path: p('target'), rule: 'symlink-escape' },
  { what: 'symlink loop', tool: 'write_file', path: p('loop1/x'), rule: 'symlink-loop' },
  {
    what: 'relative symlink in a subdir',
    tool: 'write_file',
    path: p('a/deep/pwned'),
    rule: 'symlink-escape',
  },
  {
    what: 'absolute symlink to base',
    tool: 'write_file',
    path: p('baselink/sentinel/x'),
    rule: 'symlink-escape',
  },
  { what: 'symlink target with ..', tool: 'write_file', path: p('relup/sentinel/x'), rule: 'symlink-escape' },
  {
    what: 'symlink target: link then ..',
    tool: 'write_file',
    path: p('s/sentinel/x'),
    rule: 'symlink-escape',
  },
  {
    what: 'path > 4096 bytes',
    tool: 'write_file',
    path: () => `${'a/'.repeat(2100)}x`,
    rule: 'path-too-long',
  },
  {
    what: 'component > 255 bytes',
    tool: 'write_file',
    path: () => 'a'.repeat(256),
    rule: 'component-too-long',
  },
  {
    what: 'component > 255 bytes (UTF-8)',
    tool: 'write_file',
    path: () => 'é'.repeat(128),
    rule: 'component-too-long',
  },
  { what: '~/.ssh/id_rsa', tool: 'read_file', path: p('~/.ssh/id_rsa'), rule: 'home-relative' },
  { what: '~root', tool: 'write_file', path: p('~root/.ssh/authorized_keys'), rule: 'home-relative' },
  { what: 'Windows ..\\..\\x', tool: 'write_file', path: p('..\\..\\x'), rule: 'backslash' },
  { what: 'git hook', tool: 'write_file', path: p('.git/hooks/pre-commit'), rule: 'git-internals' },
  { what: 'nested .git config', tool: 'write_file', path: p('sub/.git/config'), rule: 'git-internals' },
  {
    what: '.GIT (case-folding filesystems)',
    tool: 'write_file',
    path: p('.GIT/config'),
    rule: 'git-internals',
  },
  { what: 'hard link to outside file', tool: 'write_file', path: p('hl'), rule: 'hard-link' },
  { what: 'empty path', tool: 'read_file', path: p(''), rule: 'not-a-path' },
];

function argsFor(tool: Tool, target: string): Record<string, unknown> {
  switch (tool) {
    case 'read_file':
      return { path: target };
    case 'write_file':
      return { path: target, content: 'pwned' };
    case 'edit_file':
      return { path: target, old: 'original', new: 'pwned' };
    case 'list_files':
      return { path: target };
    case 'search_files':
      return { path: target, pattern: '.' };
  }
}

describe('sandbox escape attempts', () => {
  it('has at least 30 of them', () => {
    expect(ATTEMPTS.length).toBeGreaterThanOrEqual(30);
  });

  it.each(ATTEMPTS)('refuses $what ($tool)', async ({ tool, path: target, rule }) => {
    const requested = target();
    const error = await resolveInside(root, requested, access(tool)).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SandboxViolation);
    expect((error as SandboxViolation).details).toMatchObject({ rule, path: requested });

    const result = await executeToolCall({ name: tool, arguments: argsFor(tool, requested) }, ctx());
    // '' fails the tool's own schema first; everything else reaches the sandbox.
    const code = requested === '' ? 'INVALID_ARGUMENTS' : 'SANDBOX_VIOLATION';
    expect(result).toMatchObject({ ok: false, error: { code } });
  });

  it('wrote nothing outside the workspace', async () => {
    expect(await readdir(sentinel)).toEqual([]);
    expect((await readdir(base)).sort()).toEqual(['outside', 'sentinel', 'ws']);
    expect((await readdir(outside)).sort()).toEqual(['secret.txt', 'target.txt']);
    expect(await readFile(path.join(outside, 'target.txt'), 'utf8')).toBe('original');
    expect(await readFile(path.join(outside, 'secret.txt'), 'utf8')).toBe('secret');
  });

  it('does not put host paths of the symlink target in the tool error', async () => {
    const result = await executeToolCall({ name: 'read_file', arguments: { path: 'secret' } }, ctx());
    expect(result.ok).toBe(false);
    if (!result.ok) expect(result.error.message).not.toContain(outside);
  });
});

describe('names that look dangerous but stay inside', () => {
  const INSIDE: Array<{ requested: () => string; lands: string }> = [
    { requested: p('%2e%2e/x'), lands: '%2e%2e/x' },
    { requested: p('..%2fx'), lands: '..%2fx' },
    { requested: p('%2e%2e%2fetc%2fpasswd'), lands: '%2e%2e%2fetc%2fpasswd' },
    { requested: p('-rf'), lands: '-rf' },
    { requested: p('--help'), lands: '--help' },
    { requested: p('...'), lands: '...' },
    { requested: p('.. '), lands: '.. ' },
    { requested: p('x..y'), lands: 'x..y' },
    { requested: p('a/../b.txt'), lands: 'b.txt' },
    { requested: p('./c.txt'), lands: 'c.txt' },
    { requested: () => path.join(root, 'abs.txt'), lands: 'abs.txt' },
    { requested: p('../ws/back.txt'), lands: 'back.txt' },
    { requested: p('inlink/f.txt'), lands: 'sub/f.txt' },
    { requested: p('.gitignore'), lands: '.gitignore' },
    { requested: p('.github/workflows/ci.yml'), lands: '.github/workflows/ci.yml' },
    { requested: () => 'a'.repeat(255), lands: 'a'.repeat(255) },
  ];

  it.each(INSIDE)('writes $lands literally inside the workspace', async ({ requested, lands }) => {
    const result = await executeToolCall(
      { name: 'write_file', arguments: { path: requested(), content: 'ok' } },
      ctx(),
    );
    expect(result).toMatchObject({ ok: true, data: { path: lands } });
    expect(await readFile(path.join(root, lands), 'utf8')).toBe('ok');
  });

  it('still wrote nothing outside', async () => {
    expect(await readdir(sentinel)).toEqual([]);
    expect((await readdir(base)).sort()).toEqual(['outside', 'sentinel', 'ws']);
    await expect(stat(path.join(base, 'x'))).rejects.toThrow();
  });
});
