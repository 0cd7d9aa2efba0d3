// The scenarios in the order they run, each with its hard time limit (smoke and full).
import { anthropicFaultsScenario } from './anthropic-faults.mjs';
import { diskFullScenario } from './disk-full.mjs';
import { fuzzScenario } from './fuzz.mjs';
import { killScenario } from './kill.mjs';
import { killAllScenario } from './kill-all.mjs';
import { ollamaOutageScenario } from './ollama-outage.mjs';
import { redisRestartScenario } from './redis-restart.mjs';

export const SCENARIOS = [
  { name: 'kill-9', run: killScenario, smokeLimitMs: 300_000, fullLimitMs: 30 * 60_000 },
  { name: 'kill-all', run: killAllScenario, smokeLimitMs: 240_000, fullLimitMs: 10 * 60_000 },
  { name: 'redis-restart', run: redisRestartScenario, smokeLimitMs: 300_000, fullLimitMs: 30 * 60_000 },
  { name: 'ollama-outage', run: ollamaOutageScenario, smokeLimitMs: 300_000, fullLimitMs: 25 * 60_000 },
  { name: 'anthropic-faults', run: anthropicFaultsScenario, smokeLimitMs: 240_000, fullLimitMs: 15 * 60_000 },
  { name: 'disk-full', run: diskFullScenario, smokeLimitMs: 240_000, fullLimitMs: 15 * 60_000 },
  { name: 'fuzz', run: fuzzScenario, smokeLimitMs: 300_000, fullLimitMs: 30 * 60_000 },
];
