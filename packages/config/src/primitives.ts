// Reusable zod leaves whose error text IS the "expected form" shown to the operator in ConfigError.
import { z } from 'zod';

/** An integer in [min, max]; the message doubles as the expected form in ConfigError. */
export function int(min: number, max?: number) {
  const expected =
    max === undefined
      ? min === 1
        ? 'a positive integer'
        : `an integer >= ${min}`
      : `an integer from ${min} to ${max}`;
  const base = z.number({ error: expected }).int({ error: expected }).min(min, { error: expected });
  return max === undefined ? base : base.max(max, { error: expected });
}

/** A finite number in [min, max] (fractions allowed). */
export function num(min: number, max: number) {
  const expected = `a number from ${min} to ${max}`;
  return z.number({ error: expected }).min(min, { error: expected }).max(max, { error: expected });
}

/** A non-empty string without whitespace: model names, tokens, keys. */
export function token(what = 'a non-empty string without spaces') {
  return z.string({ error: what }).regex(/^\S+$/, { error: what });
}

/** A tool name as the tools package spells them (`read_file`, `web_search`). */
export const toolName = z
  .string({ error: 'a tool name like read_file' })
  .regex(/^[a-z][a-z0-9_]*$/, { error: 'a tool name like read_file' });

export function stringList(item: z.ZodType<string> = token()) {
  return z.array(item, { error: 'a list of strings' });
}

const PREFIX_FORM =
  'a key prefix of letters, digits, _ - . and at most one {hash tag}, without ":" or spaces';
// Redis Cluster hashes only the text inside the first {…}: allow exactly one well-formed tag
// so every key of a run lands in one slot (REFERENCE.md, Redis Cluster).
const PREFIX_RE = /^[\w.-]*(\{[\w.-]+\})?[\w.-]*$/;
export const keyPrefix = z
  .string({ error: PREFIX_FORM })
  .min(1, { error: PREFIX_FORM })
  .regex(PREFIX_RE, { error: PREFIX_FORM });

const REDIS_FORM =
  'a redis:// or rediss:// URL like redis://:password@host:6379/0 (or redis+cluster://h:p,h:p, redis+sentinel://h:p,h:p/master)';
/** Multi-host forms understood by @nightshift/redis's parseRedisUrl (Cluster seeds, Sentinels). */
const MULTI_HOST_RE =
  /^rediss?\+(cluster|sentinel):\/\/([^@/]*@)?[^/@\s]+(:\d+)?(,[^/@\s,]+(:\d+)?)*(\/[\w.-]+(\/\d+)?)?(\?\S*)?$/;
/**
 * Redis connection URL: one node (`redis://`, `rediss://` for TLS), a Cluster's seed nodes
 * (`redis+cluster://`) or Sentinels (`redis+sentinel://…/master`; runtime support is partial, see
 * TODO(sentinel) in packages/redis/src/connection.ts).
 */
export const redisUrl = z.string({ error: REDIS_FORM }).superRefine((value, ctx) => {
  if (/^rediss?\+(cluster|sentinel):/.test(value)) {
    if (!MULTI_HOST_RE.test(value)) ctx.addIssue({ code: 'custom', message: REDIS_FORM });
    return;
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch (error) {
    ctx.addIssue({ code: 'custom', message: REDIS_FORM, params: { reason: String(error) } });
    return;
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') {
    ctx.addIssue({ code: 'custom', message: REDIS_FORM });
  } else if (url.hostname === '') {
    ctx.addIssue({ code: 'custom', message: `${REDIS_FORM} (host missing)` });
  } else if (url.pathname !== '' && url.pathname !== '/' && !/^\/\d+$/.test(url.pathname)) {
    ctx.addIssue({ code: 'custom', message: `${REDIS_FORM} (database must be a number)` });
  }
});

const HTTP_FORM = 'an http:// or https:// URL';
export function httpUrl(form = HTTP_FORM) {
  return z.string({ error: form }).superRefine((value, ctx) => {
    if (!isHttpUrl(value)) ctx.addIssue({ code: 'custom', message: form });
  });
}

function isHttpUrl(value: string): boolean {
  if (!URL.canParse(value)) return false;
  const url = new URL(value);
  return (url.protocol === 'http:' || url.protocol === 'https:') && url.hostname !== '';
}

const OLLAMA_FORM = 'an Ollama address: host:port, host, :port or an http(s):// URL';
/**
 * Normalises OLLAMA_HOST the way Ollama itself reads it: no scheme means http and port 11434,
 * a bare `:port` means localhost; an explicit scheme without port keeps that scheme's port.
 * Output is always `scheme://host:port[/path]` without a trailing slash.
 */
export const ollamaHost = z.string({ error: OLLAMA_FORM }).transform((raw, ctx) => {
  const normalised = normaliseOllamaHost(raw.trim());
  if (normalised === undefined) {
    ctx.addIssue({ code: 'custom', message: OLLAMA_FORM });
    return z.NEVER;
  }
  return normalised;
});

export function normaliseOllamaHost(raw: string): string | undefined {
  if (raw === '' || /\s/.test(raw)) return undefined;
  const explicit = raw.includes('://');
  const withScheme = raw.startsWith(':') ? `http://127.0.0.1${raw}` : explicit ? raw : `http://${raw}`;
  if (!isHttpUrl(withScheme)) return undefined;
  const url = new URL(withScheme);
  const port = url.port || (explicit ? (url.protocol === 'https:' ? '443' : '80') : '11434');
  const auth = url.username ? `${url.username}${url.password ? `:${url.password}` : ''}@` : '';
  const path = url.pathname === '/' ? '' : url.pathname.replace(/\/$/, '');
  return `${url.protocol}//${auth}${url.hostname}:${port}${path}`;
}

const DURATION_FORM = 'a duration like 60m, 1h30m, 300s, a number of seconds, or -1 (forever)';
// Ollama parses OLLAMA_KEEP_ALIVE as a Go duration or as plain seconds; negative = keep forever.
const DURATION_RE = /^-?(\d+|(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+)$/;
export const duration = z.string({ error: DURATION_FORM }).regex(DURATION_RE, { error: DURATION_FORM });
