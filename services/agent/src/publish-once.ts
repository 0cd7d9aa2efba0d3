// Publish a request's RESPONSE at most once however many attempts reach the end (a worker that
// lost its lock, a crash after publishing): a two-phase guard key per request id.
import { NightshiftError } from '@nightshift/protocol';
import type { RedisClient } from '@nightshift/redis';

export interface PublishOnceOptions {
  /** While one attempt publishes, others wait; a crashed publisher's claim expires after this. */
  pendingTtlMs?: number;
  /** How long "answered" is remembered (default 7 days, like the bus's request guard). */
  doneTtlMs?: number;
  pollMs?: number;
  signal?: AbortSignal;
}

export type PublishOnceResult = { published: true; logId: string } | { published: false; logId: string };

const RELEASE =
  "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

/** What the guard says about a request: answered (with the log id), being answered, or neither. */
export async function answeredState(redis: RedisClient, key: string): Promise<'done' | 'pending' | 'none'> {
  const value = await redis.get(key);
  if (value === null) return 'none';
  return value.startsWith('done:') ? 'done' : 'pending';
}

/**
 * Claim (`SET NX`, "pending") → publish → mark "done:<logId>". A second attempt that finds
 * "done" publishes nothing; one that finds "pending" waits for it to turn "done" or expire.
 * Remaining gap, by design small: a process killed between the bus's MULTI and the "done" mark
 * lets a later attempt publish again once the pending claim expires. Closing it needs the mark in
 * the bus's own MULTI (a bus feature: a publish guard for every message type, not only REQUEST).
 */
export async function publishOnce(
  redis: RedisClient,
  key: string,
  publish: () => Promise<{ logId: string }>,
  options: PublishOnceOptions = {},
): Promise<PublishOnceResult> {
  const pendingTtlMs = options.pendingTtlMs ?? 30_000;
  const doneTtlMs = options.doneTtlMs ?? 7 * 24 * 3600 * 1000;
  const pollMs = options.pollMs ?? 200;
  const token = `pending:${process.pid}:${Math.random().toString(36).slice(2)}`;
  for (;;) {
    options.signal?.throwIfAborted();
    const claimed = await redis.set(key, token, 'PX', pendingTtlMs, 'NX');
    if (claimed === 'OK') {
      let logId: string;
      try {
        ({ logId } = await publish());
      } catch (error) {
        await redis.eval(RELEASE, 1, key, token).catch(() => undefined);
        throw error;
      }
      await redis.set(key, `done:${logId}`, 'PX', doneTtlMs);
      return { published: true, logId };
    }
    const value = await redis.get(key);
    if (value?.startsWith('done:')) return { published: false, logId: value.slice(5) };
    if (value !== null) await pause(pollMs, options.signal);
  }
}

function pause(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(
        new NightshiftError('ABORTED', 'stopped waiting for another attempt to publish', {
          category: 'transient',
        }),
      );
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
