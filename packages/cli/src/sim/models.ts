// Starts the simulated model servers (fake Ollama + fake Anthropic from the testkit) that the
// real `ollama` and `@anthropic-ai/sdk` clients of the services talk to in `--sim` mode.
import {
  type FakeAnthropic,
  type FakeOllama,
  startFakeAnthropic,
  startFakeOllama,
} from '@nightshift/testkit';
import { directorScenario, workerScenario } from './scenario.js';

export interface SimulatedModels {
  ollama: FakeOllama;
  anthropic: FakeAnthropic;
  /** Environment that points the services at the simulated servers. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startSimulatedModels(options: {
  numParallel: number;
  latencyMs?: number;
}): Promise<SimulatedModels> {
  const ollama = await startFakeOllama({
    numParallel: options.numParallel,
    latencyMs: options.latencyMs ?? 150,
    scenario: workerScenario(),
  });
  const anthropic = await startFakeAnthropic({
    latencyMs: options.latencyMs ?? 150,
    scenario: directorScenario(),
  });
  return {
    ollama,
    anthropic,
    env: {
      OLLAMA_HOST: ollama.url,
      ANTHROPIC_BASE_URL: anthropic.url,
      // Not a key: the simulated Anthropic only checks that one is present.
      ANTHROPIC_API_KEY: 'sim-not-a-real-key',
      DIRECTOR_MODEL: 'claude-sonnet-4-6',
    },
    async stop() {
      await Promise.all([ollama.stop(), anthropic.stop()]);
    },
  };
}
