// Builds one scenario's world: a private Redis, the fake model servers, the environment every
// service gets, and the standard set of service slots; tears all of it down in reverse order.
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WORKER_ROLES } from '@nightshift/protocol';
import { createBus, createKeys, listHeartbeats } from '@nightshift/redis';
import { startFakeAnthropic, startFakeOllama, startRedis, uniquePrefix, waitFor } from '@nightshift/testkit';
import { MAIN, SENTINEL_BUILT, Stack, serviceEnv } from './procs.mjs';

/** The limit under test (guide §5: OLLAMA_NUM_PARALLEL = 2). */
export const NUM_PARALLEL = 2;
/**
 * The fake Ollama admits more than the limit and queues plenty: a violation by the gateways shows
 * up in its maxConcurrent instead of being hidden by the fake refusing or serialising calls.
 */
export const FAKE_SLOTS = NUM_PARALLEL + 3;

/**
 * A scenario's world. `cleanup` runs in reverse order of registration, once, whatever happened.
 * Options: aof (Redis with AOF everysec), memoryDir (use this dir), stackOptions (Stack ctor).
 */
export async function createWorld(options = {}) {
  const cleanups = [];
  const world = {
    cleanups,
    onCleanup: (fn) => cleanups.push(fn),
    async cleanup() {
      for (const fn of cleanups.splice(0).reverse()) {
        try {
          await fn();
        } catch (error) {
          process.stderr.write(
            `chaos: cleanup step failed: ${error instanceof Error ? error.message : error}\n`,
          );
        }
      }
    },
  };
  try {
    world.redis = await startRedis({ spawn: true, aof: options.aof === true, docker: false });
    world.onCleanup(() => world.redis.stop());
    world.prefix = uniquePrefix();
    world.keys = createKeys(world.prefix);
    world.ollama = await startFakeOllama({
      numParallel: FAKE_SLOTS,
      maxQueue: 1000,
      latencyMs: options.ollamaLatencyMs ?? 20,
    });
    // Stopped before the services: it releases calls nobody waits for any more.
    world.anthropic = await startFakeAnthropic({});
    world.tmp = mkdtempSync(join(tmpdir(), 'ns-chaos-'));
    world.onCleanup(() => rmSync(world.tmp, { recursive: true, force: true }));
    world.memoryDir = options.memoryDir ?? join(world.tmp, 'memory');
    if (options.memoryDir === undefined) mkdirSync(world.memoryDir, { recursive: true });
    world.bus = createBus({ url: world.redis.url, keys: world.keys, onError: () => undefined });
    world.onCleanup(() => world.bus.close());
    world.stack = new Stack(options.stackOptions ?? {});
    world.onCleanup(() => world.stack.stop());
    world.onCleanup(() => world.anthropic.stop());
    world.onCleanup(() => world.ollama.stop());
    world.env = serviceEnv({
      REDIS_URL: world.redis.url,
      NIGHTSHIFT_PREFIX: world.prefix,
      OLLAMA_HOST: world.ollama.url,
      OLLAMA_NUM_PARALLEL: String(NUM_PARALLEL),
      ANTHROPIC_API_KEY: 'sk-chaos-fake-key',
      ANTHROPIC_BASE_URL: world.anthropic.url,
      ANTHROPIC_MAX_RETRIES: '1',
      ANTHROPIC_TIMEOUT_MS: '4000',
      MEMORY_DIR: world.memoryDir,
      WORKSPACE_DIR: join(world.tmp, 'workspace'),
      DIRECTOR_TICK_MS: '500',
      DIRECTOR_LEASE_TTL_MS: '3000',
      SENTINEL_INTERVAL_MS: '1000',
      SENTINEL_LEASE_TTL_MS: '3000',
      // REFERENCE (stalled jobs): seconds, not BullMQ's 30 s, and enough stalls allowed for a job
      // whose worker is killed several times in a row. The lock is kept well above the time a
      // loaded 2-core box may block an event loop, so a LIVE worker never loses its job.
      QUEUE_LOCK_DURATION_MS: '6000',
      QUEUE_STALLED_INTERVAL_MS: '2000',
      QUEUE_MAX_STALLED_COUNT: '100',
      REDIS_CLAIM_IDLE_MS: '6000',
      HEARTBEAT_INTERVAL_MS: '1000',
      HEARTBEAT_TTL_MS: '6000',
      // Short role timeouts so the Director's overdue-step logic re-requests within a scenario.
      ROLE_TIMEOUT_ARCHITECT: '60',
      ROLE_TIMEOUT_SCOUT: '60',
      ROLE_TIMEOUT_BUILDER: '60',
      ROLE_TIMEOUT_REFACTORER: '60',
      ROLE_TIMEOUT_INSPECTOR: '60',
      ...options.env,
    });
    return world;
  } catch (error) {
    await world.cleanup();
    throw error;
  }
}

/**
 * Adds the standard slots: `gateways` llm-gateways, one agent per worker role (with
 * `agentConcurrency` jobs at once), and director/scribe/sentinel as asked. `envFor(slot)` adds
 * per-slot variables.
 */
export function addServices(world, opts = {}) {
  const { gateways = 1, agentConcurrency = 2, director = true, scribe = true, sentinel = true } = opts;
  const envFor = opts.envFor ?? (() => ({}));
  const env = (slot, extra = {}) => ({ ...world.env, ...extra, ...envFor(slot) });
  for (let i = 1; i <= gateways; i++)
    world.stack.add(`llm-gateway-${i}`, MAIN['llm-gateway'], env(`llm-gateway-${i}`));
  for (const role of WORKER_ROLES) {
    world.stack.add(
      role,
      MAIN.agent,
      env(role, { ROLE: role, [`ROLE_CONCURRENCY_${role.toUpperCase()}`]: String(agentConcurrency) }),
    );
  }
  if (director) world.stack.add('director', MAIN.director, env('director'));
  if (scribe) world.stack.add('scribe', MAIN.scribe, env('scribe'));
  if (sentinel && SENTINEL_BUILT) world.stack.add('sentinel', MAIN.sentinel, env('sentinel'));
}

/** Waits until every current process of the stack has a heartbeat with its own pid. */
export async function waitForStack(world, timeoutMs = 120_000) {
  await waitFor(
    async () => {
      const pids = new Set((await listHeartbeats(world.bus.redis, world.keys)).map((h) => h.pid));
      const dead = world.stack.current.filter((p) => !p.alive);
      if (dead.length > 0)
        throw new Error(`exited before it was ready: ${dead.map((p) => p.tail(10)).join('\n')}`);
      return world.stack.current.every((p) => pids.has(p.pid));
    },
    { timeoutMs, intervalMs: 500, what: `heartbeats of ${world.stack.slots.join(', ')}` },
  );
}
