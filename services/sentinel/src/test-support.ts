// Test helpers of the Sentinel's integration tests (not built into dist).
import { waitFor } from '@nightshift/testkit';

/** testkit's waitFor, naming what timed out (a function is called only then: e.g. process tails). */
export function until<T>(
  check: () => Promise<T | undefined | false>,
  what: string | (() => string),
  timeoutMs: number,
): Promise<T> {
  return waitFor(check, { timeoutMs, intervalMs: 25 }).catch((error: unknown) => {
    throw new Error(`timed out waiting for ${typeof what === 'string' ? what : what()}`, { cause: error });
  }) as Promise<T>;
}
