// The simulated model in a container of the test stack (test/docker/compose.test.yml), run by the
// nightshift image itself: `node fake-models.mjs ollama` serves the testkit's fake Ollama on 11434,
// `node fake-models.mjs anthropic` its fake Anthropic on 8090, both with the replies `nightshift up --sim`
// uses, so a run goes from plan to finished with no LLM. Stops on SIGTERM (tini forwards it).
import { directorScenario, workerScenario } from '@nightshift/cli';
import { startFakeAnthropic, startFakeOllama } from '@nightshift/testkit';

const which = process.argv[2];
const numParallel = Number(process.env.OLLAMA_NUM_PARALLEL ?? '2');
// Per call; the test slows the model down so that a run lasts long enough to scale and restart mid-run.
const latencyMs = Number(process.env.FAKE_MODEL_LATENCY_MS ?? '150');
const server =
  which === 'ollama'
    ? await startFakeOllama({
        host: '0.0.0.0',
        port: 11434,
        numParallel,
        latencyMs,
        scenario: workerScenario(),
      })
    : which === 'anthropic'
      ? await startFakeAnthropic({
          host: '0.0.0.0',
          port: 8090,
          latencyMs,
          scenario: directorScenario(),
        })
      : undefined;
if (server === undefined) {
  process.stderr.write('usage: node fake-models.mjs ollama|anthropic\n');
  process.exit(2);
}
process.stdout.write(`fake ${which} (SIMULATED MODEL) listening on ${server.url}\n`);
const stop = () => {
  server.stop().then(
    () => process.exit(0),
    () => process.exit(1),
  );
};
process.once('SIGTERM', stop);
process.once('SIGINT', stop);
