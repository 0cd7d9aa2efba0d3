// The human-alert webhook (guide §4 "Human Notification", option 3): a JSON POST at Level 3+,
// signed with HMAC-SHA256 of the raw body when ALERT_WEBHOOK_SECRET is set, retried with
// exponential backoff and jitter on network errors, 408, 429 and 5xx.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { NightshiftError } from '@nightshift/protocol';

export const SIGNATURE_HEADER = 'x-nightshift-signature';
export const ALERT_ID_HEADER = 'x-nightshift-alert-id';

/** `sha256=<hex HMAC-SHA256 of the raw body>` (the GitHub-style form receivers already know). */
export function signBody(body: string, secret: string): string {
  return `sha256=${createHmac('sha256', secret).update(body, 'utf8').digest('hex')}`;
}

/** Constant-time check of a signature header against the raw body (what a receiver does). */
export function verifySignature(body: string, secret: string, header: string | undefined): boolean {
  if (header === undefined) return false;
  const expected = Buffer.from(signBody(body, secret));
  const given = Buffer.from(header);
  return expected.length === given.length && timingSafeEqual(expected, given);
}

export interface RetryPolicy {
  /** Tries in all, the first included (default 5). */
  readonly attempts: number;
  readonly baseMs: number;
  readonly maxMs: number;
}
export const DEFAULT_WEBHOOK_RETRY: RetryPolicy = Object.freeze({ attempts: 5, baseMs: 500, maxMs: 15_000 });

/** Delay before try `n + 1` (n ≥ 1): base·2^(n−1), capped, with full jitter in its upper half. */
export function backoffMs(n: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const exp = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.max(0, n - 1));
  return Math.round(exp / 2 + random() * (exp / 2));
}

export interface WebhookOptions {
  url: string;
  secret?: string;
  alertId: string;
  retry?: RetryPolicy;
  /** Per-try timeout (default 10 s). */
  timeoutMs?: number;
  fetch?: typeof fetch;
  sleep?: (ms: number) => Promise<void>;
  onRetry?: (info: { attempt: number; error: string; delayMs: number }) => void;
}

export interface WebhookResult {
  status: number;
  attempts: number;
}

function retryable(status: number): boolean {
  return status === 408 || status === 429 || status >= 500;
}

/** POSTs the body; resolves on a 2xx, throws a NightshiftError `WEBHOOK_FAILED` when it gives up. */
export async function postWebhook(body: unknown, options: WebhookOptions): Promise<WebhookResult> {
  const raw = JSON.stringify(body);
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    [ALERT_ID_HEADER]: options.alertId,
    'user-agent': 'nightshift-sentinel',
  };
  if (options.secret) headers[SIGNATURE_HEADER] = signBody(raw, options.secret);
  const policy = options.retry ?? DEFAULT_WEBHOOK_RETRY;
  const doFetch = options.fetch ?? fetch;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  let last = 'no attempt made';
  for (let attempt = 1; attempt <= policy.attempts; attempt++) {
    let status: number | undefined;
    try {
      const response = await doFetch(options.url, {
        method: 'POST',
        headers,
        body: raw,
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
      status = response.status;
      // Drain the body so the connection is released.
      await response.arrayBuffer().catch((error: unknown) => error);
      if (status >= 200 && status < 300) return { status, attempts: attempt };
      last = `HTTP ${status}`;
      if (!retryable(status)) break;
    } catch (error) {
      last = error instanceof Error ? error.message : String(error);
    }
    if (attempt < policy.attempts) {
      const delayMs = backoffMs(attempt, policy);
      options.onRetry?.({ attempt, error: last, delayMs });
      await sleep(delayMs);
    }
  }
  throw new NightshiftError('WEBHOOK_FAILED', `alert webhook failed: ${last}`, {
    category: 'transient',
    details: { alertId: options.alertId },
  });
}
