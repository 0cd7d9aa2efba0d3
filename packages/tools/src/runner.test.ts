// The sandboxed runner: fail closed when bubblewrap is missing or refused, unconfined only when
// configured off, and the policy's bwrap command line (issue 17 §1-3).
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { binariesView, bwrapArgs, DEFAULT_SANDBOX_LIMITS } from './bwrap.js';
import { runCommand } from './command.js';
import { executeToolCall } from './execute.js';
import { probeSandbox, runConfined } from './runner.js';
import type { ToolContext } from './tool.js';

let root: string;
let fakeBwrap: string;
const host = { path: process.env.PATH };

beforeAll(() => {
  root = mkdtempSync(path.join(tmpdir(), 'ns-runner-'));
  writeFileSync(
    path.join(root, 'mark.mjs'),
    "import { writeFileSync } from 'node:fs'; writeFileSync('marker', 'ran');\n",
  );
  // Prints whether the pid given on the command line (this test process) is visible.
  writeFileSync(
    path.join(root, 'probe.mjs'),
    "import { existsSync } from 'node:fs';\n" +
      "const seesParent = existsSync('/proc/' + process.argv[2]);\n" +
      'process.stdout.write(JSON.stringify({ seesParent }));\n',
  );
  // What bwrap prints where unprivileged user namespaces are off (a kernel sysctl, or Docker's seccomp).
  fakeBwrap = path.join(mkdtempSync(path.join(tmpdir(), 'ns-fake-bwrap-')), 'bwrap');
  writeFileSync(fakeBwrap, '#!/bin/sh\necho "bwrap: No permissions to create new namespace" >&2\nexit 1\n');
  chmodSync(fakeBwrap, 0o755);
});

afterAll(() => {
  rmSync(root, { recursive: true, force: true });
  rmSync(path.dirname(fakeBwrap), { recursive: true, force: true });
});

const options = (sandbox?: Parameters<typeof runCommand>[1]['sandbox']) => ({
  workspaceRoot: root,
  allowlist: ['node'],
  timeoutMs: 30_000,
  outputCapBytes: 65_536,
  host,
  sandbox,
});

describe('fail closed', () => {
  it('bwrap not found: SANDBOX_UNAVAILABLE with the package to install, and nothing ran', async () => {
    const error = await runCommand(['node', 'mark.mjs'], options({ bwrapPath: '/nonexistent/bwrap' })).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'SANDBOX_UNAVAILABLE', category: 'fatal' });
    expect((error as Error).message).toMatch(/\/nonexistent\/bwrap not found\. Fix: install bubblewrap/);
    expect(existsSync(path.join(root, 'marker'))).toBe(false);
  });

  it('the model gets the same typed error from run_command', async () => {
    const ctx: ToolContext = {
      role: 'inspector',
      runId: 'run_x',
      workspaceRoot: root,
      allowlist: ['node'],
      timeoutMs: 30_000,
      outputCapBytes: 65_536,
      deny: [],
      host,
      sandbox: { bwrapPath: '/nonexistent/bwrap' },
    };
    const result = await executeToolCall(
      { name: 'run_command', arguments: { argv: ['node', 'mark.mjs'] } },
      ctx,
    );
    expect(result).toMatchObject({ ok: false, error: { code: 'SANDBOX_UNAVAILABLE' } });
    expect(existsSync(path.join(root, 'marker'))).toBe(false);
  });

  it('namespaces refused: SANDBOX_UNAVAILABLE naming the sysctl and the container settings', async () => {
    const error = await runCommand(['node', 'mark.mjs'], options({ bwrapPath: fakeBwrap })).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: 'SANDBOX_UNAVAILABLE' });
    expect((error as Error).message).toContain('No permissions to create new namespace');
    expect((error as Error).message).toMatch(/unprivileged_userns_clone.*seccomp/s);
    expect(existsSync(path.join(root, 'marker'))).toBe(false);
  });

  it('preflight probe: available with mechanism and limits, or unavailable with the fix', async () => {
    const ok = await probeSandbox({ workspace: root, host, isRoot: false });
    expect(ok).toMatchObject({
      available: true,
      mode: 'on',
      mechanism: expect.stringMatching(/^bubblewrap/),
    });
    expect(ok.limits).toMatchObject({ ...DEFAULT_SANDBOX_LIMITS });
    const missing = await probeSandbox({
      workspace: root,
      host,
      isRoot: false,
      settings: { bwrapPath: fakeBwrap },
    });
    expect(missing).toMatchObject({ available: false, fix: expect.stringContaining('user namespaces') });
  });
});

