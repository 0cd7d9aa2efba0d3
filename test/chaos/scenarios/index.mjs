// The scenarios in the order they run, each with its time limit (smoke and full).
import { killScenario } from './kill.mjs';

export const SCENARIOS = [
  { name: 'kill-9', run: killScenario, smokeLimitMs: 300_000, fullLimitMs: 30 * 60_000 },
];
