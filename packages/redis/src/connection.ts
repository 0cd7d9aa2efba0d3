// One way to open Redis: from a URL (redis://, rediss:// for TLS, passwords, `+cluster` and
// `+sentinel` variants), with an 'error' listener on every client and a bounded reconnect
// backoff, so no client crashes its process and a Redis restart never kills a service.
import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';

/** What every Nightshift module accepts as "a Redis connection": one node, or a Cluster. */
export type RedisClient = Redis | Cluster;

export interface ConnectionOptions {
  /** BullMQ workers and blocking stream reads need `null` here (REFERENCE: maxRetriesPerRequest). */
  maxRetriesPerRequest?: number | null;
  /** Called with every client error; the default only swallows it so the process survives. */
  onError?: (error: Error) => void;
  /** Longest wait between reconnect attempts, ms (default 2000). */
  maxBackoffMs?: number;
  connectionName?: string;
  lazyConnect?: boolean;
  /** Treat a plain `redis://host:port` URL as a Cluster seed (same as `redis+cluster://`). */
  cluster?: boolean;
}

export type RedisMode = 'standalone' | 'cluster' | 'sentinel';

export interface RedisHost {
  host: string;
  port: number;
}

/** A Redis URL taken apart. Only the parser sees the password; log `redactRedisUrl(url)` instead. */
export interface ParsedRedisUrl {
  mode: RedisMode;
  tls: boolean;
  username?: string;
  password?: string;
  hosts: RedisHost[];
  db: number;
  /** Sentinel only: the monitored master's name (`redis+sentinel://h:26379/mymaster`). */
  sentinelName?: string;
  /** Sentinel only: password of the sentinels themselves (`?sentinelPassword=`). */
  sentinelPassword?: string;
}

