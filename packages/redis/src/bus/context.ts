// What the bus's parts share: the command connection, cached BullMQ queues, dedicated
// connections for blocking reads, settings, and the error sink. Internal to the package.

import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { Queue } from 'bullmq';
import { createRedisClient, type RedisClient } from '../connection.js';
import type { Keys } from '../keys.js';
import type { BusOptions } from './types.js';

export interface BusContext {
  readonly url: string;
  readonly keys: Keys;
  readonly redis: RedisClient;
  readonly streamMaxLen: number;
  readonly maxDeliveries: number;
  readonly claimIdleMs: number;
  readonly dedupeTtlMs: number;
  readonly options: BusOptions;
  onError(error: unknown): void;
  queue(name: string): Queue;
  /** A new connection for blocking reads (maxRetriesPerRequest null); closed by `close()`. */
  openBlocking(purpose: string): RedisClient;
  /** Forget a blocking connection the caller already closed. */
  release(client: RedisClient): void;
  readonly closed: boolean;
  closeAll(): Promise<void>;
}

export function toError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

export function defaultConsumerName(): string {
  return `${hostname()}-${process.pid}-${randomBytes(3).toString('hex')}`;
}

export function createContext(options: BusOptions): BusContext {
  const sink = options.onError ?? ((error: Error) => process.emitWarning(error));
  const onError = (error: unknown) => sink(toError(error));
  const base = { ...(options.connection ?? {}), onError };
  const redis = createRedisClient(options.url, { ...base, connectionName: 'nightshift-bus' });
  const queues = new Map<string, Queue>();
  const blocking = new Set<RedisClient>();
  let closed = false;

  return {
    url: options.url,
    keys: options.keys,
    redis,
    streamMaxLen: options.streamMaxLen ?? 100_000,
    maxDeliveries: options.maxDeliveries ?? 5,
    claimIdleMs: options.claimIdleMs ?? 10_000,
    dedupeTtlMs: options.dedupeTtlMs ?? 7 * 24 * 3600 * 1000,
    options,
    onError,
    get closed() {
      return closed;
    },
    queue(name) {
      let queue = queues.get(name);
      if (!queue) {
        // One shared connection for every queue: Queue never blocks (only Workers do).
        queue = new Queue(name, { connection: redis, prefix: options.keys.prefix });
        queue.on('error', onError);
        queues.set(name, queue);
      }
      return queue;
    },
    openBlocking(purpose) {
      if (closed) throw new Error('the bus is closed');
      const client = createRedisClient(options.url, {
        ...base,
        maxRetriesPerRequest: null,
        connectionName: `nightshift-${purpose}`,
      });
      blocking.add(client);
      return client;
    },
    release(client) {
      blocking.delete(client);
    },
    async closeAll() {
      if (closed) return;
      closed = true;
      for (const client of blocking) client.disconnect();
      blocking.clear();
      await Promise.allSettled([...queues.values()].map((q) => q.close()));
      queues.clear();
      try {
        await redis.quit();
      } catch (error) {
        // Already disconnected (e.g. Redis is down): fall back to a hard disconnect.
        onError(error);
        redis.disconnect();
      }
    },
  };
}
