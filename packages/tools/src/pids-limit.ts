// A cgroup with pids.max around one confined command, when this process may create one.
//
// Why a cgroup and not only RLIMIT_NPROC: the kernel never applies RLIMIT_NPROC to processes whose
// real uid on the host is root (copy_process exempts INIT_USER), and a user namespace does not
// change that, because its uid still maps to host root. An agent running as root (a container, a
// CI box) would let a fork bomb take the machine. A pids cgroup counts every task in it whoever
// owns it. Measured on this project's CI box (root, cgroup v1 pids writable): the cgroup stops a
// fork bomb at pids.max; RLIMIT_NPROC alone let 100 of 50 allowed processes start.
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { readFile, rmdir, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { isErrno } from './result.js';

const CGROUP_ROOT = '/sys/fs/cgroup';

/** The directory of this process's own pids cgroup (v1 `pids` or v2 with pids delegated), if any. */
function ownPidsCgroup(): string | undefined {
  let lines: string[];
  try {
    lines = readFileSync('/proc/self/cgroup', 'utf8').split('\n');
  } catch (error) {
    if (isErrno(error)) return undefined; // not Linux, or /proc hidden
    throw error;
  }
  for (const line of lines) {
    const [, controllers = '', where = ''] = line.split(':');
    if (controllers.split(',').includes('pids')) return path.join(CGROUP_ROOT, 'pids', where);
  }
  const unified = lines.find((l) => l.startsWith('0::'));
  if (unified === undefined) return undefined;
  const dir = path.join(CGROUP_ROOT, unified.slice(3));
  try {
    const delegated = readFileSync(path.join(dir, 'cgroup.subtree_control'), 'utf8');
    return delegated.split(/\s+/).includes('pids') ? dir : undefined;
  } catch (error) {
    if (isErrno(error)) return undefined;
    throw error;
  }
}

let probed: { parent: string | undefined } | undefined;

/**
 * Where per-command pids cgroups can be created: tried once per process by creating (and removing)
 * one. Undefined when cgroups are read-only here (the usual case inside a container).
 */
export function pidsCgroupParent(): string | undefined {
  if (probed !== undefined) return probed.parent;
  probed = { parent: undefined };
  const parent = ownPidsCgroup();
  if (parent === undefined) return undefined;
  const probe = path.join(parent, `nightshift-probe-${process.pid}`);
  try {
    mkdirSync(probe);
    try {
      if (existsSync(path.join(probe, 'pids.max'))) {
        writeFileSync(path.join(probe, 'pids.max'), '1');
        probed.parent = parent;
      }
    } finally {
      rmdirSync(probe);
    }
  } catch (error) {
    if (!isErrno(error)) throw error; // EACCES, EROFS, EBUSY: no cgroup here, RLIMIT_NPROC it is
  }
  if (probed.parent !== undefined) removeStale(probed.parent);
  return probed.parent;
}

const STALE_MS = 60 * 60_000;

/**
 * An agent killed with SIGKILL never removes its command's cgroup (its processes are gone:
 * the pid namespace took them). Empty ones older than an hour are removed at the next start;
 * younger ones may belong to a command another agent is just starting.
 */
function removeStale(parent: string): void {
  for (const name of readdirSync(parent)) {
    if (!name.startsWith('nightshift-')) continue;
    const dir = path.join(parent, name);
    try {
      if (Date.now() - statSync(dir).mtimeMs < STALE_MS) continue;
      if (readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').trim() !== '') continue;
      rmdirSync(dir);
    } catch (error) {
      if (!isErrno(error)) throw error; // removed meanwhile, or busy again: leave it
    }
  }
}

/** Creates a fresh cgroup under `parent` allowing `max` tasks; returns its directory. */
export async function createPidsCgroup(parent: string, max: number): Promise<string> {
  const dir = path.join(parent, `nightshift-${randomBytes(6).toString('hex')}`);
  mkdirSync(dir);
  await writeFile(path.join(dir, 'pids.max'), String(max));
  return dir;
}

/**
 * Kills whatever is still in the cgroup and removes it. The pid namespace normally took every
 * task with it already; this is the second fence, and a cgroup left behind would leak.
 */
export async function removePidsCgroup(dir: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const procs = (await readFile(path.join(dir, 'cgroup.procs'), 'utf8').catch(() => ''))
      .split('\n')
      .filter((p) => p !== '');
    for (const pid of procs) {
      try {
        process.kill(Number(pid), 'SIGKILL');
      } catch (error) {
        if (!isErrno(error, 'ESRCH')) throw error;
      }
    }
    try {
      await rmdir(dir);
      return;
    } catch (error) {
      if (isErrno(error, 'ENOENT')) return;
      if (!isErrno(error, 'EBUSY')) throw error;
    }
    await new Promise((r) => setTimeout(r, 20)); // tasks still exiting
  }
}

/** The sh prelude that moves itself into the cgroup and then execs bwrap: no fork escapes the count. */
export function enterCgroupArgv(dir: string, argv: readonly string[]): string[] {
  return ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', dir, ...argv];
}
