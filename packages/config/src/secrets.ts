// Which settings are secret and how each is masked, so no value of them reaches a log or an error.
import { getAt, type Path } from './objects.js';

export const REDACTED = '<redacted>';

/**
 * - `value`: the whole value is secret (API keys, tokens).
 * - `credentials`: a URL whose user-info password is secret (`redis://user:pw@host`).
 * - `url-path`: a URL whose credentials, path and query are secret (webhook URLs carry their token there).
 */
export type SecretKind = 'value' | 'credentials' | 'url-path';

export const SECRET_PATHS: ReadonlyArray<{ path: Path; kind: SecretKind }> = [
  { path: ['redis', 'url'], kind: 'credentials' },
  { path: ['ollama', 'host'], kind: 'credentials' },
  { path: ['anthropic', 'apiKey'], kind: 'value' },
  { path: ['anthropic', 'baseUrl'], kind: 'credentials' },
  { path: ['dashboard', 'token'], kind: 'value' },
  { path: ['alerts', 'webhookUrl'], kind: 'url-path' },
  { path: ['alerts', 'webhookSecret'], kind: 'value' },
];

export function secretKindOf(path: Path): SecretKind | undefined {
  const key = path.join('.');
  return SECRET_PATHS.find((s) => key === s.path.join('.') || key.startsWith(`${s.path.join('.')}.`))?.kind;
}

/**
 * Masks the password of any `scheme://user:password@host` in `text`. Works on strings that are
 * not valid URLs too (a malformed REDIS_URL is exactly what an error message will show), and
 * takes the LAST `@` of the authority so an unencoded `@` inside the password is still covered.
 */
export function maskUrlCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)(\S*)@/gi, (_match, scheme: string, userinfo: string) => {
    const colon = userinfo.indexOf(':');
    if (colon === -1) return `${scheme}${REDACTED}@`; // a lone user-info may itself be the password
    return `${scheme}${userinfo.slice(0, colon)}:${REDACTED}@`;
  });
}

export function redactValue(kind: SecretKind, value: string): string {
  switch (kind) {
    case 'value':
      return REDACTED;
    case 'credentials':
      return maskUrlCredentials(value);
    case 'url-path': {
      if (!URL.canParse(value)) return REDACTED;
      const url = new URL(value);
      return `${url.protocol}//${url.host}/${REDACTED}`;
    }
  }
}

/** Every secret string present in `root` (the merged input or a parsed config), for scrubbing. */
export function secretValuesIn(root: unknown): string[] {
  const found: string[] = [];
  for (const { path, kind } of SECRET_PATHS) {
    const value = getAt(root, path);
    if (typeof value !== 'string' || value === '') continue;
    if (kind === 'value') found.push(value);
    else found.push(...urlSecrets(value, kind));
  }
  return found;
}

function urlSecrets(value: string, kind: SecretKind): string[] {
  if (!URL.canParse(value)) return [];
  const url = new URL(value);
  const parts = [url.password, safeDecode(url.password)];
  if (kind === 'url-path') parts.push(url.pathname.slice(1), url.search.slice(1));
  return parts.filter((p) => p.length >= 4); // shorter fragments would scrub ordinary text
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch (error) {
    void error; // not percent-encoded as a whole: the raw form is already in the list
    return text;
  }
}

/** Replaces every occurrence of each secret in `text` (longest first, so overlaps are covered). */
export function scrubSecrets(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of [...secrets].sort((a, b) => b.length - a.length)) {
    if (secret !== '') out = out.split(secret).join(REDACTED);
  }
  return out;
}