describe('TOOLS_SANDBOX=off', () => {
  it('runs unconfined, and says so: the command sees the host processes', async () => {
    const argv = ['probe.mjs', String(process.pid)];
    const off = await runConfined('node', argv, {
      workspace: root,
      timeoutMs: 30_000,
      outputCapBytes: 4096,
      host,
      sandbox: { mode: 'off' },
    });
    expect(off.sandboxed).toBe(false);
    expect(JSON.parse(off.stdout)).toEqual({ seesParent: true });
    const on = await runConfined('node', argv, {
      workspace: root,
      timeoutMs: 30_000,
      outputCapBytes: 4096,
      host,
    });
    expect(on.sandboxed).toBe(true);
    expect(JSON.parse(on.stdout)).toEqual({ seesParent: false });
  });
});

describe('the bwrap command line', () => {
  const policy = (workspace: string, readOnly: string[] = []) => ({
    workspace,
    readOnly,
    env: { PATH: '/usr/bin' },
    limits: { ...DEFAULT_SANDBOX_LIMITS },
    prlimit: '/usr/bin/prlimit',
  });

  it('unshares everything, drops capabilities, dies with its parent, and binds /etc file by file', () => {
    const args = bwrapArgs(policy('/w/run_a'), 'npm', ['test']);
    for (const flag of [
      '--unshare-all',
      '--unshare-user',
      '--disable-userns',
      '--die-with-parent',
      '--new-session',
      '--clearenv',
    ])
      expect(args).toContain(flag);
    expect(args.join(' ')).toContain('--cap-drop ALL');
    expect(args).not.toContain('--share-net');
    expect(args.join(' ')).not.toMatch(/--ro-bind(-try)? \/etc \/etc/);
    expect(args.join(' ')).not.toContain('/etc/shadow');
    expect(args.join(' ')).toContain('--bind /w/run_a /w/run_a --chdir /w/run_a');
    expect(args.slice(-10)).toEqual([
      '--',
      '/usr/bin/prlimit',
      `--cpu=${DEFAULT_SANDBOX_LIMITS.cpuSeconds}`,
      `--as=${DEFAULT_SANDBOX_LIMITS.addressSpaceBytes}`,
      `--fsize=${DEFAULT_SANDBOX_LIMITS.fileSizeBytes}`,
      '--core=0',
      `--nproc=${DEFAULT_SANDBOX_LIMITS.processes}`,
      '--',
      'npm',
      'test',
    ]);
  });

  it('never shows a tool directory that holds the workspace (it would show the other runs)', () => {
    const args = bwrapArgs(policy('/data/ws/run_a', ['/data', '/opt/node/bin']), 'npm', []).join(' ');
    expect(args).not.toContain('--ro-bind /data /data');
    expect(args).toContain('--ro-bind /opt/node/bin /opt/node/bin');
  });

  it("shows where node is found and its install prefix, not the rest of the host's PATH", () => {
    const view = binariesView(['node'], `/nonexistent:${path.dirname(process.execPath)}:/usr/bin`);
    expect(view.childPath.split(':')[0]).toBe(path.dirname(process.execPath));
    expect(view.childPath).not.toContain('/nonexistent');
  });
});
