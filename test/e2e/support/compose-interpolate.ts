// Docker Compose's `${VAR…}` interpolation and `.env` file format, so a compose file can be read as compose
// would read it on a machine without Docker (compose-spec "Interpolation"; only what compose documents).

export type Vars = Readonly<Record<string, string | undefined>>;

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;

/** Index of the `}` that closes the `${` whose body starts at `start`, honouring nested `${…}`. */
function closingBrace(text: string, start: number): number {
  let depth = 1;
  for (let i = start; i < text.length; i++) {
    if (text[i] === '$' && text[i + 1] === '$') {
      i++;
    } else if (text[i] === '$' && text[i + 1] === '{') {
      depth++;
      i++;
    } else if (text[i] === '}') {
      depth--;
      if (depth === 0) return i;
    }
  }
  return -1;
}

/**
 * Interpolates one string. Supports `$$`, `$VAR`, `${VAR}`, `${VAR:-default}`, `${VAR-default}`,
 * `${VAR:?error}`, `${VAR?error}`, `${VAR:+alt}`, `${VAR+alt}`, with nesting inside the default/alt.
 * Problems (a required variable unset, a malformed expression) are appended to `problems`.
 */
export function interpolate(text: string, vars: Vars, where: string, problems: string[]): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (ch !== '$') {
      out += ch;
      i++;
      continue;
    }
    const next = text[i + 1];
    if (next === '$') {
      out += '$';
      i += 2;
    } else if (next === '{') {
      const end = closingBrace(text, i + 2);
      if (end === -1) {
        problems.push(`${where}: unterminated "\${" in ${JSON.stringify(text)}`);
        return out + text.slice(i);
      }
      out += expand(text.slice(i + 2, end), vars, where, problems);
      i = end + 1;
    } else {
      const name = NAME.exec(text.slice(i + 1))?.[0];
      if (name === undefined) {
        out += '$';
        i++;
      } else {
        out += vars[name] ?? '';
        i += 1 + name.length;
      }
    }
  }
  return out;
}

function expand(body: string, vars: Vars, where: string, problems: string[]): string {
  const name = NAME.exec(body)?.[0];
  if (name === undefined) {
    problems.push(`${where}: invalid interpolation "\${${body}}"`);
    return '';
  }
  const rest = body.slice(name.length);
  const value = vars[name];
  const unset = value === undefined;
  const empty = unset || value === '';
  if (rest === '') return value ?? '';
  const operator = /^(:-|-|:\?|\?|:\+|\+)/.exec(rest)?.[0];
  if (operator === undefined) {
    problems.push(`${where}: invalid interpolation "\${${body}}"`);
    return '';
  }
  const arg = () => interpolate(rest.slice(operator.length), vars, where, problems);
  switch (operator) {
    case ':-':
      return empty ? arg() : (value as string);
    case '-':
      return unset ? arg() : (value as string);
    case ':?':
    case '?':
      if (operator === ':?' ? empty : unset) {
        problems.push(`${where}: required variable ${name} is missing a value: ${arg()}`);
        return '';
      }
      return value as string;
    case ':+':
      return empty ? '' : arg();
    default:
      return unset ? '' : arg();
  }
}

/** Interpolates every string in a parsed YAML tree (keys stay as written, as in compose). */
export function interpolateDeep(value: unknown, vars: Vars, problems: string[], where = ''): unknown {
  if (typeof value === 'string') return interpolate(value, vars, where || '(root)', problems);
  if (Array.isArray(value))
    return value.map((item, i) => interpolateDeep(item, vars, problems, `${where}[${i}]`));
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [
        key,
        interpolateDeep(item, vars, problems, where ? `${where}.${key}` : key),
      ]),
    );
  }
  return value;
}

/** Names of every variable a tree refers to (`$VAR` or `${VAR…}`, defaults and nesting included; not `$$`). */
export function referencedVariables(value: unknown, found = new Set<string>()): Set<string> {
  if (typeof value === 'string') {
    const re = /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)|\$([A-Za-z_][A-Za-z0-9_]*)/g;
    for (const match of value.matchAll(re)) {
      const name = match[1] ?? match[2];
      if (name !== undefined) found.add(name);
    }
  } else if (Array.isArray(value)) {
    for (const item of value) referencedVariables(item, found);
  } else if (value !== null && typeof value === 'object') {
    for (const item of Object.values(value)) referencedVariables(item, found);
  }
  return found;
}

/**
 * Parses a `.env` file as compose does for the common forms: `KEY=value`, `export KEY=value`,
 * '#' comment lines, `KEY="double quoted\n"`, `KEY='single quoted'`, and ` # comment` after an
 * unquoted value. Later lines win.
 */
export function parseEnvFile(text: string): Record<string, string> {
  const env: Record<string, string> = {};
  for (const raw of text.split(/\r?\n/)) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const match = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_.-]*)\s*=\s*(.*)$/.exec(line);
    if (match === null) throw new Error(`not a KEY=value line in env file: ${JSON.stringify(raw)}`);
    const [, key, rawValue] = match as unknown as [string, string, string];
    env[key] = unquote(rawValue);
  }
  return env;
}

function unquote(value: string): string {
  const quote = value[0];
  if ((quote === '"' || quote === "'") && value.length >= 2) {
    const end = value.indexOf(quote, 1);
    if (end !== -1) {
      const inner = value.slice(1, end);
      return quote === '"' ? inner.replace(/\\n/g, '\n').replace(/\\(["\\])/g, '$1') : inner;
    }
  }
  return value.replace(/\s+#.*$/, '').trim();
}

/** Compose durations (`960s`, `1m30s`, `1h`, `500ms`) in seconds; undefined if not one. */
export function durationSeconds(value: unknown): number | undefined {
  if (typeof value === 'number') return value / 1e9; // a bare number is nanoseconds in compose
  if (typeof value !== 'string' || value === '') return undefined;
  const units: Record<string, number> = { us: 1e-6, ms: 1e-3, s: 1, m: 60, h: 3600 };
  let total = 0;
  let rest = value;
  while (rest !== '') {
    const match = /^(\d+(?:\.\d+)?)(us|ms|s|m|h)/.exec(rest);
    if (match === null) return undefined;
    total += Number(match[1]) * (units[match[2] as string] as number);
    rest = rest.slice(match[0].length);
  }
  return total;
}
