// What every long-running service opens on Redis, built one way: the key builder, a command
// connection, a blocking connection for BullMQ workers and QueueEvents, and the bus.
import type { Bus } from './bus/index.js';
import { createBus } from './bus/index.js';
import { createRedisClient, type RedisClient } from './connection.js';
import { createKeys, type Keys } from './keys.js';

/** config.redis (structurally: this package does not depend on the config package). */
export interface ServiceRedisSettings {
  url: string;
  prefix: string;
  streamMaxLen: number;
  maxDeliveries: number;
  claimIdleMs: number;
}

export interface ServiceConnections {
  keys: Keys;
  /** Commands (bounded retries per request); named after the service in CLIENT LIST. */
  redis: RedisClient;
  /** For BullMQ Workers and QueueEvents: `maxRetriesPerRequest: null` (REFERENCE). */
  blocking: RedisClient;
  bus: Bus;
  /** Closes the bus (its consumers and queues), then drops both connections. */
  close(): Promise<void>;
}

export function openServiceConnections(
  settings: ServiceRedisSettings,
  name: string,
  onError: (error: Error) => void,
): ServiceConnections {
  const keys = createKeys(settings.prefix);
  const redis = createRedisClient(settings.url, { onError, connectionName: name });
  const blocking = createRedisClient(settings.url, {
    onError,
    maxRetriesPerRequest: null,
    connectionName: `${name}-blocking`,
  });
  const bus = createBus({
    url: settings.url,
    keys,
    streamMaxLen: settings.streamMaxLen,
    maxDeliveries: settings.maxDeliveries,
    claimIdleMs: settings.claimIdleMs,
    onError,
  });
  return {
    keys,
    redis,
    blocking,
    bus,
    async close() {
      await bus.close();
      redis.disconnect();
      blocking.disconnect();
    },
  };
}
