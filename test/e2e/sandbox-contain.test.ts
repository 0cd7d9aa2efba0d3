// Issue 17 acceptance, part 2: what the sandbox contains rather than hides — a fork bomb, a huge
// allocation or file, a daemon, an agent stopped or killed mid-command, `npm test` without a
// package.json, and git config or symlinks meant to make the agent's own tools run or read code.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  DEFAULT_COMMAND_ALLOWLIST,
  executeToolCall,
  processLimitMechanism,
  runCommand,
  type ToolContext,
} from '@nightshift/tools';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attempt, type EscapeHost, SECRET, startEscapeHost } from './support/escape.js';
import { ROOT } from './support/stack.js';

let host: EscapeHost;
beforeAll(async () => {
  host = await startEscapeHost();
});
afterAll(async () => {
  await host?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Size of a heartbeat file now and `ms` later: equal = whoever appended to it is dead. */
async function beatsStopped(file: string, ms = 300): Promise<boolean> {
  const before = existsSync(file) ? statSync(file).size : 0;
  await sleep(ms);
  return (existsSync(file) ? statSync(file).size : 0) === before;
}

/** Host processes whose command line contains `token` (the sandbox's pids are not the host's). */
function hostProcessesWith(token: string): number {
  return readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return readFileSync(`/proc/${p}/cmdline`, 'utf8').includes(token);
      } catch {
        return false; // gone meanwhile
      }
    }).length;
}

describe('limits', () => {
  it('a fork bomb ends as a failed command, the host unharmed', async () => {
    // Fails (never skips, never bombs the machine) where nothing can count processes.
    expect(
      processLimitMechanism(process.getuid?.() === 0),
      'root without a writable pids cgroup: run the tests as a non-root user',
    ).not.toBe('none');
    const { result } = await attempt(
      host,
      'forkbomb',
      `require('child_process').spawnSync('/bin/sh', ['-c', 'b() { b | b & }; b; sleep 2; echo bomb-survived'], { stdio: 'inherit' });`,
      { timeoutMs: 20_000 },
    );
    expect(result.stderr + result.stdout).toMatch(/[Cc]annot fork|Resource temporarily unavailable/);
    expect(hostProcessesWith('b() { b | b & }')).toBe(0);
  }, 60_000);

  it('the process limit refuses the 513th process with EAGAIN', async () => {
    const { seen } = await attempt(
      host,
      'nproc',
      `const { spawn } = require('child_process'); let ok = 0; const errors = new Set();
      const kids = [];
      for (let i = 0; i < 1000; i++) { const c = spawn('/bin/sleep', ['5']); c.on('error', (e) => errors.add(e.code)); if (c.pid) { ok++; kids.push(c); } }
      setTimeout(() => { kids.forEach((k) => k.kill()); report({ ok, errors: [...errors] }); }, 500);`,
    );
    expect(seen?.errors).toEqual(['EAGAIN']);
    expect(seen?.ok).toBeLessThan(512);
    expect(seen?.ok).toBeGreaterThan(100);
  }, 60_000);

  it('allocating 8 GB fails at the address-space limit (4 GiB)', async () => {
    const { seen } = await attempt(
      host,
      'alloc',
      `const keep = []; let mb = 0;
      try { while (mb < 8192) { keep.push(Buffer.allocUnsafe(256 << 20)); mb += 256; } report({ mb, error: null }); }
      catch (e) { report({ mb, error: e.message }); }`,
    );
    // V8's words differ with where the limit hits (an ArrayBuffer's backing store or the heap's reserve).
    expect(seen?.error).toMatch(/allocation failed|failed to allocate memory/i);
    expect(seen?.mb).toBeLessThan(4096);
  });

  it('writing a 10 GB file fails at the file-size limit (EFBIG), nothing large left on disk', async () => {
    const { seen } = await attempt(
      host,
      'bigfile',
      `const fs = require('fs'); const fd = fs.openSync('huge.bin', 'w');
      report({ at10g: code(() => fs.writeSync(fd, Buffer.from('x'), 0, 1, 10 * 2 ** 30)),
        append: code(() => { for (let i = 0; i < 80; i++) fs.writeSync(fd, Buffer.alloc(16 << 20), 0, 16 << 20, (1 << 30) - (64 << 20) + i * (16 << 20)); }) });`,
    );
    expect(seen).toEqual({ at10g: 'EFBIG', append: 'EFBIG' });
    expect(statSync(join(host.workspace, 'huge.bin')).size).toBeLessThanOrEqual(2 ** 30);
  }, 60_000);

  it('a daemon started by the command dies when the command returns', async () => {
    const beat = join(host.workspace, 'daemon.beat');
    const { result } = await attempt(
      host,
      'daemon',
      `const { spawn } = require('child_process');
      spawn(process.execPath, ['-e', "setInterval(() => require('fs').appendFileSync('daemon.beat', '.'), 20)"],
        { detached: true, stdio: 'ignore' }).unref();
      setTimeout(() => report({ started: require('fs').existsSync('daemon.beat') }), 300);`,
    );
    expect(result.exitCode).toBe(0);
    expect(await beatsStopped(beat)).toBe(true);
  });
});

