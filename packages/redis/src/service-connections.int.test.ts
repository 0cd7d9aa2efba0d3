import { describe, expect, it } from 'vitest';
import { createRedis } from './connection.js';
import { openServiceConnections } from './service-connections.js';
import { deletePrefix, REDIS_URL, uniquePrefix, waitFor } from './test-support.js';

describe('openServiceConnections', () => {
  it('opens named command and blocking connections and a bus on the prefix, and closes them all', async () => {
    const prefix = uniquePrefix('svc');
    const errors: Error[] = [];
    const c = openServiceConnections(
      { url: REDIS_URL, prefix, streamMaxLen: 1000, maxDeliveries: 5, claimIdleMs: 60_000 },
      'tester',
      (e) => errors.push(e),
    );
    const admin = createRedis(REDIS_URL);
    try {
      expect(c.keys.prefix).toBe(prefix);
      expect(c.bus.keys.prefix).toBe(prefix);
      expect(
        (c.blocking.options as { maxRetriesPerRequest?: number | null }).maxRetriesPerRequest,
      ).toBeNull();
      await Promise.all([c.redis.ping(), c.blocking.ping()]);
      const clients = String(await admin.client('LIST'));
      expect(clients).toMatch(/name=tester /);
      expect(clients).toMatch(/name=tester-blocking /);
      await c.close();
      await waitFor(() => c.redis.status === 'end' && c.blocking.status === 'end', 'both connections ended');
      expect(errors).toEqual([]);
    } finally {
      await deletePrefix(admin, prefix);
      admin.disconnect();
    }
  });
});
