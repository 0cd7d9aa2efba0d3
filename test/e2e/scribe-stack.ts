// Shared by the scribe*.test.ts suites (issue 7): the whole team as real processes (llm-gateway,
// scribe, one agent per worker role, director) against fake Ollama/Anthropic, a scripted review
// that always converges, and readers for what the Scribe leaves in Redis and MEMORY_DIR.
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fold, parseRunEvent, type RunEvent } from '@nightshift/core';
import { type Message, WORKER_ROLES } from '@nightshift/protocol';
import { type Bus, createBus, createKeys, createRunStore, type Keys } from '@nightshift/redis';
import {
  type FakeAnthropic,
  type FakeOllama,
  type OllamaRule,
  startFakeAnthropic,
  startFakeOllama,
  startRedis,
  type TestRedis,
  uniquePrefix,
  waitFor,
} from '@nightshift/testkit';
import { type ServiceProcess, serviceEnv, spawnService, stopAll } from './agent-harness.js';
import { SERVICE_MAIN } from './support/stack.js';

export interface Stack {
  redis: TestRedis;
  ollama: FakeOllama;
  anthropic: FakeAnthropic;
  bus: Bus;
  keys: Keys;
  prefix: string;
  env: NodeJS.ProcessEnv;
  memoryDir: string;
  procs: ServiceProcess[];
}

export const TEAM = ['llm-gateway', 'scribe', ...WORKER_ROLES, 'director'] as const;

/** Starts one service of the team (a fresh process each call); it joins `stack.procs`. */
export function startService(
  stack: Stack,
  name: (typeof TEAM)[number],
  label: string = name,
): ServiceProcess {
  const main =
    name === 'llm-gateway'
      ? SERVICE_MAIN['llm-gateway']
      : name === 'scribe'
        ? SERVICE_MAIN.scribe
        : name === 'director'
          ? SERVICE_MAIN.director
          : SERVICE_MAIN.agent;
  const env = (WORKER_ROLES as readonly string[]).includes(name) ? { ...stack.env, ROLE: name } : stack.env;
  const proc = spawnService(label, main, env);
  stack.procs.push(proc);
  return proc;
}

export async function startStack(
  options: { aof?: boolean; services?: readonly (typeof TEAM)[number][]; env?: Record<string, string> } = {},
): Promise<Stack> {
  const redis = await startRedis(options.aof ? { spawn: true, aof: true } : {});
  const ollama = await startFakeOllama({ numParallel: 2, latencyMs: 10 });
  const anthropic = await startFakeAnthropic({});
  const prefix = uniquePrefix();
  const keys = createKeys(prefix);
  const memoryDir = mkdtempSync(join(tmpdir(), 'ns-scribe-'));
  const env = serviceEnv({
    REDIS_URL: redis.url,
    NIGHTSHIFT_PREFIX: prefix,
    OLLAMA_HOST: ollama.url,
    ANTHROPIC_API_KEY: 'sk-test-director-key',
    ANTHROPIC_BASE_URL: anthropic.url,
    ANTHROPIC_MAX_RETRIES: '0',
    MEMORY_DIR: memoryDir,
    WORKSPACE_DIR: join(memoryDir, 'ws'),
    DIRECTOR_TICK_MS: '200',
    DIRECTOR_LEASE_TTL_MS: '1500',
    QUEUE_LOCK_DURATION_MS: '5000',
    QUEUE_STALLED_INTERVAL_MS: '2000',
    REDIS_CLAIM_IDLE_MS: '3000',
    LOG_LEVEL: 'warn',
    ...options.env,
  });
  const bus = createBus({ url: redis.url, keys, onError: () => undefined });
  const stack: Stack = { redis, ollama, anthropic, bus, keys, prefix, env, memoryDir, procs: [] };
  for (const name of options.services ?? TEAM) startService(stack, name);
  return stack;
}

export async function stopStack(stack: Stack | undefined): Promise<void> {
  if (!stack) return;
  await stopAll(stack.procs);
  await stack.bus.close();
  await stack.ollama.stop();
  await stack.anthropic.stop();
  await stack.redis.stop();
  rmSync(stack.memoryDir, { recursive: true, force: true });
}

const vote = (option: string) => JSON.stringify({ option, confidence: 0.9, rationale: 'agreed' });
const verdict = (decision: string, rationale: string) => JSON.stringify({ decision, rationale });

/**
 * One iteration that finishes: the Inspector reports one MAJOR finding (a significant issue,
 * guide §3), every voter and the Director say finish. The Scout's research during the build is
 * slower than the Builder, so the order of the two P2 checkpoints is fixed.
 */
