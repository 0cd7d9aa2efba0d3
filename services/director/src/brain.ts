// The Director's judgement: Claude through @anthropic-ai/sdk when a key is set, else (or when
// Anthropic keeps failing past the SDK's retries) the Ollama model through the gateway — and
// every answer says which one spoke, so a DECISION made on the fallback is visible as such.
import type { ChatMessage, ChatModel, ChatResult } from '@nightshift/llm';
import { NightshiftError } from '@nightshift/protocol';

export interface BrainAnswer extends ChatResult {
  /** True when the primary (Claude) was unavailable and the fallback answered. */
  fallback: boolean;
  /** Why the fallback was used, when it was. */
  fallbackReason?: string;
}

export interface BrainOptions {
  primary?: ChatModel | undefined;
  fallback: ChatModel;
  /** Called when the primary fails and the fallback takes over (for logs and metrics). */
  onFallback?: (reason: string) => void;
}

export class DirectorBrain {
  readonly #primary: ChatModel | undefined;
  readonly #fallback: ChatModel;
  readonly #onFallback: (reason: string) => void;

  constructor(options: BrainOptions) {
    this.#primary = options.primary;
    this.#fallback = options.fallback;
    this.#onFallback = options.onFallback ?? (() => undefined);
  }

  async ask(system: string, user: string, runId: string, signal?: AbortSignal): Promise<BrainAnswer> {
    const messages: ChatMessage[] = [
      { role: 'system', content: system },
      { role: 'user', content: user },
    ];
    const base = { messages, role: 'director' as const, runId, ...(signal ? { signal } : {}) };
    if (this.#primary) {
      try {
        return { ...(await this.#primary.chat(base)), fallback: false };
      } catch (error) {
        // Invalid input to Claude will not get better on Ollama either, but a fatal auth error
        // (a revoked key at 3 a.m.) should not stop the night: fall back for everything but
        // a cancelled call.
        if (signal?.aborted) throw error;
        const reason = describe(error);
        this.#onFallback(reason);
        const answer = await this.#fallback.chat(base);
        return { ...answer, fallback: true, fallbackReason: reason };
      }
    }
    const answer = await this.#fallback.chat(base);
    return { ...answer, fallback: true, fallbackReason: 'no ANTHROPIC_API_KEY set' };
  }
}

function describe(error: unknown): string {
  if (error instanceof NightshiftError) return `${error.code}: ${error.message}`;
  if (error instanceof Error) return error.message;
  return String(error);
}
