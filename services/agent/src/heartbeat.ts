// A heartbeat loop (`<prefix>:heartbeat:<role>:<instance>` with TTL) as a Service, so main.ts
// starts it after the worker and stops it first; a failed beat is logged, never fatal. (Same file in
// services/llm-gateway: services may not import each other; a shared home would be @nightshift/runtime.)
import { clearHeartbeat, heartbeat, type Keys, type RedisClient } from '@nightshift/redis';
import type { Logger, Service } from '@nightshift/runtime';

export interface HeartbeatLoopOptions {
  redis: RedisClient;
  keys: Keys;
  role: string;
  instance: string;
  intervalMs: number;
  ttlMs: number;
  logger: Logger;
  /** Status and details at each beat. */
  describe: () => { status: string; info: Record<string, unknown> };
}

export function heartbeatLoop(options: HeartbeatLoopOptions): Service {
  let timer: NodeJS.Timeout | undefined;
  let beating: Promise<unknown> = Promise.resolve();
  const beat = () => {
    const { status, info } = options.describe();
    beating = heartbeat(options.redis, options.keys, {
      role: options.role,
      instance: options.instance,
      ttlMs: options.ttlMs,
      status,
      info,
    }).catch((error: unknown) => options.logger.warn({ err: error }, 'heartbeat failed'));
  };
  return {
    name: 'heartbeat',
    async start() {
      if (timer) return;
      beat();
      timer = setInterval(beat, options.intervalMs);
      await beating;
    },
    async stop() {
      if (!timer) return;
      clearInterval(timer);
      timer = undefined;
      await beating;
      await clearHeartbeat(options.redis, options.keys, options.role, options.instance).catch(
        (error: unknown) => options.logger.warn({ err: error }, 'could not clear the heartbeat'),
      );
    },
  };
}
