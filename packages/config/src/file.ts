// Finds and parses the optional nightshift.config.{json,yaml,yml}; never echoes file text (it may hold secrets).
import { existsSync, readFileSync } from 'node:fs';
import { extname, isAbsolute, relative, resolve } from 'node:path';
import type { Problem } from '@nightshift/protocol';
import { parse as parseYaml, YAMLParseError } from 'yaml';
import { isPlainObject } from './objects.js';

export const CONFIG_FILE_NAMES = [
  'nightshift.config.json',
  'nightshift.config.yaml',
  'nightshift.config.yml',
] as const;

export interface ConfigFile {
  /** Absolute path. */
  path: string;
  /** How problems name the file: relative to cwd when inside it. */
  label: string;
  data: Record<string, unknown>;
}

export interface FileResult {
  file?: ConfigFile;
  problems: Problem[];
}

/**
 * An explicit file (options.file, else NIGHTSHIFT_CONFIG; `source` names which) must exist;
 * otherwise the cwd is searched.
 */
export function readConfigFile(explicit: string | undefined, source: string, cwd: string): FileResult {
  if (explicit !== undefined) {
    const path = resolve(cwd, explicit);
    if (!existsSync(path)) {
      return {
        problems: [{ path: source, expected: 'an existing config file', received: JSON.stringify(explicit) }],
      };
    }
    return parseFile(path, labelOf(path, cwd));
  }
  const found = CONFIG_FILE_NAMES.map((name) => resolve(cwd, name)).filter((path) => existsSync(path));
  if (found.length > 1) {
    // Two files would make it unclear which one the operator is editing; refuse rather than guess.
    return {
      problems: [
        {
          path: found.map((p) => labelOf(p, cwd)).join(', '),
          expected: 'at most one nightshift.config.* file',
        },
      ],
    };
  }
  const [path] = found;
  return path === undefined ? { problems: [] } : parseFile(path, labelOf(path, cwd));
}

function labelOf(path: string, cwd: string): string {
  const rel = relative(cwd, path);
  return rel.startsWith('..') || isAbsolute(rel) ? path : rel;
}

function parseFile(path: string, label: string): FileResult {
  const ext = extname(path).toLowerCase();
  if (ext !== '.json' && ext !== '.yaml' && ext !== '.yml') {
    return { problems: [{ path: label, expected: 'a .json, .yaml or .yml file' }] };
  }
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    return {
      problems: [
        { path: label, expected: `a readable file (${(error as NodeJS.ErrnoException).code ?? 'error'})` },
      ],
    };
  }
  const parsed = ext === '.json' ? parseJson(text) : parseYamlText(text);
  if ('problem' in parsed) return { problems: [{ path: label, expected: parsed.problem }] };
  if (parsed.value === null || parsed.value === undefined)
    return { file: { path, label, data: {} }, problems: [] };
  if (!isPlainObject(parsed.value))
    return { problems: [{ path: label, expected: 'an object of settings at the top' }] };
  return { file: { path, label, data: parsed.value }, problems: [] };
}

type Parsed = { value: unknown } | { problem: string };

// JSON.parse messages quote the surrounding text, which may be a secret: keep only the position.
function parseJson(text: string): Parsed {
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    const position = /position (\d+)/.exec(String(error))?.[1];
    if (position === undefined) return { problem: 'valid JSON' };
    const before = text.slice(0, Number(position));
    const line = before.split('\n').length;
    const column = Number(position) - before.lastIndexOf('\n');
    return { problem: `valid JSON (syntax error at line ${line}, column ${column})` };
  }
}

function parseYamlText(text: string): Parsed {
  try {
    return { value: parseYaml(text) };
  } catch (error) {
    if (error instanceof YAMLParseError) {
      const at = error.linePos?.[0];
      const where = at === undefined ? '' : ` at line ${at.line}, column ${at.col}`;
      return { problem: `valid YAML (${error.code}${where})` };
    }
    return { problem: 'valid YAML' };
  }
}