// scheme://[userinfo@]host[:port][,host[:port]…][/path][?query]. Hand-parsed because WHATWG
// URL cannot hold a comma-separated host list (cluster seeds, sentinels).
const URL_RE = /^(redis|rediss)(\+cluster|\+sentinel)?:\/\/(?:([^@/?#]*)@)?([^/?#]*)(\/[^?#]*)?(\?[^#]*)?$/;

export function parseRedisUrl(url: string, options: { cluster?: boolean } = {}): ParsedRedisUrl {
  const match = URL_RE.exec(url.trim());
  if (!match) {
    throw new Error(
      `unsupported Redis URL ${redactRedisUrl(url)} (expected redis://, rediss://, redis+cluster://host:port,host:port or redis+sentinel://host:port,host:port/master)`,
    );
  }
  const [, scheme, variant, userinfo, hostList, path, query] = match;
  const mode: RedisMode =
    variant === '+cluster' || options.cluster
      ? 'cluster'
      : variant === '+sentinel'
        ? 'sentinel'
        : 'standalone';
  const defaultPort = mode === 'sentinel' ? 26379 : 6379;
  const hosts = (hostList ?? '')
    .split(',')
    .filter((h) => h !== '')
    .map((h) => parseHost(h, defaultPort));
  if (hosts.length === 0) hosts.push({ host: '127.0.0.1', port: defaultPort });
  if (mode === 'standalone' && hosts.length > 1) {
    throw new Error('a redis:// URL names one host; use redis+cluster:// or redis+sentinel:// for several');
  }
  const parsed: ParsedRedisUrl = { mode, tls: scheme === 'rediss', hosts, db: 0 };
  if (userinfo) {
    const colon = userinfo.indexOf(':');
    const user = colon < 0 ? userinfo : userinfo.slice(0, colon);
    const pass = colon < 0 ? '' : userinfo.slice(colon + 1);
    if (user) parsed.username = decodeURIComponent(user);
    if (pass) parsed.password = decodeURIComponent(pass);
  }
  const segments = (path ?? '').split('/').filter((s) => s !== '');
  if (mode === 'sentinel') {
    const name = segments.shift();
    if (!name) throw new Error('a redis+sentinel:// URL needs the master name as its path: …/mymaster');
    parsed.sentinelName = decodeURIComponent(name);
  }
  const dbText = segments[0];
  if (dbText !== undefined) {
    if (mode === 'cluster')
      throw new Error('Redis Cluster has only database 0; drop the /db part of the URL');
    if (!/^\d+$/.test(dbText))
      throw new Error(`Redis database must be a number, got ${JSON.stringify(dbText)}`);
    parsed.db = Number.parseInt(dbText, 10);
  }
  const params = new URLSearchParams(query ?? '');
  const sentinelPassword = params.get('sentinelPassword');
  if (sentinelPassword) parsed.sentinelPassword = sentinelPassword;
  return parsed;
}

function parseHost(text: string, defaultPort: number): RedisHost {
  // [::1]:6379 or host:6379 or host
  const m = /^(\[[^\]]+\]|[^:]+)(?::(\d+))?$/.exec(text);
  if (!m?.[1]) throw new Error(`bad Redis host ${JSON.stringify(text)} (expected host or host:port)`);
  const host = m[1].startsWith('[') ? m[1].slice(1, -1) : m[1];
  return { host, port: m[2] ? Number.parseInt(m[2], 10) : defaultPort };
}

function backoff(maxBackoffMs: number): (times: number) => number {
  // Bounded, jittered; never gives up (returning null would end the client for good).
  return (times) => Math.min(maxBackoffMs, 50 * 2 ** Math.min(times, 10)) + Math.floor(Math.random() * 50);
}

/** ioredis options for one node or a Sentinel-managed master (not for Cluster: see createRedis). */
export function redisOptionsFromUrl(url: string, options: ConnectionOptions = {}): RedisOptions {
  const parsed = parseRedisUrl(url);
  if (parsed.mode === 'cluster') throw new Error('redisOptionsFromUrl: a cluster URL needs createRedis()');
  return nodeOptions(parsed, options);
}

function nodeOptions(parsed: ParsedRedisUrl, options: ConnectionOptions): RedisOptions {
  const first = parsed.hosts[0] ?? { host: '127.0.0.1', port: 6379 };
  const redisOptions: RedisOptions = {
    db: parsed.db,
    maxRetriesPerRequest: options.maxRetriesPerRequest === undefined ? 20 : options.maxRetriesPerRequest,
    retryStrategy: backoff(options.maxBackoffMs ?? 2000),
    enableReadyCheck: true,
    lazyConnect: options.lazyConnect ?? false,
  };
  if (parsed.mode === 'sentinel') {
    // TODO(sentinel): mapped from ioredis's documented options and unit-tested, but not yet run
    // against a real Sentinel deployment (no integration test spawns one).
    redisOptions.sentinels = parsed.hosts;
    redisOptions.name = parsed.sentinelName ?? 'mymaster';
    if (parsed.sentinelPassword) redisOptions.sentinelPassword = parsed.sentinelPassword;
    if (parsed.tls) {
      redisOptions.enableTLSForSentinelMode = true;
      redisOptions.sentinelTLS = {};
    }
  } else {
    redisOptions.host = first.host;
    redisOptions.port = first.port;
  }
  if (parsed.username) redisOptions.username = parsed.username;
  if (parsed.password) redisOptions.password = parsed.password;
  if (parsed.tls) redisOptions.tls = parsed.mode === 'sentinel' ? {} : { servername: first.host };
  if (options.connectionName) redisOptions.connectionName = options.connectionName;
  return redisOptions;
}

function clusterOptions(parsed: ParsedRedisUrl, options: ConnectionOptions): ClusterOptions {
  const node: NonNullable<ClusterOptions['redisOptions']> = {
    maxRetriesPerRequest: options.maxRetriesPerRequest === undefined ? 20 : options.maxRetriesPerRequest,
    enableReadyCheck: true,
  };
  if (parsed.username) node.username = parsed.username;
  if (parsed.password) node.password = parsed.password;
  if (parsed.tls) node.tls = {};
  if (options.connectionName) node.connectionName = options.connectionName;
  return {
    redisOptions: node,
    clusterRetryStrategy: backoff(options.maxBackoffMs ?? 2000),
    lazyConnect: options.lazyConnect ?? false,
    enableReadyCheck: true,
  };
}

/**
 * Opens a client for any supported URL: `redis[s]://` one node, `redis[s]+cluster://h:p,h:p`
 * (or `cluster: true`) a Cluster, `redis[s]+sentinel://h:p,h:p/master[/db]` a Sentinel-managed
 * master. With Cluster, use a `{hash-tagged}` key prefix so multi-key commands stay in one slot.
 */
export function createRedisClient(url: string, options: ConnectionOptions = {}): RedisClient {
  const parsed = parseRedisUrl(url, options.cluster === undefined ? {} : { cluster: options.cluster });
  const client: RedisClient =
    parsed.mode === 'cluster'
      ? new Cluster(parsed.hosts, clusterOptions(parsed, options))
      : new Redis(nodeOptions(parsed, options));
  client.on('error', options.onError ?? (() => undefined));
  return client;
}

/**
 * Like createRedisClient but typed as one node (`Redis`): for code that needs node-only APIs.
 * A cluster URL is refused here with a pointer to createRedisClient, never silently mis-typed.
 */
export function createRedis(url: string, options: ConnectionOptions = {}): Redis {
  const parsed = parseRedisUrl(url, options.cluster === undefined ? {} : { cluster: options.cluster });
  if (parsed.mode === 'cluster') {
    throw new Error(`${redactRedisUrl(url)} is a Redis Cluster: open it with createRedisClient()`);
  }
  const client = new Redis(nodeOptions(parsed, options));
  client.on('error', options.onError ?? (() => undefined));
  return client;
}

export function isCluster(client: RedisClient): client is Cluster {
  return client instanceof Cluster;
}

/** Hides the password of a Redis URL (any variant, even a malformed one), for logs and errors. */
export function redactRedisUrl(url: string): string {
  return url
    .replace(/^([a-z+]+:\/\/)([^@/?#]*)@/i, (_all, scheme: string, userinfo: string) => {
      const colon = userinfo.indexOf(':');
      return colon < 0 ? `${scheme}${userinfo}@` : `${scheme}${userinfo.slice(0, colon)}:***@`;
    })
    .replace(/([?&]sentinelPassword=)[^&#]*/g, '$1***');
}
