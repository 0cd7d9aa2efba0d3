// Whether a lease's holder is known to be dead, so its successor need not wait out the TTL
import { hostname } from 'node:os';

// (issue 21 §3: "a new Director does not wait a full lease TTL when the old one is known dead").
//
// Tokens are `<hostname>-<pid>-<random>`. A holder on ANOTHER host is never judged: only its TTL
// tells. A holder on THIS host is dead when its pid no longer exists — or when its pid is our own:
// a container restarted by `docker compose restart` keeps its hostname and usually its pid, and the
// process that just started cannot be the one that took the lease before it. A reused pid makes an
// unrelated process look alive, which only means waiting the TTL as before (the safe direction).

const TOKEN = /^(.+)-(\d+)-[a-z0-9]+$/;

export interface LocalProcess {
  hostname: string;
  pid: number;
  /** True when a process with this pid exists (process.kill(pid, 0) without ESRCH). */
  isAlive(pid: number): boolean;
  /** Tokens this very process made (several leased services may share one process, as in tests). */
  owns?(token: string): boolean;
}

export function holderKnownDead(holder: string, self: LocalProcess): boolean {
  const parsed = TOKEN.exec(holder);
  if (parsed === null) return false;
  const [, host, pidText] = parsed as unknown as [string, string, string];
  if (host !== self.hostname) return false;
  const pid = Number(pidText);
  // Our own pid: an earlier process (a restarted container) unless this process made the token.
  if (pid === self.pid) return self.owns?.(holder) !== true;
  return !self.isAlive(pid);
}

/** The real process table: signal 0 checks existence; EPERM means it exists (another user's). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

const madeHere = new Set<string>();

/** A lease token for this process: `<hostname>-<pid>-<random>` (the form holderKnownDead reads). */
export function instanceToken(): string {
  const token = `${hostname()}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  madeHere.add(token);
  return token;
}

/** This process, as holderKnownDead compares it. */
export function thisProcess(): LocalProcess {
  return { hostname: hostname(), pid: process.pid, isAlive: pidAlive, owns: (token) => madeHere.has(token) };
}
