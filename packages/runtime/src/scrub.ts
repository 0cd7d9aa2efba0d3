// Scrubs secrets out of serialised JSON log lines: registered secret values, URL passwords, and sensitive keys at any depth.

export const CENSOR = '[REDACTED]';

/**
 * Key names whose string values are secret wherever they appear (compared lower-case without
 * `-`/`_`). Ends-with matching catches `anthropicApiKey`, `webhookSecret`, `dashboardToken`.
 */
const SENSITIVE_SUFFIXES = ['apikey', 'password', 'passwd', 'secret', 'token', 'authorization', 'cookie'];

export function isSensitiveKey(key: string): boolean {
  const normalised = key.toLowerCase().replace(/[^a-z0-9]/g, '');
  return SENSITIVE_SUFFIXES.some((suffix) => normalised.endsWith(suffix));
}

/**
 * `scheme://user:password@` → `scheme://user:***@`; a lone user-info (often a token) → `***@`.
 * Greedy up to the LAST `@` before whitespace or a quote, so an unencoded `@` or `/` inside the
 * password cannot leave a tail of it behind (at worst a path containing `@` is over-masked).
 */
const URL_CREDENTIALS = /([a-z][a-z0-9+.-]*:\/\/)([^\s"']*)@/gi;

export function maskUrlPasswords(text: string): string {
  return text.replace(URL_CREDENTIALS, (_m, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    return colon === -1 ? `${scheme}***@` : `${scheme}${userinfo.slice(0, colon)}:***@`;
  });
}

/** A set of secret values to cut out of every line; children share their parent's values. */
export class SecretScrubber {
  readonly #values = new Set<string>();
  readonly #parent: SecretScrubber | undefined;
  // Sorted list cached per revision: lines are scrubbed far more often than secrets are added.
  #revision = 0;
  #cache: { own: number; parent: number; list: string[] } | undefined;

  constructor(values: Iterable<string | undefined> = [], parent?: SecretScrubber) {
    this.#parent = parent;
    for (const value of values) this.add(value);
  }

  /** Registers a secret. Empty/undefined is ignored so `add(config.anthropic.apiKey)` is always safe. */
  add(value: string | undefined): void {
    if (value === undefined || value === '') return;
    this.#revision++;
    this.#values.add(value);
    // Inside a JSON string the secret appears escaped (quotes, backslashes, control characters).
    this.#values.add(JSON.stringify(value).slice(1, -1));
    // Percent-encoded forms show up inside URLs.
    this.#values.add(encodeURIComponent(value));
  }

  /** Total additions here and in the parents; changes whenever values() would. */
  get revision(): number {
    return this.#revision + (this.#parent?.revision ?? 0);
  }

  values(): string[] {
    const parent = this.#parent?.revision ?? 0;
    const cached = this.#cache;
    if (cached !== undefined && cached.own === this.#revision && cached.parent === parent) return cached.list;
    const all = new Set([...this.#values, ...(this.#parent?.values() ?? [])]);
    // Longest first: a secret that contains another is removed whole.
    const list = [...all].sort((a, b) => b.length - a.length);
    this.#cache = { own: this.#revision, parent, list };
    return list;
  }

  /** Scrubs plain text (not JSON). */
  scrubText(text: string): string {
    let out = maskUrlPasswords(text);
    for (const secret of this.values()) out = out.split(secret).join(CENSOR);
    return out;
  }

  /**
   * Scrubs one serialised JSON log line. Only the insides of string literals are rewritten,
   * so the line stays valid JSON even when a secret looks like a number or a key.
   */
  scrubJsonLine(line: string): string {
    const secrets = this.values();
    let pendingKey: string | undefined;
    const scrub = (body: string): string => {
      let out = maskUrlPasswords(body);
      for (const secret of secrets) out = out.split(secret).join(CENSOR);
      return out;
    };
    return line.replace(STRING_LITERAL, (literal: string, body: string, offset: number) => {
      const isKey = line[skipSpace(line, offset + literal.length)] === ':';
      if (isKey) {
        pendingKey = body;
        return `"${scrub(body)}"`; // a secret used as a key (a map keyed by token) is still a secret
      }
      const key = pendingKey;
      pendingKey = undefined;
      // A value directly after a sensitive key is censored whole, at any depth.
      if (key !== undefined && followsKey(line, offset) && isSensitiveKey(decodeJsonString(key))) {
        return `"${CENSOR}"`;
      }
      return `"${scrub(body)}"`;
    });
  }
}

const STRING_LITERAL = /"((?:[^"\\]|\\.)*)"/g;

function skipSpace(text: string, from: number): number {
  let i = from;
  while (i < text.length && /\s/.test(text[i] ?? '')) i++;
  return i;
}

function followsKey(line: string, offset: number): boolean {
  let i = offset - 1;
  while (i >= 0 && /\s/.test(line[i] ?? '')) i--;
  return line[i] === ':';
}

function decodeJsonString(body: string): string {
  try {
    return JSON.parse(`"${body}"`) as string;
  } catch (error) {
    void error; // a malformed escape cannot come from JSON.stringify; compare the raw text
    return body;
  }
}
