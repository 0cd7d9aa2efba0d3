// LLM-specific errors and the one-line wire form that carries a typed error through a BullMQ
// job's `failedReason` (a plain string) from the gateway back to the caller.
import {
  type ErrorCategory,
  failureReason,
  NightshiftError,
  parseFailureReason,
  TimeoutError,
} from '@nightshift/protocol';

/** The model server cannot take the call now (503 busy, refused, reset, timed out): retry later. */
export class LlmUnavailable extends NightshiftError {
  constructor(
    provider: string,
    reason: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super('LLM_UNAVAILABLE', `${provider} unavailable: ${reason}`, { ...options, category: 'transient' });
  }
}

/** The configured model is not installed on the server: no retry helps, an operator must pull it. */
export class ModelNotFound extends NightshiftError {
  constructor(
    model: string,
    host: string,
    available: readonly string[] = [],
    options: { cause?: unknown } = {},
  ) {
    const hint = available.length > 0 ? ` Installed: ${available.join(', ')}.` : '';
    super(
      'LLM_MODEL_NOT_FOUND',
      `model "${model}" is not installed on Ollama at ${host}; run \`ollama pull ${model}\` there.${hint}`,
      { ...options, category: 'fatal', details: { model, host, available: [...available] } },
    );
  }
}

/** The provider refused the request itself (400 bad request, 401/403 credentials). */
export class LlmRequestRejected extends NightshiftError {
  constructor(
    provider: string,
    status: number | undefined,
    reason: string,
    category: ErrorCategory,
    cause?: unknown,
  ) {
    super(
      'LLM_REQUEST_REJECTED',
      `${provider} rejected the request${status ? ` (HTTP ${status})` : ''}: ${reason}`,
      {
        category,
        cause,
        details: { provider, status },
      },
    );
  }
}

/** The caller aborted the call (role timeout, shutdown). Keeps a TimeoutError reason as is. */
export function abortError(signal: AbortSignal, what = 'model call'): NightshiftError {
  const reason: unknown = signal.reason;
  if (reason instanceof NightshiftError) return reason;
  if (reason instanceof Error && reason.name === 'TimeoutError')
    return new TimeoutError(what, 0, { cause: reason });
  return new NightshiftError('LLM_ABORTED', `${what} aborted`, { category: 'fatal', cause: reason });
}

/** `[CODE/category] message`: readable in Bull Board, parseable by decodeFailure. */
export function encodeFailure(error: unknown): string {
  if (error instanceof NightshiftError) return failureReason(error);
  const message = error instanceof Error ? error.message : String(error);
  return failureReason({ code: 'LLM_FAILED', category: 'transient', message });
}

/**
 * Inverse of encodeFailure. A reason BullMQ wrote itself (stalled too often, wait timed out,
 * queue closing) has no prefix; it is about the machinery, not the request, so it is transient.
 */
export function decodeFailure(reason: string, details: Record<string, unknown> = {}): NightshiftError {
  const parsed = parseFailureReason(reason);
  if (!parsed) return new NightshiftError('LLM_GATEWAY_FAILED', reason, { category: 'transient', details });
  return new NightshiftError(parsed.code, parsed.message, { category: parsed.category, details });
}

/**
 * The answer stopped at the output limit (Ollama `done_reason: "length"`, Anthropic
 * `stop_reason: "max_tokens"`) even after one retry with more room: it is not a whole answer.
 */
export class LlmOutputTruncated extends NightshiftError {
  constructor(
    provider: string,
    limits: {
      numPredict: number;
      numCtx?: number | undefined;
      promptTokens?: number;
      /** How the provider names the limit: `num_predict` (Ollama) or `max_tokens` (Anthropic). */
      limitName?: string;
    },
  ) {
    const name = limits.limitName ?? 'num_predict';
    const ctx = limits.numCtx === undefined ? '' : ` within num_ctx=${limits.numCtx}`;
    const prompt = limits.promptTokens === undefined ? '' : ` after a ${limits.promptTokens}-token prompt`;
    const fix =
      name === 'num_predict'
        ? 'raise OLLAMA_NUM_PREDICT / OLLAMA_NUM_CTX or ask for a shorter answer'
        : 'ask for a shorter answer';
    super(
      'LLM_OUTPUT_TRUNCATED',
      `${provider} stopped at the output limit (${name}=${limits.numPredict}${ctx}${prompt}); ${fix}`,
      {
        category: 'fatal',
        details: { provider, ...limits },
      },
    );
  }
}
