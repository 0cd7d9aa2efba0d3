// The dispatch baseline's worker: a plain BullMQ Worker with a trivial processor, in its own
// process like an agent. Env: REDIS_URL, BENCH_PREFIX, BENCH_QUEUE, BENCH_CONCURRENCY.
import { createRedisClient } from '@nightshift/redis';
import { Worker } from 'bullmq';

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
worker.on('error', (error) => process.stderr.write(`worker: ${error.message}\n`));
await worker.waitUntilReady();
process.stdout.write('READY\n');

let closing = false;
const stop = async () => {
  if (closing) return;
  closing = true;
  await worker.close();
  connection.disconnect();
};
process.once('SIGTERM', () => void stop());
process.once('SIGINT', () => void stop());
