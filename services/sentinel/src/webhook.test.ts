import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  ALERT_ID_HEADER,
  backoffMs,
  postWebhook,
  SIGNATURE_HEADER,
  signBody,
  verifySignature,
} from './webhook.js';

interface Seen {
  headers: Record<string, string>;
  body: string;
}

/** A fetch that answers with the given statuses in turn (a thrown Error = network failure). */
function fakeFetch(answers: (number | Error)[]): { fetch: typeof fetch; seen: Seen[] } {
  const seen: Seen[] = [];
  let n = 0;
  const impl = async (_url: string | URL | Request, init?: RequestInit) => {
    seen.push({ headers: { ...(init?.headers as Record<string, string>) }, body: String(init?.body) });
    const answer = answers[Math.min(n++, answers.length - 1)];
    if (answer instanceof Error) throw answer;
    const status = answer ?? 200;
    return new Response(status === 204 ? null : 'ok', { status });
  };
  return { fetch: impl as typeof fetch, seen };
}

const fast = { attempts: 5, baseMs: 1, maxMs: 4 };
const noSleep = async () => undefined;

describe('webhook signing', () => {
  it('signs the raw body with HMAC-SHA256 as sha256=<hex>, and verifies it', () => {
    const body = JSON.stringify({ alert: { id: 'alert_1' } });
    const expected = createHmac('sha256', 's3cret').update(body).digest('hex');
    expect(signBody(body, 's3cret')).toBe(`sha256=${expected}`);
    expect(verifySignature(body, 's3cret', `sha256=${expected}`)).toBe(true);
    expect(verifySignature(`${body} `, 's3cret', `sha256=${expected}`)).toBe(false);
    expect(verifySignature(body, 'other', `sha256=${expected}`)).toBe(false);
    expect(verifySignature(body, 's3cret', undefined)).toBe(false);
    expect(verifySignature(body, 's3cret', 'sha256=short')).toBe(false);
  });

  it('POSTs JSON with the alert id and a signature the receiver can verify', async () => {
    const { fetch, seen } = fakeFetch([204]);
    const result = await postWebhook(
      { hello: 'world' },
      { url: 'http://127.0.0.1:1/h', secret: 'k', alertId: 'alert_9', fetch },
    );
    expect(result).toEqual({ status: 204, attempts: 1 });
    const [req] = seen;
    expect(req?.headers['content-type']).toBe('application/json');
    expect(req?.headers[ALERT_ID_HEADER]).toBe('alert_9');
    expect(JSON.parse(req?.body ?? '')).toEqual({ hello: 'world' });
    expect(verifySignature(req?.body ?? '', 'k', req?.headers[SIGNATURE_HEADER])).toBe(true);
  });

  it('sends no signature header without a secret', async () => {
    const { fetch, seen } = fakeFetch([200]);
    await postWebhook({}, { url: 'http://127.0.0.1:1/h', alertId: 'a', fetch });
    expect(seen[0]?.headers[SIGNATURE_HEADER]).toBeUndefined();
  });

  it('retries network errors, 429 and 5xx with backoff, then succeeds', async () => {
    const { fetch, seen } = fakeFetch([new Error('ECONNREFUSED'), 503, 429, 200]);
    const delays: number[] = [];
    const result = await postWebhook(
      {},
      {
        url: 'http://127.0.0.1:1/h',
        alertId: 'a',
        fetch,
        retry: fast,
        sleep: noSleep,
        onRetry: ({ delayMs }) => delays.push(delayMs),
      },
    );
    expect(result.attempts).toBe(4);
    expect(seen).toHaveLength(4);
    expect(delays).toHaveLength(3);
  });

  it('gives up after the attempts with WEBHOOK_FAILED, and at once on a 4xx', async () => {
    const down = fakeFetch([500]);
    await expect(
      postWebhook(
        {},
        { url: 'http://127.0.0.1:1/h', alertId: 'a', fetch: down.fetch, retry: fast, sleep: noSleep },
      ),
    ).rejects.toMatchObject({ code: 'WEBHOOK_FAILED' });
    expect(down.seen).toHaveLength(5);
    const refused = fakeFetch([401]);
    await expect(
      postWebhook(
        {},
        { url: 'http://127.0.0.1:1/h', alertId: 'a', fetch: refused.fetch, retry: fast, sleep: noSleep },
      ),
    ).rejects.toThrow(/HTTP 401/);
    expect(refused.seen).toHaveLength(1);
  });

  it('backs off exponentially with jitter inside [exp/2, exp], capped', () => {
    const policy = { attempts: 5, baseMs: 100, maxMs: 1000 };
    expect(backoffMs(1, policy, () => 0)).toBe(50);
    expect(backoffMs(1, policy, () => 1)).toBe(100);
    expect(backoffMs(3, policy, () => 1)).toBe(400);
    expect(backoffMs(10, policy, () => 1)).toBe(1000);
    expect(backoffMs(10, policy, () => 0)).toBe(500);
  });
});
