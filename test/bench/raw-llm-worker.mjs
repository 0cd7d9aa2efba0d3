// The limiter's baseline worker (issue 23 §3): a plain BullMQ Worker that sends each job's messages to
// Ollama's /api/chat with fetch (keep-alive by default in Node) — what a team would write with nothing
// but BullMQ. Several of these processes share one queue whose global concurrency caps Ollama.
// Env: REDIS_URL, BENCH_PREFIX, BENCH_QUEUE, OLLAMA_HOST, BENCH_CONCURRENCY.
import { createRedisClient } from '@nightshift/redis';
import { Worker } from 'bullmq';
import { serveUntilSignalled } from './lib/worker-process.mjs';

const env = process.env;
const connection = createRedisClient(env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
  maxRetriesPerRequest: null,
  connectionName: 'bench-raw-llm-worker',
  onError: (error) => process.stderr.write(`redis: ${error.message}\n`),
});
const chatUrl = `${env.OLLAMA_HOST ?? 'http://127.0.0.1:11434'}/api/chat`;
const worker = new Worker(
  env.BENCH_QUEUE ?? 'bench-llm-raw',
  async (job) => {
    const res = await fetch(chatUrl, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'qwen3:32b', messages: job.data.messages, stream: false }),
    });
    if (!res.ok) throw new Error(`ollama answered ${res.status}`);
    const reply = await res.json();
    return { content: reply.message?.content ?? '' };
  },
  { connection, prefix: env.BENCH_PREFIX, concurrency: Number(env.BENCH_CONCURRENCY ?? '2') },
);
await serveUntilSignalled(worker, connection);
