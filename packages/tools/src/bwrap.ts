// The bubblewrap command line for one confined command: what of the host the child sees, and nothing else.
//
// Why bubblewrap, used directly: it is the small, well-kept setuid-free tool that Flatpak and
// Claude Code's sandbox-runtime build on; it needs no JS dependency and no daemon, and it does the
// namespace and mount work we would otherwise write (and get wrong) ourselves. sandbox-runtime adds
// a filtering network proxy, which we do not need: the network is simply off (issue 17 §2).
import { existsSync, realpathSync, statSync } from 'node:fs';
import * as path from 'node:path';

/** The sandbox's own HOME (a private tmpfs); nothing of the host's home is visible. */
export const SANDBOX_HOME = '/home/nightshift';
/** The uid/gid the command has inside its user namespace: never root, whoever runs the agent. */
export const SANDBOX_UID = 1000;

export interface SandboxLimits {
  /** RLIMIT_CPU of each process, seconds. */
  cpuSeconds: number;
  /** RLIMIT_AS of each process, bytes (a runaway allocation fails instead of swapping the host). */
  addressSpaceBytes: number;
  /** RLIMIT_FSIZE, bytes: the largest file the command may write. */
  fileSizeBytes: number;
  /** Processes and threads: cgroup pids.max when writable, else RLIMIT_NPROC in the user namespace. */
  processes: number;
  /** Size of each private tmpfs (/tmp, HOME), bytes: they live in memory. */
  tmpfsBytes: number;
}

const GiB = 1024 ** 3;
export const DEFAULT_SANDBOX_LIMITS: Readonly<SandboxLimits> = Object.freeze({
  cpuSeconds: 300,
  addressSpaceBytes: 4 * GiB,
  fileSizeBytes: 1 * GiB,
  processes: 512,
  tmpfsBytes: 512 * 1024 ** 2,
});

// Read-only system trees. /bin, /lib… are symlinks into /usr on merged-/usr systems and are
// recreated as such; where they are real directories they are bound.
const SYSTEM_DIRS = ['/usr', '/bin', '/sbin', '/lib', '/lib32', '/lib64', '/libx32'];

// Only the /etc files programs need to start, resolve names and verify TLS. Not /etc as a whole:
// it holds shadow, gshadow, ssh host keys, sudoers and tool configs that may carry tokens (npmrc).
const ETC_FILES = [
  'passwd',
  'group',
  'nsswitch.conf',
  'hosts',
  'host.conf',
  'localtime',
  'timezone',
  'ld.so.cache',
  'ld.so.conf',
  'ld.so.conf.d',
  'alternatives',
  'ssl',
  'ca-certificates',
  'ca-certificates.conf',
  'os-release',
  'mime.types',
];

export interface BwrapPolicy {
  /** The run's workspace (a real path): the only host directory the command may write. */
  workspace: string;
  /** Host directories to show read-only besides the system ones (where node, npm, git live). */
  readOnly: readonly string[];
  env: Record<string, string>;
  limits: SandboxLimits;
  /** prlimit(1) from util-linux, which sets the rlimits and then execs the command. */
  prlimit: string;
}

function isSymlink(p: string): boolean {
  try {
    return realpathSync(p) !== p;
  } catch {
    return false; // missing: nothing to bind
  }
}

/** True when `dir` is `root` or inside it. */
export function isInside(dir: string, root: string): boolean {
  return dir === root || dir.startsWith(root.endsWith('/') ? root : `${root}/`);
}

