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
      // Order (issue 23 §2): (1) guard check + log append + guard set, in one script (logOnce-2),
      // (2) the job add, only when no consumer has taken this id yet. The add runs BullMQ's own
      // Lua and cannot share a script with the log append; logging first folds the guard check
      // into the append (it used to be a GET of its own before the add). A crash, or an AOF cut,
      // between (1) and (2) leaves a logged REQUEST with no job until it is published again: the
      // guard is not marked taken then, so the re-publish adds the job (idempotent by job id while
      // the job exists). Once a consumer took it (startTask-6, markTaken-1), a re-publish queues
      // nothing, even after the finished job was removed, for as long as the guard lives.
      const reply = (await runScript(
        redis,
        'logOnce-2',
        [keys.published(message.id), keys.busLog],
        [json, maxLen, ctx.dedupeTtlMs],
      )) as [number, string];
      const logId = String(reply[1]);
      if (reply[0] === 0) return { logId, jobId: message.id, duplicate: true };
      const job = await ctx.queue(QUEUE_NAMES.agent(message.to)).add(message.type, message, {
        ...jobOptions,
        jobId: message.id,
        priority: BULLMQ_PRIORITY[message.priority],
      });
      const result: PublishResult = { logId, jobId: job.id ?? message.id };
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
