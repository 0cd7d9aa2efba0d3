// The one way a tool starts a child process (run_command, git): inside the OS sandbox, or — only
// when the configuration says `tools.sandbox: off` — unconfined with a clean env (issue 17).
//
// Fail closed: when bubblewrap is missing or cannot create its namespaces, nothing runs and the
// caller gets SandboxUnavailable with the fix; there is no silent fallback to running unconfined.
import { SandboxUnavailable } from '@nightshift/protocol';
import {
  binariesView,
  bwrapArgs,
  DEFAULT_SANDBOX_LIMITS,
  SANDBOX_HOME,
  type SandboxLimits,
  which,
} from './bwrap.js';
import { createPidsCgroup, enterCgroupArgv, pidsCgroupParent, removePidsCgroup } from './pids-limit.js';
import { cleanEnv, type HostEnv, type ProcessResult, runProcess, withTempHome } from './process.js';

export const SANDBOX_MODES = ['on', 'off'] as const;
export type SandboxMode = (typeof SANDBOX_MODES)[number];

/** config.tools.sandbox and what tests override; every field has a safe default. */
export interface SandboxSettings {
  /** `off` runs commands unconfined: only by explicit configuration (TOOLS_SANDBOX=off). */
  mode?: SandboxMode | undefined;
  /** The bwrap binary; default: found on the host PATH, else /usr/bin/bwrap. */
  bwrapPath?: string | undefined;
  limits?: Partial<SandboxLimits> | undefined;
}

export const SANDBOX_FIX = {
  install:
    'install bubblewrap (Debian/Ubuntu: apt-get install bubblewrap; Fedora: dnf install bubblewrap), ' +
    'or set TOOLS_SANDBOX=off to run commands unconfined (not recommended)',
  namespaces:
    'allow unprivileged user namespaces (sysctl kernel.unprivileged_userns_clone=1; on Ubuntu 24.04+ ' +
    'kernel.apparmor_restrict_unprivileged_userns=0 or an AppArmor profile for bwrap); in a container, ' +
    "a seccomp profile that allows clone/unshare/mount/pivot_root, AppArmor unconfined and an unmasked /proc (see docs/security.md 'Containers'); " +
    'or set TOOLS_SANDBOX=off to run commands unconfined (not recommended)',
  prlimit: 'install util-linux (it provides prlimit, which sets the sandbox limits)',
} as const;

export interface ConfinedOptions {
  /** The run's workspace, a real path: the command's cwd and the only writable host directory. */
  workspace: string;
  timeoutMs: number;
  outputCapBytes: number;
  signal?: AbortSignal | undefined;
  /** The host's PATH (where node, npm, git are found) and LANG. */
  host?: HostEnv | undefined;
  /** Variables the command needs besides PATH, HOME, LANG, CI, NODE_ENV (git's GIT_* settings). */
  env?: Record<string, string> | undefined;
  sandbox?: SandboxSettings | undefined;
}

export interface ConfinedResult extends ProcessResult {
  sandboxed: boolean;
}

/** Programs whose directories the sandbox shows, besides the command itself. */
const TOOLCHAIN = ['node', 'npm', 'npx', 'git', 'sh'];

function limitsOf(settings: SandboxSettings | undefined): SandboxLimits {
  return { ...DEFAULT_SANDBOX_LIMITS, ...settings?.limits };
}

function findBwrap(settings: SandboxSettings | undefined, host: HostEnv | undefined): string {
  const found =
    settings?.bwrapPath !== undefined
      ? which(settings.bwrapPath, '')
      : which('bwrap', `${host?.path ?? ''}:/usr/bin:/bin:/usr/local/bin`);
  if (found === undefined) {
    const where = settings?.bwrapPath ?? 'bwrap';
    throw new SandboxUnavailable(
      `the command sandbox is unavailable: ${where} not found`,
      SANDBOX_FIX.install,
    );
  }
  return found;
}

