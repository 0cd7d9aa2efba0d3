// Response bodies in Ollama's real API shapes: chat (whole and NDJSON chunks), tags, ps, show.
import { createHash } from 'node:crypto';
import { estimateTokens } from '../scenario.js';
import type { OllamaReply, OllamaRequestInfo } from './types.js';

const MS = 1_000_000; // Ollama reports durations in nanoseconds

export interface ChatTiming {
  arrival: number;
  /** Prompt tokens evaluated: what fitted the window (habits.ts fitWindow). */
  promptTokens: number;
  /** `length` when the answer stopped at num_predict. */
  doneReason?: 'stop' | 'length';
}

/** What a cooperative model appends when the request's `OUTPUT:` header asks for a schema. */
const STRUCTURED: Record<string, string> = {
  design: '{"components": ["the module named in the task"], "risks": []}',
  findings: '{"findings": []}',
};

/**
 * The reply used when no rule matches: names the role so multi-agent tests can tell calls apart.
 * Like a model that follows its instructions, it ends with the JSON a request's `OUTPUT: design`
 * or `OUTPUT: findings` header asks for (protocol outputs), read from the user messages.
 */
export function defaultReply(req: OllamaRequestInfo): OllamaReply {
  const base = `[fake-ollama] ${req.role ?? 'assistant'}: acknowledged (${req.messages.length} messages).`;
  const asked = req.messages
    .filter((m) => m.role === 'user')
    .map((m) => /^OUTPUT: (\w+)$/m.exec(String(m.content ?? ''))?.[1])
    .findLast((kind) => kind !== undefined);
  const structured = asked === undefined ? undefined : STRUCTURED[asked];
  return { content: structured === undefined ? base : `${base}\n${structured}` };
}

function assistantMessage(reply: OllamaReply, content: string): Record<string, unknown> {
  const message: Record<string, unknown> = { role: 'assistant', content };
  if (reply.thinking !== undefined) message.thinking = reply.thinking;
  if (reply.toolCalls !== undefined && reply.toolCalls.length > 0) {
    message.tool_calls = reply.toolCalls.map((call) => ({
      function: { name: call.name, arguments: call.arguments },
    }));
  }
  return message;
}

/** The counts and durations every final chat object carries. */
function finalFields(timing: ChatTiming, replyChars: number): Record<string, unknown> {
  const promptEvalCount = timing.promptTokens;
  const evalCount = estimateTokens(replyChars);
  const loadDuration = 1 * MS;
  const promptEvalDuration = promptEvalCount * 50_000;
  const evalDuration = evalCount * 200_000;
  const measured = (Date.now() - timing.arrival) * MS;
  return {
    done_reason: timing.doneReason ?? 'stop',
    done: true,
    total_duration: Math.max(measured, loadDuration + promptEvalDuration + evalDuration),
    load_duration: loadDuration,
    prompt_eval_count: promptEvalCount,
    prompt_eval_duration: promptEvalDuration,
    eval_count: evalCount,
    eval_duration: evalDuration,
  };
}

/** Characters of reply content counted for `eval_count`. */
export function replyChars(reply: OllamaReply): number {
  const toolChars = (reply.toolCalls ?? []).reduce(
    (sum, call) => sum + call.name.length + JSON.stringify(call.arguments).length,
    0,
  );
  return (reply.content ?? '').length + (reply.thinking ?? '').length + toolChars;
}

/** Non-streaming `POST /api/chat` answer. */
export function chatResponse(model: string, reply: OllamaReply, timing: ChatTiming): Record<string, unknown> {
  return {
    model,
    created_at: new Date().toISOString(),
    message: assistantMessage(reply, reply.content ?? ''),
    ...finalFields(timing, replyChars(reply)),
  };
}

/**
 * Streaming answer as NDJSON objects: content in word-sized pieces, tool calls in their own
 * chunk (as Ollama sends them), then a final `done: true` chunk with empty content and the counts.
 */
export function chatChunks(
  model: string,
  reply: OllamaReply,
  timing: ChatTiming,
): (() => Record<string, unknown>)[] {
  const pieces = (reply.content ?? '').match(/\s*\S+\s*/g) ?? [];
  const chunk = (message: Record<string, unknown>) => (): Record<string, unknown> => ({
    model,
    created_at: new Date().toISOString(),
    message,
    done: false,
  });
  const chunks = pieces.map((piece) => chunk({ role: 'assistant', content: piece }));
  if (reply.thinking !== undefined) {
    chunks.unshift(chunk({ role: 'assistant', content: '', thinking: reply.thinking }));
  }
  if (reply.toolCalls !== undefined && reply.toolCalls.length > 0) {
    chunks.push(chunk(assistantMessage({ toolCalls: reply.toolCalls }, '')));
  }
  // Built lazily so the final durations include the time spent streaming.
  chunks.push(() => ({
    model,
    created_at: new Date().toISOString(),
    message: { role: 'assistant', content: '' },
    ...finalFields(timing, replyChars(reply)),
  }));
  return chunks;
}

function digest(name: string): string {
  return createHash('sha256').update(name).digest('hex');
}

function details(name: string): Record<string, unknown> {
  const family = name.split(':')[0] || 'llama';
  const size = /:(\d+(?:\.\d+)?[bm])/i.exec(name)?.[1]?.toUpperCase() ?? '7B';
  return {
    parent_model: '',
    format: 'gguf',
    family,
    families: [family],
    parameter_size: size,
    quantization_level: 'Q4_K_M',
  };
}

export function tagsResponse(models: readonly string[], modifiedAt: string): Record<string, unknown> {
  return {
    models: models.map((name) => ({
      name,
      model: name,
      modified_at: modifiedAt,
      size: 20_000_000_000,
      digest: digest(name),
      details: details(name),
    })),
  };
}

export function psResponse(
  loaded: ReadonlyMap<string, number>,
  keepAliveMs: number,
  windows: ReadonlyMap<string, number> = new Map(),
): Record<string, unknown> {
  return {
    models: [...loaded].map(([name, lastUsed]) => ({
      name,
      model: name,
      size: 22_000_000_000,
      digest: digest(name),
      details: details(name),
      expires_at: new Date(lastUsed + keepAliveMs).toISOString(),
      size_vram: 22_000_000_000,
      // The window it was loaded with: that of the last request (Ollama reloads when it changes).
      context_length: windows.get(name) ?? 4096,
    })),
  };
}

export function showResponse(name: string, modifiedAt: string): Record<string, unknown> {
  return {
    license: 'fake',
    modelfile: `# fake Modelfile for ${name}\nFROM ${name}\n`,
    parameters: 'temperature 0.6',
    template: '{{ .Prompt }}',
    details: details(name),
    model_info: {
      'general.architecture': details(name).family,
      'general.parameter_count': 32_000_000_000,
      // qwen3's trained window; preflight compares num_ctx with it.
      [`${details(name).family}.context_length`]: 40_960,
    },
    capabilities: ['completion', 'tools'],
    modified_at: modifiedAt,
  };
}

/** `qwen3` and `qwen3:latest` are the same model to Ollama. */
export function normaliseModel(name: string): string {
  return name.includes(':') ? name : `${name}:latest`;
}