describe('the agent stopped or killed while its command runs', () => {
  for (const signal of ['SIGTERM', 'SIGKILL'] as const) {
    it(`${signal}: the command's whole tree is gone within a second`, async () => {
      const ws = join(host.base, `agent-${signal}`);
      mkdirSync(ws);
      const token = `ns-tree-${signal}-${Date.now()}`;
      writeFileSync(join(ws, 'package.json'), JSON.stringify({ scripts: { test: 'node tree.cjs' } }));
      writeFileSync(
        join(ws, 'tree.cjs'),
        `const { spawn } = require('child_process');
        spawn(process.execPath, ['-e', "setInterval(() => require('fs').appendFileSync('tree.beat', '.'), 20)", '${token}'], { stdio: 'ignore' });
        setInterval(() => {}, 1000);`,
      );
      const agent: ChildProcess = spawn(
        process.execPath,
        [join(ROOT, 'test', 'e2e', 'support', 'sandbox-agent.mjs'), ws],
        { env: { PATH: process.env.PATH ?? '', ANTHROPIC_API_KEY: SECRET }, stdio: 'ignore' },
      );
      const beat = join(ws, 'tree.beat');
      const deadline = Date.now() + 30_000;
      while (!existsSync(beat) && Date.now() < deadline) await sleep(50);
      expect(existsSync(beat)).toBe(true);
      agent.kill(signal);
      await sleep(1000);
      expect(await beatsStopped(beat)).toBe(true);
      expect(hostProcessesWith(token)).toBe(0);
    }, 60_000);
  }
});

describe('npm test without a package.json', () => {
  it('does not run the package.json of a folder above the workspace', async () => {
    const parent = join(host.base, 'project');
    const ws = join(parent, 'ws');
    mkdirSync(ws, { recursive: true });
    const marker = join(parent, 'PARENT_TEST_RAN');
    writeFileSync(
      join(parent, 'package.json'),
      JSON.stringify({ scripts: { test: `node -e "require('fs').writeFileSync('${marker}', 'x')"` } }),
    );
    const result = await runCommand(['npm', 'test'], {
      workspaceRoot: ws,
      allowlist: DEFAULT_COMMAND_ALLOWLIST,
      timeoutMs: 60_000,
      outputCapBytes: 65_536,
      host: { path: process.env.PATH },
    });
    expect(result.stderr).toMatch(/ENOENT|Could not read package\.json/);
    expect(result.stderr).toContain(join(ws, 'package.json'));
    expect(existsSync(marker)).toBe(false);
  });
});

describe("the agent's own tools", () => {
  const ctx = (role: ToolContext['role']): ToolContext => ({
    role,
    runId: 'run_escape',
    workspaceRoot: host.workspace,
    allowlist: DEFAULT_COMMAND_ALLOWLIST,
    timeoutMs: 60_000,
    outputCapBytes: 65_536,
    deny: [],
    host: { path: process.env.PATH },
  });

  it('a symlink the command made to outside the workspace is not followed by the file tools', async () => {
    const secret = join(host.targets.outside, 'secret.txt');
    writeFileSync(secret, `${SECRET}-outside`);
    await attempt(
      host,
      'symlink',
      `const fs = require('fs'); fs.symlinkSync(${JSON.stringify(secret)}, 'leak.txt');
      fs.symlinkSync(${JSON.stringify(host.targets.outside)}, 'outdir'); report({ made: true });`,
    );
    const read = await executeToolCall(
      { name: 'read_file', arguments: { path: 'leak.txt' } },
      ctx('builder'),
    );
    expect(read).toMatchObject({ ok: false, error: { code: 'SANDBOX_VIOLATION' } });
    const write = await executeToolCall(
      { name: 'write_file', arguments: { path: 'outdir/planted.txt', content: 'x' } },
      ctx('builder'),
    );
    expect(write).toMatchObject({ ok: false, error: { code: 'SANDBOX_VIOLATION' } });
    expect(existsSync(join(host.targets.outside, 'planted.txt'))).toBe(false);
    expect(JSON.stringify([read, write])).not.toContain(SECRET);
  });

  it('a git hook, core.fsmonitor or a clean filter set by the command never runs outside the sandbox', async () => {
    // Commit once so the repository exists, then let the "model" arm everything it can.
    const git = (action: string) =>
      executeToolCall({ name: 'git', arguments: { action, message: 'escape' } }, ctx('builder'));
    const first = await git('commit');
    expect(first, JSON.stringify(first)).toMatchObject({ ok: true });
    const outsideMarker = join(host.targets.outside, 'git-ran');
    // git runs these through sh; no ';' (it starts a comment in git config).
    const payload = `(echo ran > ${outsideMarker} || true) && echo ran > filter-ran && cat`;
    await attempt(
      host,
      'git-arm',
      `const fs = require('fs');
      fs.writeFileSync('.git/hooks/pre-commit', '#!/bin/sh\\necho hook > ${outsideMarker}\\n', { mode: 0o755 });
      fs.appendFileSync('.git/config', ${JSON.stringify(`[core]\n\tfsmonitor = ${payload}\n\thooksPath = .git/hooks\n[filter "evil"]\n\tclean = ${payload}\n`)});
      fs.writeFileSync('.gitattributes', '* filter=evil\\n'); fs.writeFileSync('new.txt', 'x'); report({ armed: true });`,
    );
    for (const action of ['status', 'diff', 'commit']) {
      const result = await git(action);
      expect(result, JSON.stringify(result)).toMatchObject({ ok: true });
    }
    // Hooks and fsmonitor are switched off; the clean filter does run (git has no switch for
    // every filter), but inside the sandbox: it wrote in the workspace, never outside.
    expect(existsSync(outsideMarker)).toBe(false);
    expect(existsSync(join(host.workspace, 'filter-ran'))).toBe(true);
  });
});
