// The simulated model of the soak: the chaos harness's scripted run (one pass of P1–P4) with a
// latency per call drawn from a log-normal spread — most calls near the median, a long tail of
// slow ones — as a local model's calls vary with prompt and answer length.
import { defaultAnthropicReply, defaultOllamaReply } from '@nightshift/testkit';
import { anthropicRunRules, ollamaRunRules } from '../../chaos/lib/models.mjs';

/** A log-normal draw (Box–Muller), capped: median × e^(σ·z). Math.random: a soak need not repeat. */
export function latencyDraw({ latencyMedianMs, latencySigma, latencyMaxMs }) {
  const z = Math.sqrt(-2 * Math.log(1 - Math.random())) * Math.cos(2 * Math.PI * Math.random());
  return Math.min(latencyMaxMs, Math.round(latencyMedianMs * Math.exp(latencySigma * z)));
}

/** Wraps a rule so every reply it gives carries its own drawn latency. */
function withSpread(rule, opts) {
  const { reply } = rule;
  return {
    ...rule,
    reply: async (req) => {
      const base = typeof reply === 'function' ? await reply(req) : reply;
      return { ...base, latencyMs: latencyDraw(opts) };
    },
  };
}

/** Scripts both fakes for a run; every reply, the fakes' default ones too, gets a drawn latency. */
export function scriptSoakModel(world, opts) {
  world.ollama.setScenario(
    [...ollamaRunRules(), { reply: defaultOllamaReply }].map((r) => withSpread(r, opts)),
  );
  world.anthropic.setScenario(
    [...anthropicRunRules(), { reply: defaultAnthropicReply }].map((r) => withSpread(r, opts)),
  );
}
