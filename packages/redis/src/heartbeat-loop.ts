// A heartbeat loop (`<prefix>:heartbeat:<role>:<instance>` with TTL) as a start/stop service, so a
// main.ts starts it after its worker and stops it first; a failed beat is logged, never fatal.
import type { RedisClient } from './connection.js';
import { clearHeartbeat, heartbeat } from './heartbeats.js';
import type { Keys } from './keys.js';

/** The logging this loop needs (a pino logger fits); redis does not depend on the runtime package. */
interface WarnLogger {
  warn(details: Record<string, unknown>, message: string): void;
}

export interface HeartbeatLoopOptions {
  redis: RedisClient;
  keys: Keys;
  role: string;
  instance: string;
  intervalMs: number;
  ttlMs: number;
  logger: WarnLogger;
  /** Status and details at each beat. */
  describe: () => { status: string; info: Record<string, unknown> };
}

export function heartbeatLoop(options: HeartbeatLoopOptions): {
  name: string;
  start(): Promise<void>;
  stop(): Promise<void>;
} {
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
