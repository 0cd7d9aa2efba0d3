// The taking side of a REQUEST, in one script each (issue 23 §2): an agent's task start (mark the
// request taken, check whether it was answered, keep its first start, publish its STATUS) and a
// bare mark for consumers with no task start. See lua/startTask-6.lua and lua/logOnce-2.lua.
import { assertRoute, MessageSchema, validate } from '@nightshift/protocol';
import { runScript } from '../scripts.js';
import type { BusContext } from './context.js';
import { routeOf } from './entries.js';
import type { StartTaskInput, StartTaskResult } from './types.js';

/** What a consumer appends to a REQUEST's guard once it took the job (see logOnce-2.lua). */
export const TAKEN_SUFFIX = ' taken';

/** The log entry id a guard holds, without the taken mark a REQUEST's guard may carry. */
export function guardLogId(value: string | null): string | null {
  return value?.endsWith(TAKEN_SUFFIX) ? value.slice(0, -TAKEN_SUFFIX.length) : value;
}

/** Where a task's first start is kept (a restarted attempt counts its run timeout from there). */
export function taskStartedKey(ctx: BusContext, requestId: string): string {
  return ctx.keys.custom('task', requestId, 'started');
}

export function createTaskStarter(ctx: BusContext): (input: StartTaskInput) => Promise<StartTaskResult> {
  const maxLen = String(ctx.streamMaxLen);
  return async function startTask(input) {
    // The STATUS is checked as publish() checks a message, before anything is written.
    const status = validate(MessageSchema, input.status, 'status');
    if (status.type !== 'STATUS') throw new Error(`startTask publishes a STATUS, not a ${status.type}`);
    assertRoute(routeOf(status));
    const { keys } = ctx;
    const reply = (await runScript(
      ctx.redis,
      'startTask-6',
      [
        keys.published(input.requestId),
        keys.published(input.responseId),
        taskStartedKey(ctx, input.requestId),
        keys.published(status.id),
        keys.busTo(status.to),
        keys.busLog,
      ],
      [
        input.now,
        input.keepStartMs ?? 0,
        input.runTimeoutMs ?? 0,
        JSON.stringify(status),
        maxLen,
        ctx.dedupeTtlMs,
      ],
    )) as [number, string, string?, string?];
    const [code, first, logId, streamId] = reply;
    if (code === 0) return { state: 'answered', logId: String(first) };
    const startedAt = Number(first) || input.now;
    if (code === 2) return { state: 'expired', startedAt };
    const sent =
      code === 1
        ? { logId: String(logId), streamId: String(streamId) }
        : { logId: String(logId), duplicate: true as const };
    return { state: 'started', startedAt, status: sent };
  };
}

export function createTakenMarker(ctx: BusContext): (requestId: string) => Promise<boolean> {
  return async (requestId) =>
    (await runScript(ctx.redis, 'markTaken-1', [ctx.keys.published(requestId)], [])) === 1;
}
