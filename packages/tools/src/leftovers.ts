// Issue 21 §4: what a kill -9 leaves behind, and the sweep that removes it. Two kinds of folder are
// made by one process and removed by it when it is done, so only a process killed in between
// leaves them: a run checkout being built (`<runId>.tmp-<owner>`, run-checkout.ts, renamed into
// place when complete) and a command's private HOME (`nightshift-home-<owner>-XXXXXX` in the temp
// dir, process.ts). `<owner>` is `<host>-<pid>-<creation time, base 36 ms>`.
//
// A process that starts (the Director and every agent: both build checkouts and run commands)
// sweeps both places, and the Director's checkout pruner again on every pass. It removes a folder
// only when its name is one of ours and its maker is known gone:
// - made on another host (a container sharing the volume): never judged by pid — that pid means
//   nothing here — only by age;
// - our own pid but made before this process started: an earlier process (a restarted container
//   keeps its hostname and often its pid);
// - its pid is not alive;
// - its pid is alive but that process started after the folder was made (Linux /proc start time):
//   the pid was reused — in a container pids are small and come back quickly, so a pid check alone
//   would keep such a folder for ever;
// - or it is older than `maxAgeMs` whatever the above says (no /proc, another host, a name of the
//   old form without a host).
// A live process whose pid matches and that started before the folder was made is kept: it may be
// the maker, still at work. Only real directories directly inside the swept folder are removed; a
// symbolic link is never followed (kept as is), and `rm` removes links inside without following them.
import { readFileSync } from 'node:fs';
import { lstat, readdir, rm } from 'node:fs/promises';
import { hostname, tmpdir } from 'node:os';
import * as path from 'node:path';
import { isErrno } from './result.js';

export type LeftoverKind = 'checkout-build' | 'sandbox-home';

/** What a leftover's name says about its maker. `host` is absent in names of the old form. */
export interface LeftoverOwner {
  readonly host?: string;
  readonly pid: number;
  readonly createdAt: number;
}

/** The sweeping process, as the verdict compares it (tests pass their own). */
export interface SweepSelf {
  readonly host: string;
  readonly pid: number;
  /** When this process started (ms). */
  readonly startedAt: number;
  isAlive(pid: number): boolean;
  /** When the process with this pid started (ms), if the system says (Linux /proc). */
  startTimeOf(pid: number): number | undefined;
}

/** Checkouts build in seconds to minutes; an hour is far longer (the pruner's rule before issue 21). */
export const CHECKOUT_BUILD_MAX_AGE_MS = 3_600_000;
/** A command's HOME lives as long as the command: the longest role timeout (900 s) is far below. */
export const SANDBOX_HOME_MAX_AGE_MS = 6 * 3_600_000;
/** /proc start times are exact to 10 ms, the boot time to 1 s: a margin before calling a pid reused. */
const START_SLACK_MS = 2_000;

const HOME_PREFIX = 'nightshift-home-';

/** This host's name as it may appear in a file name. */
export function hostTag(name = hostname()): string {
  return name.replace(/[^A-Za-z0-9.-]/g, '_').slice(0, 64) || 'host';
}

/** `<host>-<pid>-<time>` of this process, now: the owner part of a leftover's name. */
export function ownerTag(now = Date.now()): string {
  return `${hostTag()}-${process.pid}-${now.toString(36)}`;
}

/** The prefix mkdtemp completes into a command's HOME. */
export function sandboxHomePrefix(dir = tmpdir()): string {
  return path.join(dir, `${HOME_PREFIX}${ownerTag()}-`);
}

const OWNER = /^(?:(.+)-)?(\d+)-([0-9a-z]+)$/;

function owner(text: string): LeftoverOwner | undefined {
  const m = OWNER.exec(text);
  if (!m) return undefined;
  const [, host, pidText, time] = m as unknown as [string, string | undefined, string, string];
  const pid = Number(pidText);
  const createdAt = Number.parseInt(time, 36);
  if (!Number.isSafeInteger(pid) || pid <= 0 || !Number.isSafeInteger(createdAt)) return undefined;
  return host === undefined ? { pid, createdAt } : { host, pid, createdAt };
}

/** The maker of a leftover named `name`, or undefined when the name is not one of `kind`'s. */
export function parseLeftover(kind: LeftoverKind, name: string): LeftoverOwner | undefined {
  if (kind === 'checkout-build') {
    const m = /^[A-Za-z0-9_][A-Za-z0-9_.-]*?\.tmp-(.+)$/.exec(name);
    return m?.[1] === undefined ? undefined : owner(m[1]);
  }
  if (!name.startsWith(HOME_PREFIX)) return undefined;
  // mkdtemp appends six characters; a HOME of the old form (`nightshift-home-XXXXXX`) has no owner.
  const m = /^(.+)-[A-Za-z0-9]{6}$/.exec(name.slice(HOME_PREFIX.length));
  return m?.[1] === undefined ? undefined : owner(m[1]);
}

