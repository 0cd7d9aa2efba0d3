// Pre-flight checks of the worker model itself (issue 20): what `/api/show` says it can do against
// what Nightshift will ask of it. A window larger than the model's trained context, or a model
// without tool calling, fails the night before it starts rather than at 3 a.m.
import type { Config } from '@nightshift/config';
import type { CheckResult } from './result.js';

interface ShowResponse {
  capabilities?: string[];
  model_info?: Record<string, unknown>;
}

/** `qwen3.context_length`, `llama.context_length`, …: the architecture prefixes the key. */
export function contextLengthOf(show: ShowResponse): number | undefined {
  for (const [key, value] of Object.entries(show.model_info ?? {})) {
    if (key.endsWith('.context_length') && typeof value === 'number') return value;
  }
  return undefined;
}

export async function modelChecks(
  config: Config,
  show: () => Promise<unknown>,
  ps: { models?: { name: string; context_length?: number }[] },
): Promise<CheckResult[]> {
  const { model, numCtx, numPredict } = config.ollama;
  const info = ((await show()) ?? {}) as ShowResponse;
  const trained = contextLengthOf(info);
  const capabilities = info.capabilities ?? [];
  const loaded = (ps.models ?? []).find((m) => m.name === model);
  return [
    {
      name: `num_ctx ${numCtx} within the model's context`,
      ok: trained === undefined || numCtx <= trained,
      required: true,
      detail:
        trained === undefined
          ? 'the server does not report the context length (old Ollama?): not checked'
          : `${model} was trained for ${trained} tokens; Nightshift asks for ${numCtx} (answers up to ${numPredict})`,
      fix: `set OLLAMA_NUM_CTX to at most ${trained ?? 'the model context'} (docs/operations.md has the memory arithmetic)`,
    },
    {
      name: `${model} can call tools`,
      ok: capabilities.length === 0 || capabilities.includes('tools'),
      required: true,
      detail:
        capabilities.length === 0
          ? 'the server does not list capabilities (Ollama older than 0.6.4?): not checked'
          : `capabilities: ${capabilities.join(', ')}`,
      fix: 'the agents work through tool calls: use a model whose template supports tools (qwen3, llama3.1+, …)',
    },
    {
      name: 'loaded window matches num_ctx',
      ok: loaded?.context_length === undefined || loaded.context_length === numCtx,
      required: false,
      detail:
        loaded?.context_length === undefined
          ? 'model not loaded, or the server does not say its window'
          : `loaded with ${loaded.context_length} tokens; Nightshift asks for ${numCtx}`,
      fix: `Ollama reloads the model when num_ctx changes: set OLLAMA_CONTEXT_LENGTH=${numCtx} on the Ollama server so the first call does not pay a reload`,
    },
  ];
}
