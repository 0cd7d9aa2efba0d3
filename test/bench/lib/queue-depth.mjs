// How many calls wait on queue `llm` over time: a limiter that is never starved of work and
// still leaves slots idle is losing time in the hand-off, not waiting for callers.
import { LLM_QUEUE } from '@nightshift/llm';
import { createRedisClient } from '@nightshift/redis';
import { Queue } from 'bullmq';
import { round } from './stats.mjs';

/** Samples how many calls wait on `llm` (waiting + prioritized) every 100 ms: is the limiter ever starved? */
export function sampleQueueDepth(url, prefix) {
  const connection = createRedisClient(url, { maxRetriesPerRequest: null });
  const queue = new Queue(LLM_QUEUE, { connection, prefix });
  queue.on('error', () => undefined);
  const depths = [];
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      const counts = await queue.getJobCounts('waiting', 'prioritized');
      depths.push(Object.values(counts).reduce((s, n) => s + n, 0));
      await new Promise((r) => setTimeout(r, 100));
    }
  })();
  return async () => {
    stopped = true;
    await loop.catch(() => undefined);
    await queue.close();
    connection.disconnect();
    const sorted = [...depths].sort((a, b) => a - b);
    return {
      samples: depths.length,
      mean: round(depths.reduce((s, v) => s + v, 0) / Math.max(1, depths.length), 1),
      p10: sorted[Math.floor(sorted.length * 0.1)] ?? null,
      max: sorted.at(-1) ?? null,
      zeroShare: round(depths.filter((d) => d === 0).length / Math.max(1, depths.length), 3),
    };
  };
}
