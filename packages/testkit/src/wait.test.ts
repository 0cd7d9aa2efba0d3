// waitFor/freePort: resolve with the predicate's value, time out with `what` in the message.
import { TimeoutError } from '@nightshift/protocol';
import { describe, expect, it } from 'vitest';
import { freePort, sleep, waitFor } from './wait.js';

describe('waitFor', () => {
  it('resolves with the first truthy value, polling through falsy ones and thrown errors', async () => {
    let calls = 0;
    const value = await waitFor(
      () => {
        calls += 1;
        if (calls === 1) throw new Error('not yet');
        return calls >= 3 ? { calls } : null;
      },
      { intervalMs: 1 },
    );
    expect(value).toEqual({ calls: 3 });
  });

  it('times out with a TimeoutError naming what was awaited, the last error as cause', async () => {
    const cause = new Error('still down');
    const error = await waitFor(
      () => {
        throw cause;
      },
      { timeoutMs: 30, intervalMs: 5, what: 'redis to answer' },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TimeoutError);
    expect((error as Error).message).toBe('waiting for redis to answer timed out after 30 ms');
    expect((error as Error).cause).toBe(cause);
  });
});

describe('sleep', () => {
  it('ends early when its signal aborts', async () => {
    const controller = new AbortController();
    const slept = sleep(60_000, controller.signal);
    controller.abort();
    await expect(slept).resolves.toBeUndefined();
  });
});

describe('freePort', () => {
  it('returns a usable TCP port', async () => {
    const port = await freePort();
    expect(Number.isInteger(port)).toBe(true);
    expect(port).toBeGreaterThan(0);
  });
});
