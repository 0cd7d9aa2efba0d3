// The typed client for scripts: enqueue a run on queue `runs` the same way the CLI and the
// dashboard do (job name `run`, data validated by the shared schema before it is sent).
import { type RunInput, RunInputSchema, validate } from '@nightshift/protocol';
import { Queue } from 'bullmq';
import { createRedisClient } from '../connection.js';
import { createKeys, QUEUE_NAMES } from '../keys.js';

export interface EnqueueRunOptions {
  /** Key prefix (NIGHTSHIFT_PREFIX), default `nightshift`. */
  prefix?: string;
  /** Job id; also makes the run id (`run_<jobId>`), so a retried enqueue is idempotent. */
  jobId?: string;
}

/** BullMQ priority of a run job by its `priority` (never 0: REFERENCE, 0 jumps the line). */
const RUN_PRIORITY = { EMERGENCY: 1, HIGH: 2, NORMAL: 3, LOW: 4 } as const;

/**
 * Enqueues a run; returns its job id and the run id the Director gives it (derived from the
 * job id, so it is known before the Director has seen the job).
 */
export async function enqueueRun(
  redisUrl: string,
  input: RunInput,
  options: EnqueueRunOptions = {},
): Promise<{ jobId: string; runId: string }> {
  const data = validate(RunInputSchema, input, 'run');
  const keys = createKeys(options.prefix ?? 'nightshift');
  const connection = createRedisClient(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(QUEUE_NAMES.runs, { connection, prefix: keys.prefix });
  queue.on('error', () => undefined);
  const jobId = options.jobId ?? `j${Date.now().toString(36)}${Math.random().toString(36).slice(2, 10)}`;
  try {
    await queue.add('run', data, {
      jobId,
      priority: RUN_PRIORITY[data.priority ?? 'NORMAL'],
      attempts: 3,
      backoff: { type: 'exponential', delay: 1000 },
      removeOnComplete: { age: 7 * 24 * 3600 },
      removeOnFail: { age: 30 * 24 * 3600 },
    });
  } finally {
    await queue.close();
    connection.disconnect();
  }
  return { jobId, runId: runIdForJob(jobId) };
}

/** The run id a `runs` job will get (the Director derives it from the job id). */
export function runIdForJob(jobId: string): string {
  return `run_${jobId}`;
}
