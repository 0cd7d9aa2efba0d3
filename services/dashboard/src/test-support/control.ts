// For the dashboard's integration tests: seed a run's events under a test prefix, and remove every
// key of that prefix (then close the control) when the suite ends.
import type { OpenedControl } from '@nightshift/client';
import { type RunEventDraft, stamp } from '@nightshift/core';

/** Appends `drafts` to the run (created first with `task` when it has no events yet). */
export async function seedRun(
  control: OpenedControl,
  runId: string,
  drafts: RunEventDraft[],
  task = `task of ${runId}`,
): Promise<void> {
  const store = control.parts.store;
  const version = await store.version(runId);
  const at = new Date().toISOString();
  const result = await store.append(runId, version, [
    ...(version === 0 ? [stamp({ type: 'run.created', runId, task }, at)] : []),
    ...drafts.map((d) => stamp(d, at)),
  ]);
  if (!result.ok) throw new Error(`seeding ${runId} at version ${version} was refused`);
}

/** Deletes every key under `prefix`, then closes the control. */
export async function dropPrefixAndClose(control: OpenedControl, prefix: string): Promise<void> {
  const redis = control.parts.redis;
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  await control.close();
}
