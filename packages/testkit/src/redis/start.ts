// Redis for integration tests (ARCHITECTURE §6): REDIS_URL if set, else a private redis-server on
// a free port, else a Testcontainers Redis; if none works, FAIL with how to fix it (never skip).
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NightshiftError } from '@nightshift/protocol';
import { freePort, sleep } from '../wait.js';
import { dockerUnavailableReason, startContainerRedis } from './container.js';
import { deleteUnderPrefix, pingUrl, redactUrl } from './env.js';
import { RedisProcess } from './process.js';

export type RedisMode = 'env' | 'spawned' | 'container';

export interface StartRedisOptions {
  /** Force a private server (spawned, else container) even when REDIS_URL is set. */
  spawn?: boolean;
  /** Use this Redis (mode 'env'), as if REDIS_URL were set to it. */
  url?: string;
  /** Where REDIS_URL is read from (default process.env). */
  env?: Record<string, string | undefined>;
  /** Private server only: appendonly yes, appendfsync everysec. Setting it implies `spawn`. */
  aof?: boolean;
  /** Private server only: requirepass; the URL carries it. Setting it implies `spawn`. */
  password?: string;
  /** The redis-server binary (default 'redis-server' on PATH). */
  redisServerPath?: string;
  /** false: never try Docker/Testcontainers (default true). */
  docker?: boolean;
  /** Container image for the Docker fallback (default 'redis:7-alpine'). */
  image?: string;
  /** How long a spawned server may take to get ready (default 20 000 ms). */
  startTimeoutMs?: number;
  /** Mode 'env' only: stop() deletes every key under the prefix (default true; never FLUSHDB). */
  cleanup?: boolean;
}

export interface RedisRestartOptions {
  /** SIGKILL (a crash) instead of a clean SIGTERM shutdown. */
  hard?: boolean;
  /** How long the server stays down before it starts again (default 0). */
  downtimeMs?: number;
}

export interface TestRedis {
  /** redis:// URL (with the password, if any). For a container it may change after restart(). */
  readonly url: string;
  /** A unique hash-tagged key prefix (`{nst-<random>}`) for NIGHTSHIFT_PREFIX / createKeys(). */
  readonly prefix: string;
  readonly mode: RedisMode;
  /** Spawned mode: the server's pid while it runs; otherwise undefined. */
  readonly pid: number | undefined;
  /** Spawned mode: the data dir (AOF lives here); otherwise undefined. */
  readonly dir: string | undefined;
  /** Stops what we started (and removes its data); in 'env' mode deletes the prefix's keys. Idempotent. */
  stop(): Promise<void>;
  /** Stops and starts the server on the same port and data dir. Throws in 'env' mode. */
  restart(options?: RedisRestartOptions): Promise<void>;
}

/** A fresh `{nst-<random>}` prefix: a Redis Cluster hash tag, unique per call. */
export function uniquePrefix(): string {
  return `{nst-${randomBytes(6).toString('hex')}}`;
}

export async function startRedis(options: StartRedisOptions = {}): Promise<TestRedis> {
  const env = options.env ?? process.env;
  const wantsPrivate = options.spawn === true || options.aof === true || options.password !== undefined;
  const attempts: string[] = [];

  const givenUrl = options.url ?? (wantsPrivate ? undefined : env.REDIS_URL);
  if (givenUrl !== undefined && givenUrl !== '') return useExisting(givenUrl, options);
  attempts.push(wantsPrivate ? 'REDIS_URL: skipped (a private server was requested)' : 'REDIS_URL: not set');

  const path = options.redisServerPath ?? 'redis-server';
  try {
    return await spawnPrivate(path, options);
  } catch (error) {
    attempts.push(`redis-server (${path}): ${describe(error)}`);
  }

  if (options.docker === false) {
    attempts.push('Docker/Testcontainers: disabled by the docker: false option');
  } else {
    const reason = await dockerUnavailableReason();
    if (reason === null) {
      try {
        return await startInContainer(options);
      } catch (error) {
        attempts.push(`Docker/Testcontainers: container failed to start: ${describe(error)}`);
      }
    } else {
      attempts.push(`Docker/Testcontainers: no container engine answered (${reason})`);
    }
  }
  throw noRedis(attempts);
}

