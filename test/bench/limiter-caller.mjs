// One caller process of the limiter benchmark: GatewayChatModel calls with mixed role priorities,
// a fixed number in flight, started on "GO" from stdin; writes its per-call record as JSON.
// Env: REDIS_URL, BENCH_PREFIX, BENCH_INDEX, BENCH_CALLS, BENCH_OUTSTANDING, BENCH_MAX_QUEUE, BENCH_OUT.
import { writeFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { GatewayChatModel, LLM_PRIORITY, retryingChat } from '@nightshift/llm';
import { LlmQueueFull } from '@nightshift/protocol';
import { createRedisClient } from '@nightshift/redis';

// guide §7 priorities: director 1, architect 2, the workers 3, scribe 4; workers are the bulk.
const MIX = ['builder', 'scout', 'director', 'inspector', 'refactorer', 'architect', 'builder', 'scribe'];

const env = process.env;
const index = Number(env.BENCH_INDEX ?? '0');
const calls = Number(env.BENCH_CALLS ?? '100');
const outstanding = Number(env.BENCH_OUTSTANDING ?? '10');
const connection = createRedisClient(env.REDIS_URL ?? 'redis://127.0.0.1:6379', {
  maxRetriesPerRequest: null,
  connectionName: `bench-caller-${index}`,
  onError: (error) => process.stderr.write(`redis: ${error.message}\n`),
});
const client = new GatewayChatModel({
  connection,
  prefix: env.BENCH_PREFIX ?? 'nightshift',
  maxQueue: Number(env.BENCH_MAX_QUEUE ?? '100'),
  timeoutMs: 15 * 60_000,
  onError: (error) => process.stderr.write(`gateway client: ${error.message}\n`),
});
await client.ready();

const lines = createInterface({ input: process.stdin });
process.stdout.write('READY\n');
await new Promise((resolve) => lines.on('line', (line) => line.trim() === 'GO' && resolve()));

const records = [];
let queueFull = 0;
let next = 0;
async function lane() {
  while (next < calls) {
    const i = next++;
    const role = MIX[(i + index * 3) % MIX.length];
    const tag = `call-${index}-${i}`;
    const sentAt = Date.now();
    const record = { tag, role, priority: LLM_PRIORITY[role], sentAt, doneAt: 0, ok: false };
    try {
      await retryingChat(
        client,
        {
          role,
          messages: [
            { role: 'system', content: `You are the ${role} of a benchmark.\nROLE: ${role}` },
            { role: 'user', content: tag },
          ],
        },
        {
          attempts: 1000,
          baseMs: 20,
          maxMs: 500,
          onRetry: (error) => {
            if (error instanceof LlmQueueFull) queueFull++;
          },
        },
      );
      record.ok = true;
    } catch (error) {
      record.error = error instanceof Error ? error.message : String(error);
    }
    record.doneAt = Date.now();
    records.push(record);
  }
}
await Promise.all(Array.from({ length: Math.min(outstanding, calls) }, lane));

writeFileSync(
  env.BENCH_OUT ?? `/tmp/bench-caller-${index}.json`,
  JSON.stringify({ index, queueFull, records }),
);
process.stdout.write('DONE\n');
lines.close();
await client.close();
connection.disconnect();
