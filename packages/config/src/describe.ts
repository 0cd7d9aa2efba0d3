// describeConfig: a JSON-safe copy of the config with every secret masked, for logs and `nightshift config`.
import { getAt, isPlainObject, setAt } from './objects.js';
import type { Config } from './schema.js';
import { REDACTED, redactValue, SECRET_PATHS } from './secrets.js';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export function describeConfig(config: Config): { [key: string]: JsonValue } {
  const copy = toJson(config) as { [key: string]: JsonValue };
  for (const { path, kind } of SECRET_PATHS) {
    const value = getAt(copy, path);
    if (value === undefined) continue;
    setAt(copy, path, typeof value === 'string' ? redactValue(kind, value) : REDACTED);
  }
  return copy;
}

function toJson(value: unknown): JsonValue {
  if (Array.isArray(value)) return value.map(toJson);
  if (isPlainObject(value)) {
    const out: { [key: string]: JsonValue } = {};
    for (const [key, child] of Object.entries(value)) if (child !== undefined) out[key] = toJson(child);
    return out;
  }
  if (typeof value === 'string' || typeof value === 'boolean' || value === null) return value;
  if (typeof value === 'number') return Number.isFinite(value) ? value : String(value);
  return String(value);
}