async function useExisting(url: string, options: StartRedisOptions): Promise<TestRedis> {
  try {
    await pingUrl(url);
  } catch (error) {
    throw new NightshiftError(
      'REDIS_UNREACHABLE',
      `Redis at ${redactUrl(url)} (REDIS_URL) did not answer PING: ${describe(error)}. ` +
        'Start that Redis, fix REDIS_URL, or unset REDIS_URL so the testkit starts redis-server itself.',
      { category: 'fatal', cause: error },
    );
  }
  const prefix = uniquePrefix();
  let stopped = false;
  return {
    url,
    prefix,
    mode: 'env',
    pid: undefined,
    dir: undefined,
    async stop() {
      if (stopped) return;
      stopped = true;
      if (options.cleanup !== false) await deleteUnderPrefix(url, prefix);
    },
    async restart() {
      throw new NightshiftError(
        'REDIS_NOT_OWNED',
        `cannot restart the Redis at ${redactUrl(url)}: it comes from REDIS_URL and the testkit does not own it. ` +
          'Use startRedis({ spawn: true }) for tests that restart Redis.',
        { category: 'invalid-input' },
      );
    },
  };
}

async function spawnPrivate(path: string, options: StartRedisOptions): Promise<TestRedis> {
  const dir = await mkdtemp(join(tmpdir(), 'nightshift-redis-'));
  let server: RedisProcess | undefined;
  try {
    // freePort() can race with another process: retry a few ports on "address in use".
    for (let attempt = 0; server === undefined; attempt++) {
      const candidate = new RedisProcess({
        path,
        port: await freePort(),
        dir,
        aof: options.aof === true,
        password: options.password,
        startTimeoutMs: options.startTimeoutMs ?? 20_000,
      });
      try {
        await candidate.launch();
        server = candidate;
      } catch (error) {
        const inUse = error instanceof NightshiftError && error.details?.addressInUse === true;
        if (!inUse || attempt >= 4) throw error;
      }
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true });
    throw error;
  }
  const running = server;
  const url = withPassword(`redis://127.0.0.1:${running.port}`, options.password);
  let stopped = false;
  return {
    url,
    prefix: uniquePrefix(),
    mode: 'spawned',
    get pid() {
      return running.pid;
    },
    dir,
    async stop() {
      if (stopped) return;
      stopped = true;
      await running.kill(true); // the data is thrown away anyway
      await rm(dir, { recursive: true, force: true });
    },
    async restart(restartOptions = {}) {
      if (stopped) throw new NightshiftError('REDIS_STOPPED', 'cannot restart a stopped test Redis');
      await running.kill(restartOptions.hard === true);
      if (restartOptions.downtimeMs !== undefined) await sleep(restartOptions.downtimeMs);
      await running.launch();
    },
  };
}

async function startInContainer(options: StartRedisOptions): Promise<TestRedis> {
  const container = await startContainerRedis({
    image: options.image ?? 'redis:7-alpine',
    aof: options.aof === true,
    password: options.password,
  });
  let stopped = false;
  return {
    get url() {
      return container.url();
    },
    prefix: uniquePrefix(),
    mode: 'container',
    pid: undefined,
    dir: undefined,
    async stop() {
      if (stopped) return;
      stopped = true;
      await container.stop();
    },
    async restart(restartOptions = {}) {
      if (stopped) throw new NightshiftError('REDIS_STOPPED', 'cannot restart a stopped test Redis');
      // UNFINISHED: downtimeMs is not honoured for containers (docker restart has no pause).
      await container.restart(restartOptions.hard === true);
    },
  };
}

function withPassword(url: string, password: string | undefined): string {
  if (password === undefined) return url;
  const u = new URL(url);
  u.password = password;
  return u.toString();
}

function describe(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return 'not found (ENOENT)';
    return code === undefined ? error.message : `${error.message} (${code})`;
  }
  return String(error);
}

function noRedis(attempts: string[]): NightshiftError {
  const message = [
    'No Redis available for integration tests. Tried:',
    ...attempts.map((a) => `  - ${a}`),
    'Fix one of:',
    '  - install Redis so `redis-server` is on PATH: `sudo apt-get install redis-server` (Debian/Ubuntu) or `brew install redis` (macOS);',
    '  - or set REDIS_URL=redis://127.0.0.1:6379 to a Redis you run (tests use a unique key prefix and never flush it);',
    '  - or start a Docker engine so Testcontainers can run a redis:7-alpine container.',
  ].join('\n');
  return new NightshiftError('REDIS_UNAVAILABLE', message, { category: 'fatal', details: { attempts } });
}
