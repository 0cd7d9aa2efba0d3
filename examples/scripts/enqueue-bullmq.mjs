// The wire contract, with nothing but BullMQ (the same works from Python's or Elixir's BullMQ):
// queue "runs" under the deployment's prefix, job name "run", data { task, workspace?, base?,
// title?, budget?, priority? } (validated by the Director: a bad job fails with the reason), BullMQ
// priority 1 (EMERGENCY) … 4 (LOW), and any unique job id: the run's id is "run_<job id>".
//
//   REDIS_URL=redis://127.0.0.1:6379 node examples/scripts/enqueue-bullmq.mjs "Fix the failing sum test" [workspace]
//
// Waits until the Director's intake has completed the job (the run exists; the Director drives it from
// there) and prints the run id; a job it refuses (bad data, a workspace outside the roots) fails with
// the reason, printed here.
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';

const [task, workspace] = process.argv.slice(2);
if (!task) {
  process.stderr.write('usage: node enqueue-bullmq.mjs "<task>" [workspace]\n');
  process.exit(2);
}
const prefix = process.env.NIGHTSHIFT_PREFIX ?? 'nightshift';
const connection = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
  maxRetriesPerRequest: null,
});
const queue = new Queue('runs', { connection, prefix });
const PENDING = new Set(['waiting', 'prioritized', 'delayed', 'active', 'unknown']);
try {
  const jobId = `script${Date.now().toString(36)}`;
  const data = { task, priority: 'NORMAL', ...(workspace ? { workspace } : {}) };
  const job = await queue.add('run', data, { jobId, priority: 3 });
  console.log(`enqueued job ${job.id}: run_${job.id}`);
  let state = await queue.getJobState(jobId);
  for (let i = 0; i < 240 && PENDING.has(state); i++) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    state = await queue.getJobState(jobId);
  }
  if (state === 'failed') {
    const failed = await queue.getJob(jobId);
    console.log(`run_${job.id} refused: ${failed?.failedReason}`);
    process.exitCode = 1;
  } else if (state === 'completed') {
    console.log(`run_${job.id} created by the Director`);
  } else {
    console.log(`run_${job.id} still ${state}: is a Director running on prefix "${prefix}"?`);
    process.exitCode = 1;
  }
} finally {
  await queue.close();
  await connection.quit();
}
