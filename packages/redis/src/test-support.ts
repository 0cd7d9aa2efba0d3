// Shared by this package's integration tests only (excluded from the build): the Redis URL,
// a unique hash-tagged prefix per file, cleanup of exactly that prefix, and polling waits.
import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

export function uniquePrefix(label: string): string {
  return `{t-${label}-${randomBytes(4).toString('hex')}}`;
}

/** Deletes every key under the prefix (never FLUSHDB: the database may be shared). */
export async function deletePrefix(redis: Redis, prefix: string): Promise<void> {
  // SCAN MATCH is a glob: escape the braces' neighbours that are glob syntax ([ ] * ? \).
  const pattern = `${prefix.replace(/[[\]*?\\]/g, '\\$&')}:*`;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
}

/** Polls until `check` returns a value other than undefined/false, or fails after `timeoutMs`. */
export async function waitFor<T>(
  check: () => Promise<T | undefined | false> | T | undefined | false,
  what: string,
  timeoutMs = 30_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value !== undefined && value !== false) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}
