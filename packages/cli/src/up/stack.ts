// One local deployment: a Redis (found or started), optionally the simulated models, and every
// service as a supervised child process. Shared by `nightshift up` and `nightshift demo`.
import { resolve } from 'node:path';
import { type Config, workspaceRootsOf } from '@nightshift/config';
import { withServiceNodeOptions } from '@nightshift/runtime';
import { type SimulatedModels, startSimulatedModels } from '../sim/models.js';
import { ensureRedis, type RedisChoice } from './redis.js';
import { findRoot, type Scale, stackSpecs } from './services.js';
import { Supervisor } from './supervisor.js';

export interface StackOptions {
  config: Config;
  /** The environment the services inherit (the CLI's own). */
  env: NodeJS.ProcessEnv;
  sim: boolean;
  scale?: Scale;
  /** Where a Redis started here keeps its AOF, and where memory/workspaces default to. */
  dataDir: string;
  write(line: string): void;
  colour?: boolean;
  /** Simulated model latency (ms). */
  simLatencyMs?: number;
  /** The folder `nightshift up` was started in: a default workspace root (issue 18 §7). */
  startedIn?: string;
  /** Services not to start even when built (e.g. the dashboard in CI). */
  skip?: readonly string[];
}

export interface Stack {
  root: string;
  redis: RedisChoice;
  sim: SimulatedModels | undefined;
  env: NodeJS.ProcessEnv;
  supervisor: Supervisor;
  stop(): Promise<void>;
}

export async function startStack(o: StackOptions): Promise<Stack> {
  const root = findRoot();
  const redis = await ensureRedis({
    url: o.config.redis.url,
    urlWasSet: o.env.REDIS_URL !== undefined && o.env.REDIS_URL !== '',
    dataDir: resolve(o.dataDir, 'redis'),
    log: o.write,
  });
  o.write(
    `redis: ${redis.how === 'spawned' ? 'started here' : redis.how} (${redis.url.replace(/\/\/[^@]*@/, '//***@')})`,
  );
  let sim: SimulatedModels | undefined;
  try {
    if (o.sim) {
      sim = await startSimulatedModels({
        numParallel: o.config.ollama.numParallel,
        ...(o.simLatencyMs === undefined ? {} : { latencyMs: o.simLatencyMs }),
      });
    }
    const env: NodeJS.ProcessEnv = {
      ...withServiceNodeOptions(o.env),
      REDIS_URL: redis.url,
      NIGHTSHIFT_PREFIX: o.config.redis.prefix,
      MEMORY_DIR: o.config.memoryDir,
      WORKSPACE_DIR: o.config.workspaceDir,
      // Issue 18 §7: every service checks runs against the same roots, by default WORKSPACE_DIR
      // and the folder `nightshift up` was started in.
      WORKSPACE_ROOTS: workspaceRootsOf(o.config, o.startedIn).join(','),
      ...(sim?.env ?? {}),
    };
    const supervisor = new Supervisor({ write: o.write, colour: o.colour ?? false });
    const specs = stackSpecs({ root, env, ...(o.scale ? { scale: o.scale } : {}) }).filter(
      (s) => !(o.skip ?? []).includes(s.name),
    );
    for (const spec of specs) supervisor.start(spec);
    return {
      root,
      redis,
      sim,
      env,
      supervisor,
      async stop() {
        await supervisor.stopAll();
        await sim?.stop();
        await redis.stop();
      },
    };
  } catch (error) {
    await sim?.stop();
    await redis.stop();
    throw error;
  }
}

export const SIM_BANNER = [
  '┌──────────────────────────────────────────────────────────────────────┐',
  '│  SIMULATED MODEL — no LLM is called. Ollama and Anthropic are local  │',
  '│  fake servers answering with scripted replies (nightshift up --sim). │',
  '└──────────────────────────────────────────────────────────────────────┘',
].join('\n');
