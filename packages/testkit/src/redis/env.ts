// A Redis the testkit does not own (REDIS_URL): check it answers, and clean only our own keys.
import { Redis } from 'ioredis';

/** Connects once and PINGs; rejects fast (no retry loop) so a wrong REDIS_URL fails clearly. */
export async function pingUrl(url: string, timeoutMs = 5_000): Promise<void> {
  const client = oneShotClient(url, timeoutMs);
  try {
    await client.connect();
    await client.ping();
  } finally {
    client.disconnect();
  }
}

/**
 * Deletes every key under `prefix` (SCAN + UNLINK). The shared DB is never flushed: other test
 * files run against it at the same time with their own prefixes.
 */
export async function deleteUnderPrefix(url: string, prefix: string): Promise<number> {
  const client = oneShotClient(url, 5_000);
  let deleted = 0;
  try {
    await client.connect();
    const pattern = `${prefix.replace(/[*?[\]\\]/g, '\\$&')}*`;
    let cursor = '0';
    do {
      const [next, keys] = await client.scan(cursor, 'MATCH', pattern, 'COUNT', 500);
      cursor = next;
      if (keys.length > 0) deleted += await client.unlink(...keys);
    } while (cursor !== '0');
  } finally {
    client.disconnect();
  }
  return deleted;
}

/** The URL with any password replaced, for error messages (secrets never reach a log line). */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password !== '') u.password = '***';
    return u.toString();
  } catch {
    return '(unparsable URL)';
  }
}

function oneShotClient(url: string, timeoutMs: number): Redis {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  // Connection errors surface through connect()/commands; the listener keeps them from being unhandled.
  client.on('error', () => undefined);
  return client;
}
