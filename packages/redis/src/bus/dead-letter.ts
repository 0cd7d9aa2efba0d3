// The `dead-letter` BullMQ queue: where entries and jobs that can never succeed go, with the
// reason and delivery count, so nothing is silently dropped (ARCHITECTURE §2). No worker
// consumes it; operators inspect it in Bull Board, and jobs stay until someone removes them.
import { BULLMQ_PRIORITY, newId } from '@nightshift/protocol';
import { type ConnectionOptions, Queue } from 'bullmq';
import { QUEUE_NAMES } from '../keys.js';
import type { BusContext } from './context.js';
import type { RawFields } from './entries.js';
import type { DeadLetterData, DeadLetterInput } from './types.js';

const JOB_NAME = 'dead-letter';

async function addTo(queue: Queue, jobId: string, data: DeadLetterData): Promise<string> {
  const job = await queue.add(JOB_NAME, data, {
    jobId,
    // Explicit, like every job here (REFERENCE: no priority = 0 = ahead of everything).
    priority: BULLMQ_PRIORITY.LOW,
  });
  return job.id ?? jobId;
}

function add(ctx: BusContext, jobId: string, data: DeadLetterData): Promise<string> {
  return addTo(ctx.queue(QUEUE_NAMES.deadLetter), jobId, data);
}

function payloadLetter(queue: Queue, input: DeadLetterInput): Promise<string> {
  const data: DeadLetterData = {
    source: input.source,
    reason: input.reason,
    deliveries: input.deliveries ?? 1,
    at: new Date().toISOString(),
    payload: input.payload,
  };
  return addTo(queue, input.id ?? newId('dl'), data);
}

export function deadLetterPayload(ctx: BusContext, input: DeadLetterInput): Promise<string> {
  return payloadLetter(ctx.queue(QUEUE_NAMES.deadLetter), input);
}

/** The id under which a bad job of `queue` is dead-lettered: a retried dead-lettering is a no-op. */
export function deadLetterJobId(queue: string, jobId: string | undefined): string {
  return `dl.${queue}.${jobId ?? 'unknown'}`.replace(/[^A-Za-z0-9_.-]/g, '.');
}

/** For a process without a bus (the llm-gateway): its own handle on the `dead-letter` queue. */
export interface DeadLetterQueue {
  deadLetter(input: DeadLetterInput): Promise<string>;
  close(): Promise<void>;
}

export function openDeadLetterQueue(connection: ConnectionOptions, prefix: string): DeadLetterQueue {
  const queue = new Queue(QUEUE_NAMES.deadLetter, { connection, prefix });
  queue.on('error', () => undefined); // connection errors are the owner's connection's to report
  return { deadLetter: (input) => payloadLetter(queue, input), close: () => queue.close() };
}

export interface DeadStreamEntry {
  stream: string;
  group: string;
  entryId: string;
  fields: RawFields;
  reason: string;
  deliveries: number;
}

/**
 * Dead-letters a stream entry. The job id is derived from group, stream and entry id, so a
 * crash between this add and the XACK that follows only repeats a no-op.
 */
export async function deadLetterEntry(ctx: BusContext, entry: DeadStreamEntry): Promise<string> {
  const local = entry.stream.startsWith(`${ctx.keys.prefix}:`)
    ? entry.stream.slice(ctx.keys.prefix.length + 1)
    : entry.stream;
  const jobId = `dl.${entry.group}.${local}.${entry.entryId}`.replace(/[^A-Za-z0-9_.-]/g, '.');
  return add(ctx, jobId, {
    source: entry.stream,
    reason: entry.reason,
    deliveries: entry.deliveries,
    at: new Date().toISOString(),
    stream: entry.stream,
    entryId: entry.entryId,
    group: entry.group,
    fields: entry.fields,
  });
}
