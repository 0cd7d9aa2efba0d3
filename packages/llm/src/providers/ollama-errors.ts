// Maps whatever the `ollama` client throws (ResponseError with a status, fetch TypeError with a
// socket cause, stream errors, aborts) to a typed NightshiftError with the right category.
import { NightshiftError, TimeoutError } from '@nightshift/protocol';
import { abortError, LlmRequestRejected, LlmUnavailable, ModelNotFound } from '../errors.js';

export interface OllamaCallContext {
  host: string;
  model: string;
  /** The caller's signal: its abort wins over any other classification. */
  signal: AbortSignal | undefined;
  /** The per-call timeout signal and its length, to report a TimeoutError. */
  timeout: AbortSignal | undefined;
  timeoutMs: number | undefined;
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EPIPE',
  'ETIMEDOUT',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CLOSED',
]);

function statusOf(error: unknown): number | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const status = (error as { status_code?: unknown }).status_code;
  return typeof status === 'number' ? status : undefined;
}

/** The socket-level code of a failed fetch (`TypeError: fetch failed` hides it in `cause`). */
function networkCode(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 4 && typeof current === 'object' && current !== null; depth++) {
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && NETWORK_CODES.has(code)) return code;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export function classifyOllamaError(error: unknown, ctx: OllamaCallContext): NightshiftError {
  if (error instanceof NightshiftError) return error;
  if (ctx.signal?.aborted) return abortError(ctx.signal);
  if (ctx.timeout?.aborted)
    return new TimeoutError(`Ollama call to ${ctx.host}`, ctx.timeoutMs ?? 0, { cause: error });
  const message = error instanceof Error ? error.message : String(error);
  const status = statusOf(error);
  const where = `Ollama at ${ctx.host}`;
  if (status !== undefined) {
    // Ollama answers 404 `model "x" not found, try pulling it first` for a missing model.
    if (status === 404 && /model|not found/i.test(message))
      return new ModelNotFound(ctx.model, ctx.host, [], { cause: error });
    // 503 = "server busy, please try again. maximum pending requests exceeded" (REFERENCE, Ollama).
    if (status === 503 || status === 429 || status === 408 || status >= 500) {
      return new LlmUnavailable(where, `HTTP ${status} ${message}`, { cause: error, details: { status } });
    }
    if (status === 401 || status === 403)
      return new LlmRequestRejected(where, status, message, 'fatal', error);
    return new LlmRequestRejected(where, status, message, 'invalid-input', error);
  }
  const code = networkCode(error);
  if (code !== undefined)
    return new LlmUnavailable(where, `${code} (${message})`, { cause: error, details: { code } });
  if (error instanceof Error && error.name === 'AbortError') {
    return new LlmUnavailable(where, 'request aborted by the transport', { cause: error });
  }
  // A stream that ends early or carries `{error}` mid-way: the server went away or gave up.
  if (/stream|did not receive done|terminated|socket/i.test(message)) {
    return new LlmUnavailable(where, message, { cause: error });
  }
  return new NightshiftError('LLM_FAILED', `${where}: ${message}`, { category: 'fatal', cause: error });
}