/** Whether a leftover of `owner` may go (see the file header); pure. */
export function leftoverVerdict(
  o: LeftoverOwner,
  self: SweepSelf,
  now: number,
  maxAgeMs: number,
): 'remove' | 'keep' {
  if (now - o.createdAt > maxAgeMs) return 'remove';
  if (o.host !== self.host) return 'keep';
  if (o.pid === self.pid) return o.createdAt < self.startedAt ? 'remove' : 'keep';
  if (!self.isAlive(o.pid)) return 'remove';
  const started = self.startTimeOf(o.pid);
  return started !== undefined && started > o.createdAt + START_SLACK_MS ? 'remove' : 'keep';
}

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return isErrno(error, 'EPERM'); // exists, another user's
  }
}

let bootMs: number | undefined;

/** Linux: a process's start time from /proc (clock ticks since boot at USER_HZ 100, the ABI value). */
export function procStartTime(pid: number): number | undefined {
  try {
    bootMs ??= Number(/^btime (\d+)$/m.exec(readFileSync('/proc/stat', 'utf8'))?.[1]) * 1000;
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces: field 22 is 20th.
    const ticks = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]);
    return Number.isFinite(bootMs) && Number.isFinite(ticks) ? bootMs + ticks * 10 : undefined;
  } catch (error) {
    void error; // no /proc (macOS) or the process just ended: the age rule decides
    return undefined;
  }
}

export function thisSweeper(): SweepSelf {
  return {
    host: hostTag(),
    pid: process.pid,
    startedAt: Date.now() - process.uptime() * 1000,
    isAlive: pidAlive,
    startTimeOf: procStartTime,
  };
}

export interface SweepOptions {
  dir: string;
  kind: LeftoverKind;
  maxAgeMs?: number;
  now?: number;
  self?: SweepSelf;
}

export interface SweepResult {
  removed: string[];
  /** Ours by name, kept: a live maker, another host, or not a directory (a symbolic link). */
  kept: string[];
}

/** One sweep of `dir` for leftovers of `kind`; a missing `dir` is an empty one. */
export async function sweepLeftovers(o: SweepOptions): Promise<SweepResult> {
  const self = o.self ?? thisSweeper();
  const now = o.now ?? Date.now();
  const maxAgeMs =
    o.maxAgeMs ?? (o.kind === 'checkout-build' ? CHECKOUT_BUILD_MAX_AGE_MS : SANDBOX_HOME_MAX_AGE_MS);
  const result: SweepResult = { removed: [], kept: [] };
  let names: string[];
  try {
    names = await readdir(o.dir);
  } catch (error) {
    if (isErrno(error, 'ENOENT', 'ENOTDIR')) return result;
    throw error;
  }
  for (const name of names) {
    const made = parseLeftover(o.kind, name);
    if (!made) continue;
    const full = path.join(o.dir, name);
    const info = await lstat(full).catch((error: unknown) => {
      if (isErrno(error, 'ENOENT')) return undefined; // its maker finished meanwhile
      throw error;
    });
    if (!info) continue;
    if (!info.isDirectory() || leftoverVerdict(made, self, now, maxAgeMs) === 'keep') {
      result.kept.push(name);
      continue;
    }
    await rm(full, { recursive: true, force: true });
    result.removed.push(name);
  }
  return result;
}

/**
 * The start-up sweep of a process that builds checkouts and runs commands: half-built checkouts in
 * the workspace directory and commands' HOMEs in the temp dir, of makers known gone.
 */
export async function sweepStartupLeftovers(o: {
  workspaceDir: string;
  tmpDir?: string;
}): Promise<{ checkouts: SweepResult; homes: SweepResult }> {
  const checkouts = await sweepLeftovers({ dir: o.workspaceDir, kind: 'checkout-build' });
  const homes = await sweepLeftovers({ dir: o.tmpDir ?? tmpdir(), kind: 'sandbox-home' });
  return { checkouts, homes };
}

/** The logging the start-up sweep needs (a pino logger fits); tools does not depend on the runtime. */
interface SweepLogger {
  info(details: Record<string, unknown>, message: string): void;
  warn(details: Record<string, unknown>, message: string): void;
}

/**
 * The start-up sweep as the Director and every agent run it before any work: what it removed is
 * logged, and a failure is a warning, never a failed start (nothing is removed then).
 */
export async function sweepAtStart(workspaceDir: string, logger: SweepLogger): Promise<void> {
  try {
    const { checkouts, homes } = await sweepStartupLeftovers({ workspaceDir });
    if (checkouts.removed.length + homes.removed.length > 0)
      logger.info(
        { checkouts: checkouts.removed, homes: homes.removed },
        'removed what killed processes left behind',
      );
  } catch (err) {
    logger.warn({ err }, 'the start-up sweep of leftovers failed; nothing removed');
  }
}
