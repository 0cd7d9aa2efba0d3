// Child processes of the benchmark: spawn with a minimal env, keep output tails, read RSS from
// /proc, and kill every child on the way out — normal end, error, timeout or Ctrl-C alike.
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { SERVICE_NODE_OPTIONS } from '@nightshift/runtime';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
export const BENCH_DIR = join(ROOT, 'test/bench');
export const SERVICE_MAIN = {
  director: join(ROOT, 'services/director/dist/main.js'),
  agent: join(ROOT, 'services/agent/dist/main.js'),
  'llm-gateway': join(ROOT, 'services/llm-gateway/dist/main.js'),
  scribe: join(ROOT, 'services/scribe/dist/main.js'),
};

/** Every child still running, so one exit path can end them all. */
const live = new Set();

/**
 * `--cpu-prof=<dir>` (issue 23 §1): every child is started with V8's sampling profiler and writes
 * `<dir>/<name>.<n>.cpuprofile` when it exits normally (SIGTERM: the services stop cleanly; a
 * SIGKILL leaves no profile). `test/bench/cpu-profile.mjs <dir>` turns them into a breakdown.
 */
let cpuProfDir;
let profiled = 0;
export function profileChildrenInto(dir) {
  cpuProfDir = dir;
}

/**
 * The parent's REDIS_URL, OLLAMA_HOST etc. never leak into a child by accident. Every child (the
 * services, the baselines and the peers alike) runs with the V8 settings services get from
 * `nightshift up` and the Docker image, so memory figures are what a deployment sees.
 */
export function childEnv(vars) {
  const env = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'SYSTEMROOT']) {
    if (process.env[key] !== undefined) env[key] = process.env[key];
  }
  return {
    LOG_LEVEL: 'warn',
    HEARTBEAT_INTERVAL_MS: '500',
    HEARTBEAT_TTL_MS: '3000',
    NODE_OPTIONS: SERVICE_NODE_OPTIONS,
    ...env,
    ...vars,
  };
}

/**
 * Starts `node <script> ...args`. `onLine` sees each stdout line (callers report READY/DONE that
 * way); stdout and stderr tails are kept for error messages.
 */
export function spawnNode(name, script, { env, args = [], onLine } = {}) {
  const profile =
    cpuProfDir === undefined
      ? []
      : ['--cpu-prof', `--cpu-prof-dir=${cpuProfDir}`, `--cpu-prof-name=${name}.${++profiled}.cpuprofile`];
  const child = spawn(process.execPath, [...profile, script, ...args], {
    env: env ?? childEnv({}),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  const lines = [];
  let partial = '';
  const keep = (text) => {
    lines.push(text);
    if (lines.length > 200) lines.splice(0, lines.length - 200);
  };
  child.stdout.on('data', (chunk) => {
    const parts = (partial + chunk.toString('utf8')).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      if (line === '') continue;
      keep(line);
      onLine?.(line);
    }
  });
  child.stderr.on('data', (chunk) => keep(chunk.toString('utf8').trimEnd()));
  // A child that exits early makes writes to its stdin fail with EPIPE: not our crash.
  child.stdin.on('error', () => undefined);
  let alive = true;
  const exited = new Promise((done) => {
    // 'close', not 'exit': by then every stdout line (READY/DONE) has been delivered.
    child.once('close', (code, signal) => {
      alive = false;
      live.delete(proc);
      done(code ?? signal ?? 'unknown');
    });
    child.once('error', (error) => {
      alive = false;
      live.delete(proc);
      keep(`spawn error: ${error.message}`);
      done('spawn-error');
    });
  });
  const proc = {
    name,
    child,
    pid: child.pid,
    exited,
    get alive() {
      return alive;
    },
    tail: (n = 20) => `--- ${name} (pid ${child.pid}) ---\n${lines.slice(-n).join('\n')}`,
  };
  live.add(proc);
  return proc;
}

/**
 * SIGTERM, then SIGKILL after `graceMs`; resolves when all are gone, with the names of those that
 * had to be killed (a service that ignores SIGTERM that long is worth knowing about).
 */
export async function stopProcs(procs, graceMs = 10_000) {
  const killed = [];
  await Promise.all(
    procs.map(async (p) => {
      if (!p.alive) return;
      p.child.kill('SIGTERM');
      const timer = setTimeout(() => {
        killed.push(p.name);
        p.child.kill('SIGKILL');
      }, graceMs);
      await p.exited;
      clearTimeout(timer);
    }),
  );
  return killed;
}

/** Last resort (process 'exit'): synchronous SIGKILL of whatever is left. */
export function killAllNow() {
  for (const p of live) {
    try {
      p.child.kill('SIGKILL');
    } catch (error) {
      // Already gone between the check and the kill: nothing left to clean up.
      void error;
    }
  }
  live.clear();
}

export function liveCount() {
  return live.size;
}

/** VmRSS of a process in MB, or undefined when it is gone (or not Linux). */
export function rssMb(pid) {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match ? Number(match[1]) / 1024 : undefined;
  } catch (error) {
    void error;
    return undefined;
  }
}

/**
 * Samples the RSS of named processes every `intervalMs` until stop(): per-process peak, and the
 * peak of their sum at one instant (a fair "whole stack" figure, unlike a sum of peaks).
 */
export function sampleRss(procs, intervalMs = 200) {
  const peak = {};
  let peakSum = 0;
  let samples = 0;
  const take = () => {
    let sum = 0;
    for (const p of procs) {
      const mb = rssMb(p.pid);
      if (mb === undefined) continue;
      sum += mb;
      peak[p.name] = Math.max(peak[p.name] ?? 0, mb);
    }
    peakSum = Math.max(peakSum, sum);
    samples++;
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return { peakMb: peak, peakSumMb: peakSum, samples };
    },
  };
}
