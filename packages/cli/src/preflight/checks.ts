// The guide's pre-flight checklist (§8) as checks: each ✓/✗ with how to fix it. Required checks
// decide the exit code; the others are advice. Every check is bounded in time.
import { accessSync, constants, existsSync, mkdirSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import type { Config } from '@nightshift/config';
import {
  createKeys,
  createRedisClient,
  listHeartbeats,
  QUEUE_NAMES,
  redactRedisUrl,
} from '@nightshift/redis';
import type { HostEnv } from '@nightshift/tools';
import { Queue } from 'bullmq';
import { modelChecks } from './model-checks.js';
import type { CheckResult } from './result.js';
import { sandboxCheck } from './sandbox-check.js';

export type { CheckResult };

export interface PreflightOptions {
  workspace?: string;
  production?: boolean;
  /** Minimum free disk, bytes (guide: > 10 GB). */
  minFreeBytes?: number;
  fetch?: typeof fetch;
  timeoutMs?: number;
  /** PATH and LANG of the environment the agents will run with (where bwrap, node, git are). */
  host?: HostEnv;
}

async function withTimeout<T>(ms: number, what: string, fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const signal = AbortSignal.timeout(ms);
  return await Promise.race([
    fn(signal),
    new Promise<never>((_, reject) =>
      signal.addEventListener('abort', () => reject(new Error(`${what}: no answer within ${ms} ms`))),
    ),
  ]);
}

export async function runPreflight(config: Config, o: PreflightOptions = {}): Promise<CheckResult[]> {
  const results: CheckResult[] = [];
  const timeout = o.timeoutMs ?? 5000;
  const doFetch = o.fetch ?? fetch;
  const add = (r: CheckResult) => results.push(r);

  // Redis: reachable, noeviction (BullMQ requires it), AOF for production.
  const redis = createRedisClient(config.redis.url, {
    maxRetriesPerRequest: 1,
    lazyConnect: true,
    maxBackoffMs: 200,
  });
  try {
    await withTimeout(timeout, 'redis', () => redis.connect());
    await redis.ping();
    add({ name: 'Redis reachable', ok: true, required: true, detail: redactRedisUrl(config.redis.url) });
    const policy = ((await redis.config('GET', 'maxmemory-policy')) as string[])[1] ?? 'unknown';
    add({
      name: 'Redis maxmemory-policy noeviction',
      ok: policy === 'noeviction',
      required: true,
      detail: `maxmemory-policy is ${policy}`,
      fix: 'BullMQ requires it: set `maxmemory-policy noeviction` in redis.conf (deploy/redis.conf does) or run `redis-cli CONFIG SET maxmemory-policy noeviction`',
    });
    const aof = ((await redis.config('GET', 'appendonly')) as string[])[1] ?? 'no';
    add({
      name: 'Redis AOF persistence',
      ok: aof === 'yes',
      required: o.production === true,
      detail: `appendonly ${aof}`,
      fix: 'for an overnight run that must survive a crash: `appendonly yes` and `appendfsync everysec` (deploy/redis.conf)',
    });
    const keys = createKeys(config.redis.prefix);
    const queue = new Queue(QUEUE_NAMES.llm, { connection: redis, prefix: keys.prefix });
    queue.on('error', () => undefined);
    const global = await queue.getGlobalConcurrency();
    add({
      name: 'OLLAMA_NUM_PARALLEL matches the gateway limit',
      ok: global === null || Number(global) === config.ollama.numParallel,
      required: false,
      detail:
        global === null
          ? 'no llm-gateway has set a limit yet'
          : `gateway limit ${global}, configured ${config.ollama.numParallel}`,
      fix: 'set the same OLLAMA_NUM_PARALLEL for Ollama and for Nightshift, then restart the llm-gateway',
    });
    const beats = await listHeartbeats(redis, keys);
    const roles = [...new Set(beats.map((b) => b.role))].sort();
    add({
      name: 'services alive (heartbeats)',
      ok: beats.length > 0,
      required: false,
      detail: beats.length ? roles.join(', ') : 'no heartbeats: no service is running yet',
      fix: 'start the services: `docker compose up` or `nightshift up`',
    });
  } catch (error) {
    add({
      name: 'Redis reachable',
      ok: false,
      required: true,
      detail: `${redactRedisUrl(config.redis.url)}: ${(error as Error).message}`,
      fix: 'start Redis (`docker compose up redis`, or `apt-get install redis-server`) or set REDIS_URL',
    });
  } finally {
    redis.disconnect();
  }

  // Ollama: reachable, model present, model loaded.
  try {
    const version = await withTimeout(timeout, 'ollama', async (signal) =>
      (await doFetch(`${config.ollama.host}/api/version`, { signal })).json(),
    );
    add({
      name: 'Ollama reachable',
      ok: true,
      required: true,
      detail: `${config.ollama.host} (version ${(version as { version?: string }).version ?? '?'})`,
    });
    const tags = (await withTimeout(timeout, 'ollama tags', async (signal) =>
      (await doFetch(`${config.ollama.host}/api/tags`, { signal })).json(),
    )) as { models?: { name: string }[] };
    const names = (tags.models ?? []).map((m) => m.name);
    add({
      name: `model ${config.ollama.model} present`,
      ok: names.includes(config.ollama.model),
      required: true,
      detail: names.length ? `installed: ${names.join(', ')}` : 'no model installed',
      fix: `ollama pull ${config.ollama.model}`,
    });
    const ps = (await withTimeout(timeout, 'ollama ps', async (signal) =>
      (await doFetch(`${config.ollama.host}/api/ps`, { signal })).json(),
    )) as { models?: { name: string }[] };
    const loaded = (ps.models ?? []).map((m) => m.name);
    add({
      name: `model ${config.ollama.model} loaded`,
      ok: loaded.includes(config.ollama.model),
      required: false,
      detail: loaded.length ? `loaded: ${loaded.join(', ')}` : 'nothing loaded (the first call will load it)',
      fix: `warm it up: ollama run ${config.ollama.model} "" and keep it with OLLAMA_KEEP_ALIVE=${config.ollama.keepAlive}`,
    });
    if (names.includes(config.ollama.model)) {
      const show = () =>
        withTimeout(timeout, 'ollama show', async (signal) =>
          (
            await doFetch(`${config.ollama.host}/api/show`, {
              method: 'POST',
              signal,
              body: JSON.stringify({ model: config.ollama.model }),
            })
          ).json(),
        );
      for (const check of await modelChecks(config, show, ps)) add(check);
    }
  } catch (error) {
    add({
      name: 'Ollama reachable',
      ok: false,
      required: true,
      detail: `${config.ollama.host}: ${(error as Error).message}`,
      fix: 'start Ollama (`docker compose up ollama` or `ollama serve`) or set OLLAMA_HOST',
    });
  }

  // Anthropic: a one-token call proves the key; no key means the Director uses the fallback.
  if (!config.anthropic.apiKey) {
    add({
      name: 'Anthropic key',
      ok: true,
      required: false,
      skipped: true,
      detail: 'ANTHROPIC_API_KEY not set: the Director will decide on the Ollama fallback model',
    });
  } else {
    const base = config.anthropic.baseUrl ?? 'https://api.anthropic.com';
    try {
      const res = await withTimeout(timeout * 2, 'anthropic', (signal) =>
        doFetch(`${base.replace(/\/$/, '')}/v1/messages`, {
          method: 'POST',
          signal,
          headers: {
            'content-type': 'application/json',
            'x-api-key': config.anthropic.apiKey as string,
            'anthropic-version': '2023-06-01',
          },
          body: JSON.stringify({
            model: config.anthropic.model,
            max_tokens: 1,
            messages: [{ role: 'user', content: 'ping' }],
          }),
        }),
      );
      add({
        name: 'Anthropic key valid',
        ok: res.ok,
        required: false,
        detail: res.ok ? `${config.anthropic.model} answered` : `HTTP ${res.status}`,
        fix: 'check ANTHROPIC_API_KEY and DIRECTOR_MODEL; without a working key the Director falls back to Ollama',
      });
    } catch (error) {
      add({
        name: 'Anthropic key valid',
        ok: false,
        required: false,
        detail: (error as Error).message,
        fix: 'check network access to the Anthropic API or ANTHROPIC_BASE_URL',
      });
    }
  }

  // Files: memory dir writable, disk space, workspace under git.
  try {
    mkdirSync(config.memoryDir, { recursive: true });
    accessSync(config.memoryDir, constants.W_OK);
    add({ name: 'memory directory writable', ok: true, required: true, detail: config.memoryDir });
  } catch (error) {
    add({
      name: 'memory directory writable',
      ok: false,
      required: true,
      detail: `${config.memoryDir}: ${(error as Error).message}`,
      fix: 'create it and give the service user write access, or set MEMORY_DIR',
    });
  }
  try {
    const fs = statfsSync(existsSync(config.memoryDir) ? config.memoryDir : '.');
    const free = fs.bavail * fs.bsize;
    const min = o.minFreeBytes ?? 10 * 1024 ** 3;
    add({
      name: 'disk space',
      ok: free > min,
      required: true,
      detail: `${(free / 1024 ** 3).toFixed(1)} GB free (need > ${(min / 1024 ** 3).toFixed(0)} GB)`,
      fix: 'free disk space or move MEMORY_DIR/WORKSPACE_DIR to a larger disk',
    });
  } catch (error) {
    add({ name: 'disk space', ok: false, required: true, detail: (error as Error).message });
  }
  // issue 17 §3: commands run in the sandbox or not at all; report it, with its limits.
  add(await sandboxCheck(config, o.host));
  if (o.workspace) {
    const git = existsSync(join(o.workspace, '.git'));
    add({
      name: 'workspace is a git repository',
      ok: git,
      required: false,
      detail: o.workspace,
      fix: `git -C ${o.workspace} init (Nightshift initialises one if missing, but your history is safer in your own repo)`,
    });
  }
  return results;
}