/** Runs `file args` in the workspace: sandboxed unless settings.mode is 'off'. */
export async function runConfined(
  file: string,
  args: readonly string[],
  o: ConfinedOptions,
): Promise<ConfinedResult> {
  const base = { timeoutMs: o.timeoutMs, outputCapBytes: o.outputCapBytes, signal: o.signal };
  if (o.sandbox?.mode === 'off') {
    const result = await withTempHome((home) =>
      runProcess(file, args, {
        ...base,
        cwd: o.workspace,
        env: cleanEnv({ home, ...o.host, extra: o.env }),
      }),
    );
    return { ...result, sandboxed: false };
  }
  const bwrap = findBwrap(o.sandbox, o.host);
  const prlimit = which('prlimit', '/usr/bin:/bin');
  if (prlimit === undefined)
    throw new SandboxUnavailable(
      'the command sandbox is unavailable: prlimit not found',
      SANDBOX_FIX.prlimit,
    );
  const limits = limitsOf(o.sandbox);
  const view = binariesView([file, ...TOOLCHAIN], o.host?.path);
  const env = cleanEnv({ home: SANDBOX_HOME, path: view.childPath, lang: o.host?.lang, extra: o.env });
  const argv = [
    '--json-status-fd',
    '3',
    ...bwrapArgs({ workspace: o.workspace, readOnly: view.readOnly, env, limits, prlimit }, file, args),
  ];
  const parent = pidsCgroupParent();
  const cgroup = parent === undefined ? undefined : await createPidsCgroup(parent, limits.processes);
  try {
    const [spawnFile, spawnArgs] =
      cgroup === undefined ? [bwrap, argv] : ['/bin/sh', enterCgroupArgv(cgroup, [bwrap, ...argv])];
    const result = await runProcess(spawnFile, spawnArgs, {
      ...base,
      cwd: o.workspace,
      env: { PATH: '/usr/bin:/bin' },
      statusFd: true,
    });
    // bwrap reports the child's pid on fd 3 once the sandbox is set up; without it, the sandbox
    // itself failed (namespaces refused, a mount denied), and bwrap's stderr says why.
    const stopped = result.timedOut || o.signal?.aborted === true; // killed before it could report
    if (!stopped && !result.status?.includes('"child-pid"')) {
      const why = result.stderr.trim().split('\n')[0] ?? `exit code ${result.exitCode}`;
      throw new SandboxUnavailable(
        `the command sandbox could not start (${why || `exit code ${result.exitCode}`})`,
        SANDBOX_FIX.namespaces,
      );
    }
    const { status: _status, ...rest } = result;
    return { ...rest, sandboxed: true };
  } finally {
    if (cgroup !== undefined) await removePidsCgroup(cgroup);
  }
}

/** How the sandbox limits processes here: a cgroup, RLIMIT_NPROC, or (as root without a cgroup) nothing. */
export function processLimitMechanism(isRoot: boolean): 'cgroup pids.max' | 'RLIMIT_NPROC' | 'none' {
  if (pidsCgroupParent() !== undefined) return 'cgroup pids.max';
  return isRoot ? 'none' : 'RLIMIT_NPROC';
}

export interface SandboxReport {
  available: boolean;
  mode: SandboxMode;
  mechanism: string;
  limits: SandboxLimits & { processLimit: string };
  reason?: string;
  fix?: string;
}

/** Starts `true` in the sandbox once: what preflight and service starts report. */
export async function probeSandbox(o: {
  settings?: SandboxSettings | undefined;
  host?: HostEnv | undefined;
  workspace: string;
  isRoot: boolean;
}): Promise<SandboxReport> {
  const mode = o.settings?.mode ?? 'on';
  const limits = { ...limitsOf(o.settings), processLimit: processLimitMechanism(o.isRoot) };
  if (mode === 'off')
    return { available: false, mode, mechanism: 'none (TOOLS_SANDBOX=off: commands run unconfined)', limits };
  try {
    await runConfined('true', [], {
      workspace: o.workspace,
      timeoutMs: 10_000,
      outputCapBytes: 4096,
      host: o.host,
      sandbox: o.settings,
    });
    const bwrap = findBwrap(o.settings, o.host);
    return { available: true, mode, mechanism: `bubblewrap (${bwrap})`, limits };
  } catch (error) {
    if (!(error instanceof SandboxUnavailable)) throw error;
    return { available: false, mode, mechanism: 'bubblewrap', limits, reason: error.message, fix: error.fix };
  }
}
