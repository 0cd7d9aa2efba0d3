// The scenarios in the order they run, each with its time limit (smoke and full).
import { killScenario } from './kill.mjs';
import { redisRestartScenario } from './redis-restart.mjs';

export const SCENARIOS = [
  { name: 'kill-9', run: killScenario, smokeLimitMs: 300_000, fullLimitMs: 30 * 60_000 },
  { name: 'redis-restart', run: redisRestartScenario, smokeLimitMs: 300_000, fullLimitMs: 30 * 60_000 },
];
