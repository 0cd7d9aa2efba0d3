// One way to open Redis: from a URL (redis://, rediss:// for TLS, passwords), with an 'error'
// listener on every client and a bounded reconnect backoff, so no client crashes its process.
import { Redis, type RedisOptions } from 'ioredis';

export interface ConnectionOptions {
  /** BullMQ workers and blocking stream reads need `null` here (REFERENCE: maxRetriesPerRequest). */
  maxRetriesPerRequest?: number | null;
  /** Called with every client error; the default only swallows it so the process survives. */
  onError?: (error: Error) => void;
  /** Longest wait between reconnect attempts, ms (default 2000). */
  maxBackoffMs?: number;
  connectionName?: string;
  lazyConnect?: boolean;
}

export function redisOptionsFromUrl(url: string, options: ConnectionOptions = {}): RedisOptions {
  const parsed = new URL(url);
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new Error(`unsupported Redis URL scheme ${parsed.protocol} (expected redis:// or rediss://)`);
  }
  const maxBackoff = options.maxBackoffMs ?? 2000;
  const db = parsed.pathname.length > 1 ? Number.parseInt(parsed.pathname.slice(1), 10) : 0;
  const redisOptions: RedisOptions = {
    host: parsed.hostname || '127.0.0.1',
    port: parsed.port ? Number.parseInt(parsed.port, 10) : 6379,
    db: Number.isFinite(db) ? db : 0,
    maxRetriesPerRequest: options.maxRetriesPerRequest === undefined ? 20 : options.maxRetriesPerRequest,
    // Bounded, jittered backoff; never give up: a Redis restart must not kill a service.
    retryStrategy: (times) => Math.min(maxBackoff, 50 * 2 ** Math.min(times, 10)) + Math.floor(Math.random() * 50),
    enableReadyCheck: true,
    lazyConnect: options.lazyConnect ?? false,
  };
  if (parsed.username) redisOptions.username = decodeURIComponent(parsed.username);
  if (parsed.password) redisOptions.password = decodeURIComponent(parsed.password);
  if (parsed.protocol === 'rediss:') redisOptions.tls = { servername: parsed.hostname };
  if (options.connectionName) redisOptions.connectionName = options.connectionName;
  return redisOptions;
}

export function createRedis(url: string, options: ConnectionOptions = {}): Redis {
  const client = new Redis(redisOptionsFromUrl(url, options));
  client.on('error', options.onError ?? (() => undefined));
  return client;
}

/** Hides the password of a Redis URL, for log lines and error messages. */
export function redactRedisUrl(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '<unparseable redis url>';
  }
}
