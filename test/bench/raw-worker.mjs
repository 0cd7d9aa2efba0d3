// The dispatch baseline's worker: a plain BullMQ Worker with a trivial processor, in its own
// process like an agent. Env: REDIS_URL, BENCH_PREFIX, BENCH_QUEUE, BENCH_CONCURRENCY.
import { createRedisClient } from '@nightshift/redis';
import { Worker } from 'bullmq';
import { serveUntilSignalled } from './lib/worker-process.mjs';

const connection = createRedisClient(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
  maxRetriesPerRequest: null,
  connectionName: 'bench-raw-worker',
  onError: (error) => process.stderr.write(`redis: ${error.message}\n`),
});
const worker = new Worker(process.env.BENCH_QUEUE ?? 'bench-raw', async (job) => ({ answered: job.id }), {
  connection,
  prefix: process.env.BENCH_PREFIX,
  concurrency: Number(process.env.BENCH_CONCURRENCY ?? '16'),
});
await serveUntilSignalled(worker, connection);
