// Service processes for the chaos harness: spawn the real built entry files, keep their output,
// kill -9 them, and a small supervisor that starts again whatever the harness killed.
import { spawn } from 'node:child_process';
import { appendFileSync, existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const MAIN = {
  director: join(ROOT, 'services/director/dist/main.js'),
  agent: join(ROOT, 'services/agent/dist/main.js'),
  'llm-gateway': join(ROOT, 'services/llm-gateway/dist/main.js'),
  scribe: join(ROOT, 'services/scribe/dist/main.js'),
  sentinel: join(ROOT, 'services/sentinel/dist/main.js'),
};

/** The Sentinel is optional: it joins the stack (and the kill rotation) only when it is built. */
export const SENTINEL_BUILT = existsSync(MAIN.sentinel);

/** Every child ever started, so an exit of the harness (even a crash) takes them all down. */
const everyChild = new Set();
process.on('exit', () => {
  for (const child of everyChild)
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
});

export function liveChildren() {
  return [...everyChild].filter((c) => c.exitCode === null && c.signalCode === null).length;
}

/** Only what the service needs: the parent's REDIS_URL etc. never leak into a child by accident. */
export function serviceEnv(vars) {
  const env = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'NODE_OPTIONS', 'SYSTEMROOT']) {
    if (process.env[key] !== undefined) env[key] = process.env[key];
  }
  return {
    LOG_LEVEL: process.env.CHAOS_LOG_LEVEL ?? 'warn',
    HEARTBEAT_INTERVAL_MS: '500',
    HEARTBEAT_TTL_MS: '3000',
    ...env,
    ...vars,
  };
}

/**
 * One OS process of a service. `lines` keeps the last output lines (for failure messages and for
 * checks such as "the Scribe logged ENOSPC"); `matches(re)` counts every line ever seen that matches.
 */
export function spawnService(name, main, env, { watch = [] } = {}) {
  const child = spawn(process.execPath, [main], { env, stdio: ['ignore', 'pipe', 'pipe'], cwd: ROOT });
  everyChild.add(child);
  const lines = [];
  let bytes = 0;
  const seen = new Map(watch.map((re) => [re, 0]));
  // CHAOS_LOG_DIR=/some/dir keeps every line of every process (for diagnosing a failed scenario).
  const logFile = process.env.CHAOS_LOG_DIR
    ? join(process.env.CHAOS_LOG_DIR, `${name}-${child.pid}.log`)
    : null;
  const keep = (chunk) => {
    bytes += chunk.length;
    if (logFile) appendFileSync(logFile, chunk);
    for (const line of chunk.toString('utf8').split('\n')) {
      if (line === '') continue;
      lines.push(line);
      for (const re of seen.keys()) if (re.test(line)) seen.set(re, (seen.get(re) ?? 0) + 1);
    }
    if (lines.length > 300) lines.splice(0, lines.length - 300);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  let alive = true;
  let exitInfo;
  const exited = new Promise((res) => {
    child.once('exit', (code, signal) => {
      alive = false;
      exitInfo = signal ?? code;
      everyChild.delete(child);
      res(exitInfo);
    });
  });
  return {
    name,
    child,
    exited,
    get pid() {
      return child.pid;
    },
    get alive() {
      return alive;
    },
    get exit() {
      return exitInfo;
    },
    /** Bytes of output (stdout + stderr) so far: the soak's log volume. */
    get bytes() {
      return bytes;
    },
    lines,
    count: (re) => seen.get(re) ?? 0,
    tail: (n = 25) =>
      `--- ${name} (pid ${child.pid}${alive ? '' : `, exited ${exitInfo}`}) ---\n${lines.slice(-n).join('\n')}`,
  };
}

/** SIGTERM, then SIGKILL after `graceMs`; resolves when every one has exited. */
export async function stopAll(procs, graceMs = 10_000) {
  await Promise.all(
    procs.map(async (p) => {
      if (!p.alive) return;
      p.child.kill('SIGTERM');
      const timer = setTimeout(() => p.child.kill('SIGKILL'), graceMs);
      await p.exited;
      clearTimeout(timer);
    }),
  );
}

/**
 * The services of one scenario, by slot name ("builder", "llm-gateway-1", …). `kill(slot)` is a
 * kill -9; with `restart: true` the supervisor starts the slot again after `restartDelayMs`, as
 * docker's `restart: unless-stopped` or a systemd unit would. Unexpected exits are recorded:
 * a chaos scenario must only ever see the deaths it caused.
 */
export class Stack {
  #specs = new Map();
  #current = new Map();
  #all = [];
  #stopping = false;
  #pendingRestarts = new Set();
  kills = [];
  unexpectedExits = [];
  restarts = 0;

  constructor({ restart = false, restartDelayMs = 300, watch = [] } = {}) {
    this.restart = restart;
    this.restartDelayMs = restartDelayMs;
    this.watch = watch;
  }

  add(slot, main, env) {
    this.#specs.set(slot, { main, env });
    this.#launch(slot);
  }

  #launch(slot) {
    const spec = this.#specs.get(slot);
    const generation = this.#all.filter((p) => p.slot === slot).length;
    const proc = spawnService(generation === 0 ? slot : `${slot}#${generation}`, spec.main, spec.env, {
      watch: this.watch,
    });
    proc.slot = slot;
    proc.killedByHarness = false;
    this.#current.set(slot, proc);
    this.#all.push(proc);
    void proc.exited.then((code) => {
      if (this.#stopping || proc.killedByHarness) return;
      this.unexpectedExits.push({ slot, name: proc.name, code, tail: proc.tail(15) });
    });
    return proc;
  }

  get slots() {
    return [...this.#specs.keys()];
  }

  get(slot) {
    return this.#current.get(slot);
  }

  get current() {
    return [...this.#current.values()];
  }

  get everyProcess() {
    return [...this.#all];
  }

  /** kill -9 of the slot's current process; the supervisor (if on) starts a new one. */
  async kill(slot) {
    const proc = this.#current.get(slot);
    if (!proc?.alive) return false;
    proc.killedByHarness = true;
    proc.child.kill('SIGKILL');
    await proc.exited;
    this.kills.push({ slot, pid: proc.pid, at: Date.now() });
    if (this.restart && !this.#stopping) {
      const pending = new Promise((res) => setTimeout(res, this.restartDelayMs)).then(() => {
        if (!this.#stopping) {
          this.#launch(slot);
          this.restarts++;
        }
      });
      this.#pendingRestarts.add(pending);
      await pending;
      this.#pendingRestarts.delete(pending);
    }
    return true;
  }

  /** Every current process alive (the fuzz scenario's "no crash"). */
  allAlive() {
    return this.current.every((p) => p.alive);
  }

  tails(n = 20) {
    return this.current.map((p) => p.tail(n)).join('\n');
  }

  async stop() {
    this.#stopping = true;
    await Promise.allSettled([...this.#pendingRestarts]);
    await stopAll(this.#all);
  }
}
