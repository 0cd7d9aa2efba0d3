// Finds a Redis for `nightshift up`: REDIS_URL if it answers, else 127.0.0.1:6379, else it
// starts `redis-server` itself with AOF in the data directory — and says which it used.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { createRedisClient, redactRedisUrl } from '@nightshift/redis';

export interface RedisChoice {
  url: string;
  how: 'configured' | 'local' | 'spawned';
  stop(): Promise<void>;
}

async function answers(url: string): Promise<boolean> {
  const client = createRedisClient(url, { maxRetriesPerRequest: 1, lazyConnect: true, maxBackoffMs: 200 });
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

export async function ensureRedis(options: {
  url: string;
  urlWasSet: boolean;
  dataDir: string;
  port?: number;
  log(line: string): void;
}): Promise<RedisChoice> {
  const none = async () => undefined;
  if (options.urlWasSet) {
    if (await answers(options.url)) return { url: options.url, how: 'configured', stop: none };
    throw new Error(
      `REDIS_URL ${redactRedisUrl(options.url)} does not answer; start that Redis or unset REDIS_URL`,
    );
  }
  const local = `redis://127.0.0.1:${options.port ?? 6379}`;
  if (await answers(local)) return { url: local, how: 'local', stop: none };
  mkdirSync(options.dataDir, { recursive: true });
  const port = options.port ?? 6379;
  const child: ChildProcess = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--dir',
      options.dataDir,
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
      '--maxmemory-policy',
      'noeviction',
      '--save',
      '',
    ],
    { stdio: 'ignore' },
  );
  const failed = new Promise<never>((_, reject) => {
    child.once('error', (error) =>
      reject(
        new Error(
          `no Redis found and redis-server could not start (${error.message}); install it: apt-get install redis-server`,
        ),
      ),
    );
  });
  for (let i = 0; i < 100; i++) {
    if (await Promise.race([answers(local), failed])) {
      options.log(`started redis-server on 127.0.0.1:${port} with AOF in ${options.dataDir}`);
      return {
        url: local,
        how: 'spawned',
        stop: () =>
          new Promise((resolve) => {
            if (child.exitCode !== null) return resolve();
            child.once('exit', () => resolve());
            child.kill('SIGTERM');
          }),
      };
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.kill('SIGKILL');
  throw new Error('redis-server did not answer within 10 s');
}
