// Shared by the agent/limiter end-to-end suites: spawn the real built entry files as separate
// OS processes, keep their output for failure messages, and read answers from bus:log.
import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { type Message, newId, type Priority, type WorkerRole } from '@nightshift/protocol';
import type { Bus, LogEntry } from '@nightshift/redis';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const GATEWAY_MAIN = join(ROOT, 'services/llm-gateway/dist/main.js');
export const AGENT_MAIN = join(ROOT, 'services/agent/dist/main.js');

export interface ServiceProcess {
  readonly name: string;
  readonly child: ChildProcess;
  /** Last lines of stdout+stderr, for assertion messages. */
  tail(lines?: number): string;
  /** Resolves with the exit code (or signal name) when the process ends. */
  readonly exited: Promise<number | string>;
  readonly alive: boolean;
}

/** Variables a test wants the child to see; the parent's REDIS_URL etc. are never inherited by accident. */
export function serviceEnv(vars: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const key of ['PATH', 'HOME', 'TMPDIR', 'NODE_OPTIONS', 'SYSTEMROOT']) {
    const value = process.env[key];
    if (value !== undefined) env[key] = value;
  }
  return { LOG_LEVEL: 'info', HEARTBEAT_INTERVAL_MS: '500', HEARTBEAT_TTL_MS: '3000', ...env, ...vars };
}

export function spawnService(name: string, main: string, env: NodeJS.ProcessEnv): ServiceProcess {
  const child = spawn(process.execPath, [main], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  const lines: string[] = [];
  const keep = (chunk: Buffer) => {
    lines.push(
      ...chunk
        .toString('utf8')
        .split('\n')
        .filter((l) => l !== ''),
    );
    if (lines.length > 400) lines.splice(0, lines.length - 400);
  };
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  let alive = true;
  const exited = new Promise<number | string>((resolveExit) => {
    child.once('exit', (code, signal) => {
      alive = false;
      resolveExit(code ?? signal ?? 'unknown');
    });
  });
  return {
    name,
    child,
    exited,
    get alive() {
      return alive;
    },
    tail: (n = 30) => `--- ${name} (pid ${child.pid}) ---\n${lines.slice(-n).join('\n')}`,
  };
}

/** SIGTERM, then SIGKILL if a process is still there after `graceMs`. */
export async function stopAll(procs: readonly ServiceProcess[], graceMs = 15_000): Promise<void> {
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

export function requestTo(to: WorkerRole, content: string, extra: Partial<Message> = {}): Message {
  return {
    id: newId('msg'),
    runId: 'run_e2e',
    from: 'director',
    to,
    type: 'REQUEST',
    priority: 'NORMAL' as Priority,
    timestamp: new Date().toISOString(),
    content,
    ...extra,
  };
}

/** Every entry of bus:log, paged (readLog returns at most `count` per call). */
export async function readWholeLog(bus: Bus): Promise<LogEntry[]> {
  const all: LogEntry[] = [];
  let after: string | undefined;
  for (;;) {
    const page = await bus.readLog({ count: 1000, ...(after === undefined ? {} : { after }) });
    all.push(...page);
    if (page.length < 1000) return all;
    after = page.at(-1)?.id;
  }
}

/** RESPONSE messages in bus:log, grouped by the request they answer. */
export async function responsesByRequest(bus: Bus): Promise<Map<string, Message[]>> {
  const byRequest = new Map<string, Message[]>();
  for (const entry of await readWholeLog(bus)) {
    const m = entry.message;
    if (m?.type !== 'RESPONSE' || m.inReplyTo === undefined) continue;
    const list = byRequest.get(m.inReplyTo) ?? [];
    list.push(m);
    byRequest.set(m.inReplyTo, list);
  }
  return byRequest;
}

/** Peak number of overlapping [arrival, end) intervals (an end and an arrival at the same ms do not overlap). */
export function peakOverlap(intervals: readonly { arrival: number; end: number | null }[]): number {
  const events: [number, number][] = [];
  for (const r of intervals) {
    events.push([r.arrival, 1]);
    events.push([r.end ?? Number.POSITIVE_INFINITY, -1]);
  }
  events.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  let current = 0;
  let peak = 0;
  for (const [, delta] of events) {
    current += delta;
    peak = Math.max(peak, current);
  }
  return peak;
}