/** The bwrap argv (without the bwrap binary) that runs `file args` under the policy. */
export function bwrapArgs(policy: BwrapPolicy, file: string, args: readonly string[]): string[] {
  const out = [
    // Own user, pid, net, ipc, uts and cgroup namespaces: no other process is visible or
    // signalable, only a loopback network exists, and the command is never root on the host.
    '--unshare-all',
    '--unshare-user',
    '--uid',
    String(SANDBOX_UID),
    '--gid',
    String(SANDBOX_UID),
    '--disable-userns',
    '--hostname',
    'nightshift-sandbox',
    '--cap-drop',
    'ALL',
    // SIGKILL of the agent kills the sandbox; setsid keeps the command off the agent's terminal.
    '--die-with-parent',
    '--new-session',
    '--clearenv',
  ];
  for (const dir of SYSTEM_DIRS) {
    if (!existsSync(dir)) continue;
    if (isSymlink(dir)) out.push('--symlink', path.relative('/', realpathSync(dir)), dir);
    else out.push('--ro-bind', dir, dir);
  }
  for (const name of ETC_FILES) out.push('--ro-bind-try', `/etc/${name}`, `/etc/${name}`);
  out.push('--proc', '/proc', '--dev', '/dev');
  const size = String(policy.limits.tmpfsBytes);
  out.push('--size', size, '--tmpfs', '/tmp', '--size', size, '--tmpfs', SANDBOX_HOME);
  // Never a directory holding the workspace: that would show its siblings (other runs).
  const skip = (dir: string): boolean =>
    SYSTEM_DIRS.some((s) => isInside(dir, s)) ||
    isInside(dir, policy.workspace) ||
    isInside(policy.workspace, dir);
  for (const dir of policy.readOnly) if (!skip(dir)) out.push('--ro-bind', dir, dir);
  out.push('--bind', policy.workspace, policy.workspace, '--chdir', policy.workspace);
  for (const [key, value] of Object.entries(policy.env)) out.push('--setenv', key, value);
  const l = policy.limits;
  const rlimits = [
    `--cpu=${l.cpuSeconds}`,
    `--as=${l.addressSpaceBytes}`,
    `--fsize=${l.fileSizeBytes}`,
    '--core=0',
    // Not enforced when the host uid is root (see pids-limit.ts); a cgroup then does the counting.
    `--nproc=${l.processes}`,
  ];
  // The rlimits are set inside the namespaces, so RLIMIT_NPROC counts this sandbox's processes.
  out.push('--', policy.prlimit, ...rlimits, '--', file, ...args);
  return out;
}

/** `name` as the host's PATH finds it, or undefined. */
export function which(name: string, searchPath: string): string | undefined {
  if (name.includes('/')) return existsSync(name) ? path.resolve(name) : undefined;
  for (const dir of searchPath.split(':')) {
    if (!path.isAbsolute(dir)) continue;
    const candidate = path.join(dir, name);
    try {
      if (statSync(candidate).isFile()) return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

const STANDARD_PATH = '/usr/local/bin:/usr/bin:/bin';

/**
 * The child's PATH and the host directories to show read-only so that `programs` (node, npm,
 * git and the command itself) run: the directory each is found in on the host PATH, and its
 * install prefix (`<prefix>/bin/node` → `<prefix>`, where npm's own modules live). Other PATH
 * entries (~/.cargo/bin…) are left out: the child sees no more of the host than it needs.
 */
export function binariesView(
  programs: readonly string[],
  hostPath: string | undefined,
): { childPath: string; readOnly: string[] } {
  const search = hostPath ?? STANDARD_PATH;
  const dirs: string[] = [];
  const readOnly = new Set<string>();
  for (const name of programs) {
    const found = which(name, search);
    if (found === undefined) continue;
    const dir = path.dirname(found);
    if (!dirs.includes(dir)) dirs.push(dir);
    readOnly.add(dir);
    const real = realpathSync(found);
    const prefix = path.dirname(path.dirname(real));
    // Never the root or a top-level directory (/, /home): that would show far more than a tool.
    if (prefix.split('/').filter(Boolean).length >= 2) readOnly.add(prefix);
    else readOnly.add(path.dirname(real));
  }
  for (const dir of STANDARD_PATH.split(':')) if (!dirs.includes(dir)) dirs.push(dir);
  return { childPath: dirs.join(':'), readOnly: [...readOnly] };
}