export function scriptTeam(
  stack: Stack,
  options: { scoutExecMs?: number; scoutPlanMs?: number; builderMs?: number } = {},
): void {
  const rules: OllamaRule[] = [
    { match: { contains: 'Vote on the review' }, reply: { content: vote('finish') } },
    {
      match: { role: 'inspector' },
      reply: {
        content: '{"findings":[{"severity":"major","file":"src/login.ts","description":"no CSRF token"}]}',
      },
    },
    {
      match: { role: 'builder' },
      reply: { content: 'Changed src/login.ts.', latencyMs: options.builderMs ?? 100 },
    },
    {
      match: { role: 'scout', contains: 'Support the build' },
      reply: { content: 'Checked the assumptions.', latencyMs: options.scoutExecMs ?? 1500 },
    },
    {
      match: { role: 'scout' },
      reply: { content: 'Found the login page.', latencyMs: options.scoutPlanMs ?? 10 },
    },
    {
      match: { role: 'director', contains: 'Verify the review' },
      reply: { content: verdict('finish', 'fallback: done') },
    },
  ];
  stack.ollama.setScenario(rules);
  stack.anthropic.setScenario([
    { match: { contains: 'Frame the goal' }, reply: { content: 'Goal: a login form with CSRF protection.' } },
    { match: { contains: 'Verify the review' }, reply: { content: verdict('finish', 'done') } },
  ]);
}

/** The trigger text of every checkpoint such a run must produce, in order (guide §3 + P2 step). */
export const ONE_ITERATION_TRIGGERS = [
  'Phase transition: 1 - Planning (iteration 1)',
  'Scout finished research (planning, iteration 1)',
  'Phase transition: 2 - Execution (iteration 1)',
  'Builder completed a component (iteration 1)',
  'Scout finished research (execution, iteration 1)',
  "Execution milestone: Builder and Scout done (the Director's checkpoint step, iteration 1)",
  'Phase transition: 3 - Review (iteration 1)',
  'Inspector found issues: 0 critical, 1 major, 0 minor (iteration 1)',
  'Phase transition: 4 - Iterate (iteration 1)',
  'Phase transition: run ended (success)',
];

export async function runEvents(stack: Stack, runId: string): Promise<RunEvent[]> {
  const store = createRunStore(stack.bus.redis, stack.keys);
  return (await store.read(runId)).map((e) => parseRunEvent(e.event));
}

export async function waitForEnd(stack: Stack, runId: string, timeoutMs = 180_000): Promise<RunEvent[]> {
  return waitFor(
    async () => {
      const list = await runEvents(stack, runId);
      return ['finished', 'aborted', 'failed', 'waiting-human'].includes(fold(list).status)
        ? list
        : undefined;
    },
    {
      timeoutMs,
      intervalMs: 300,
      what: `run ${runId} to end\n${stack.procs.map((p) => p.tail(12)).join('\n')}`,
    },
  );
}

export interface CheckpointRow {
  n: number;
  key: string;
  trigger: string;
  file: string;
  sha256: string;
}

export async function checkpointRows(stack: Stack, runId: string): Promise<CheckpointRow[]> {
  const raw = await stack.bus.redis.lrange(stack.keys.runCheckpoints(runId), 0, -1);
  return raw.map((line) => JSON.parse(line) as CheckpointRow).sort((a, b) => a.n - b.n);
}

/** True when the file still has the sha256 its record promised. */
export function fileIntact(row: CheckpointRow): boolean {
  const text = readOrEmpty(row.file);
  return text !== '' && createHash('sha256').update(text, 'utf8').digest('hex') === row.sha256;
}

/** Message ids in the Scribe's journal of the run (MEMORY_DIR/<run>/messages/*.jsonl). */
export function journalIds(stack: Stack, runId: string): string[] {
  const dir = join(stack.memoryDir, runId, 'messages');
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) =>
    readFileSync(join(dir, name), 'utf8')
      .split('\n')
      .filter((l) => l !== '')
      .map((l) => (JSON.parse(l) as { message: Message }).message.id),
  );
}

export function teamState(stack: Stack, runId: string): string {
  return readOrEmpty(join(stack.memoryDir, runId, 'team-state.md'));
}

/** A file's text, '' while it does not exist (the Scribe writes it atomically, never half). */
export function readOrEmpty(path: string): string {
  return existsSync(path) ? readFileSync(path, 'utf8') : '';
}
