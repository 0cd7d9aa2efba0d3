// publish(): validate, enforce the topology, then route. A REQUEST is work and becomes a BullMQ
// job on `agent.<to>`; every other type is a stream entry on `bus:to:<to>`; all go to `bus:log`.
// Every message id is published at most once while its guard lives (dedupeTtlMs).
import { assertRoute, BULLMQ_PRIORITY, MessageSchema, validate } from '@nightshift/protocol';
import type { JobsOptions } from 'bullmq';
import { QUEUE_NAMES } from '../keys.js';
import { runScript } from '../scripts.js';
import type { BusContext } from './context.js';
import { routeOf } from './entries.js';
import type { PublishResult } from './types.js';

/** Completed requests are kept a day (and at most 10k), failed ones a week: enough to inspect. */
export const DEFAULT_REQUEST_JOB_OPTIONS: Omit<JobsOptions, 'jobId' | 'priority'> = {
  removeOnComplete: { age: 24 * 3600, count: 10_000 },
  removeOnFail: { age: 7 * 24 * 3600, count: 50_000 },
};

export function createPublisher(ctx: BusContext): (input: unknown) => Promise<PublishResult> {
  const { keys, redis } = ctx;
  const jobOptions = { ...DEFAULT_REQUEST_JOB_OPTIONS, ...ctx.options.requestJobOptions };
  const maxLen = String(ctx.streamMaxLen);

  return async function publish(input) {
    // Both checks come before any write: a refused message leaves no trace in Redis.
    const message = validate(MessageSchema, input, 'message');
    assertRoute(routeOf(message));
    const json = JSON.stringify(message);

    if (message.type === 'REQUEST') {
      // Order: (1) guard check, (2) job add, (3) log append + guard set, atomically in logOnce-2.
      // The job add runs BullMQ's own Lua and cannot share a MULTI with the log append, so the
      // job goes first: it is idempotent by job id, and a crash between (2) and (3) is healed by
      // re-publishing (the add is then a no-op and the log gets its one entry). The other order
      // could log work that was never queued. (1) keeps a re-sent request from being queued
      // again after its finished job was removed, for as long as the guard lives (dedupeTtlMs).
      const guard = keys.published(message.id);
      const earlier = await redis.get(guard);
      if (earlier !== null) return { logId: earlier, jobId: message.id, duplicate: true };
      const job = await ctx.queue(QUEUE_NAMES.agent(message.to)).add(message.type, message, {
        ...jobOptions,
        jobId: message.id,
        priority: BULLMQ_PRIORITY[message.priority],
      });
      const reply = (await runScript(
        redis,
        'logOnce-2',
        [guard, keys.busLog],
        [json, maxLen, ctx.dedupeTtlMs],
      )) as [number, string];
      const result: PublishResult = { logId: String(reply[1]), jobId: job.id ?? message.id };
      if (reply[0] !== 1) result.duplicate = true;
      return result;
    }

    // One script: the inbox entry, the log entry and the publish guard exist together or not at
    // all, so a message re-sent under the same id (a retried job re-publishing its RESPONSE, an
    // ALERT sent again after a stall) is delivered once. The guard used to cover REQUESTs only;
    // a cut AOF could then keep an answer but lose the separate "answered" mark written after it,
    // and the job re-ran and answered twice (chaos redis-restart).
    const reply = (await runScript(
      redis,
      'publishOnce-3',
      [keys.published(message.id), keys.busTo(message.to), keys.busLog],
      [json, maxLen, ctx.dedupeTtlMs],
    )) as [number, string, string?];
    if (reply[0] !== 1) return { logId: String(reply[1]), duplicate: true };
    return { streamId: String(reply[2]), logId: String(reply[1]) };
  };
}
