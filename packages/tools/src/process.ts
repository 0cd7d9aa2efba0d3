// Spawns one process without a shell, in its own process group, with a deadline, an output cap and a
// clean env. Only runner.ts calls it: every command and git call goes through the OS sandbox there.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { sandboxHomePrefix } from './leftovers.js';
import { isErrno, ToolFailure } from './result.js';

export interface ProcessResult {
  exitCode: number | null;
  signal: NodeJS.Signals | null;
  timedOut: boolean;
  stdout: string;
  stderr: string;
  /** Either stream went past the cap and had its middle cut out. */
  truncated: boolean;
  durationMs: number;
  /** What the child wrote to fd 3, when `statusFd` asked for it (bwrap's --json-status-fd). */
  status?: string;
}

export interface ProcessOptions {
  cwd: string;
  env: Record<string, string>;
  timeoutMs: number;
  /** Cap on each of stdout and stderr, in bytes. */
  outputCapBytes: number;
  signal?: AbortSignal | undefined;
  /** Open a pipe on the child's fd 3 and return what it wrote as `status`. */
  statusFd?: boolean | undefined;
}

/** Keeps the first and last halves of a stream: errors tend to come first, summaries last. */
class CappedOutput {
  private readonly head: Buffer[] = [];
  private headBytes = 0;
  private tail: Buffer = Buffer.alloc(0);
  private total = 0;
  private readonly headCap: number;
  private readonly tailCap: number;

  constructor(cap: number) {
    this.headCap = Math.ceil(cap / 2);
    this.tailCap = cap - this.headCap;
  }

  push(chunk: Buffer): void {
    this.total += chunk.length;
    let rest = chunk;
    if (this.headBytes < this.headCap) {
      const take = rest.subarray(0, this.headCap - this.headBytes);
      this.head.push(take);
      this.headBytes += take.length;
      rest = rest.subarray(take.length);
    }
    if (rest.length > 0 && this.tailCap > 0) {
      const joined = Buffer.concat([this.tail, rest]);
      this.tail = joined.subarray(Math.max(0, joined.length - this.tailCap));
    }
  }

  get truncated(): boolean {
    return this.total > this.headCap + this.tailCap;
  }

  text(): string {
    const head = Buffer.concat(this.head).toString('utf8');
    if (!this.truncated) return head + this.tail.toString('utf8');
    const dropped = this.total - this.headBytes - this.tail.length;
    return `${head}\n[… ${dropped} bytes of output truncated …]\n${this.tail.toString('utf8')}`;
  }
}

/** SIGKILL every process in the group led by the child; a group already gone is fine. */
function killGroup(child: ChildProcess): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch (error) {
    if (isErrno(error, 'ESRCH')) return;
    // Not our group after all (should not happen): at least stop the child we started.
    child.kill('SIGKILL');
  }
}

export function runProcess(
  file: string,
  args: readonly string[],
  options: ProcessOptions,
): Promise<ProcessResult> {
  const started = performance.now();
  return new Promise((resolve, reject) => {
    // shell: false — argv goes to execve as is; detached: true — the child leads a new process group,
    // so a timeout can kill everything it started (test runners fork workers), not just the leader.
    const child = spawn(file, [...args], {
      cwd: options.cwd,
      env: options.env,
      shell: false,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe', options.statusFd === true ? 'pipe' : 'ignore'],
      windowsHide: true,
    });
    const status: Buffer[] = [];
    child.stdio[3]?.on('data', (chunk: Buffer) => status.push(chunk));
    const stdout = new CappedOutput(options.outputCapBytes);
    const stderr = new CappedOutput(options.outputCapBytes);
    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => stderr.push(chunk));
    let timedOut = false;
    let settled = false;
    const timer = setTimeout(() => {
      timedOut = true;
      killGroup(child);
    }, options.timeoutMs);
    const onAbort = (): void => killGroup(child);
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const cleanup = (): void => {
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    };
    child.once('error', (error) => {
      if (settled) return;
      cleanup();
      killGroup(child);
      reject(isErrno(error, 'ENOENT') ? new ToolFailure(`command not found: ${file}`) : error);
    });
    // When the leader exits, sweep the rest of its group: nothing it started may outlive the
    // command, and a straggler holding the pipes open would otherwise delay 'close' forever.
    child.once('exit', () => killGroup(child));
    child.once('close', (code, signal) => {
      if (settled) return;
      cleanup();
      resolve({
        ...(options.statusFd === true ? { status: Buffer.concat(status).toString('utf8') } : {}),
        exitCode: code,
        signal,
        timedOut,
        stdout: stdout.text(),
        stderr: stderr.text(),
        truncated: stdout.truncated || stderr.truncated,
        durationMs: Math.round(performance.now() - started),
      });
    });
  });
}

/**
 * The host's PATH and LANG, passed through to child processes (binary lookup and locale, not
 * configuration). The agent's main.ts reads them from its environment; library code never does.
 */
export interface HostEnv {
  path?: string | undefined;
  lang?: string | undefined;
}

export interface CleanEnvOptions extends HostEnv {
  home: string;
  extra?: Record<string, string> | undefined;
}

/** Only what a test run needs: no API keys, no REDIS_URL, no tokens from the parent (issue 6 §1). */
export function cleanEnv(options: CleanEnvOptions): Record<string, string> {
  return {
    PATH: options.path ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: options.home,
    LANG: options.lang ?? 'C.UTF-8',
    CI: '1',
    NODE_ENV: 'test',
    ...options.extra,
  };
}

/**
 * Runs `body` with a fresh, empty HOME that is removed afterwards (npm caches, git config lookups).
 * Its name carries its maker (leftovers.ts): a process killed mid-command leaves it, and the next
 * agent or Director to start removes it once that maker is known gone (issue 21 §4).
 */
export async function withTempHome<T>(body: (home: string) => Promise<T>): Promise<T> {
  const home = await mkdtemp(sandboxHomePrefix());
  try {
    return await body(home);
  } finally {
    await rm(home, { recursive: true, force: true });
  }
}
