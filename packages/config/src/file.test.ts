import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '@nightshift/protocol';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from './load.js';

const root = mkdtempSync(join(tmpdir(), 'nightshift-config-'));
let n = 0;
/** A fresh directory holding the given files. */
function dir(files: Record<string, string>): string {
  const d = join(root, String(n++));
  mkdirSync(d);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(d, name), text);
  return d;
}

function configError(run: () => unknown): ConfigError {
  try {
    run();
  } catch (error) {
    if (error instanceof ConfigError) return error;
    throw error;
  }
  throw new Error('expected ConfigError');
}

afterAll(() => rmSync(root, { recursive: true, force: true }));

describe('config file', () => {
  it('is found in cwd (JSON) and deep-merged over defaults', () => {
    const cwd = dir({
      'nightshift.config.json': JSON.stringify({
        debate: { maxRounds: 2 },
        roles: { builder: { timeoutSeconds: 1000 } },
      }),
    });
    const c = loadConfig({}, { cwd });
    expect(c.debate).toEqual({ maxRounds: 2, supermajority: { agree: 5, of: 7 }, weightedThreshold: 0.7 });
    expect(c.roles.builder).toMatchObject({ timeoutSeconds: 1000, priority: 'normal', bullmqPriority: 3 });
  });

  it('YAML works, and env wins over the file key by key', () => {
    const cwd = dir({
      'nightshift.config.yaml':
        'ollama:\n  numParallel: 3\n  model: llama3\nroles:\n  scout:\n    priority: low\n',
    });
    const c = loadConfig({ OLLAMA_NUM_PARALLEL: '4' }, { cwd });
    expect(c.ollama.numParallel).toBe(4); // env wins
    expect(c.ollama.model).toBe('llama3'); // file kept where env is silent
    expect(c.roles.scout).toMatchObject({ priority: 'low', bullmqPriority: 4 });
  });

  it('NIGHTSHIFT_CONFIG and options.file point at a file elsewhere; options.file wins', () => {
    const a = dir({ 'a.yml': 'trust:\n  start: 6\n' });
    const b = dir({ 'b.json': '{"trust":{"start":5}}' });
    const cwd = dir({});
    expect(loadConfig({ NIGHTSHIFT_CONFIG: join(a, 'a.yml') }, { cwd }).trust.start).toBe(6);
    expect(
      loadConfig({ NIGHTSHIFT_CONFIG: join(a, 'a.yml') }, { cwd, file: join(b, 'b.json') }).trust.start,
    ).toBe(5);
  });

  it('a missing explicit file is an error', () => {
    const error = configError(() => loadConfig({ NIGHTSHIFT_CONFIG: 'nope.json' }, { cwd: dir({}) }));
    expect(error.problems[0]).toMatchObject({
      path: 'NIGHTSHIFT_CONFIG',
      expected: 'an existing config file',
    });
  });

  it('bad file values are named by file and key, together with env problems', () => {
    const cwd = dir({
      'nightshift.config.json': JSON.stringify({
        debate: { maxRounds: 0 },
        trust: { start: 12 },
        redis: { prefx: 'x' },
      }),
    });
    const error = configError(() => loadConfig({ OLLAMA_MAX_QUEUE: 'many' }, { cwd }));
    expect(error.problems).toEqual(
      expect.arrayContaining([
        { path: 'nightshift.config.json: debate.maxRounds', expected: 'a positive integer', received: '0' },
        { path: 'nightshift.config.json: redis.prefx', expected: 'no such setting (check the spelling)' },
        { path: 'OLLAMA_MAX_QUEUE', expected: 'a positive integer', received: '"many"' },
      ]),
    );
    expect(error.problems).toHaveLength(4);
    expect(error.message).toContain('nightshift.config.json: trust.start');
  });

  it('invalid JSON is reported with a position but without the file text', () => {
    const cwd = dir({ 'nightshift.config.json': '{"anthropic": {"apiKey": sk-ant-LEAKME}}' });
    const error = configError(() => loadConfig({}, { cwd }));
    expect(error.problems[0]?.path).toBe('nightshift.config.json');
    expect(error.problems[0]?.expected).toMatch(/^valid JSON/);
    expect(error.message).not.toContain('LEAKME');
  });

  it('invalid YAML is reported without the file text', () => {
    const cwd = dir({ 'nightshift.config.yml': 'anthropic:\n  apiKey: "sk-ant-LEAKME\n' });
    const error = configError(() => loadConfig({}, { cwd }));
    expect(error.problems[0]?.expected).toMatch(/^valid YAML/);
    expect(error.message).not.toContain('LEAKME');
  });

  it('two candidate files are refused rather than guessed between', () => {
    const cwd = dir({ 'nightshift.config.json': '{}', 'nightshift.config.yaml': '{}' });
    expect(configError(() => loadConfig({}, { cwd })).problems[0]?.expected).toBe(
      'at most one nightshift.config.* file',
    );
  });

  it('a secret set in the file is redacted when invalid, and a misspelt secret key is not echoed', () => {
    const cwd = dir({
      'nightshift.config.json': JSON.stringify({
        dashboard: { token: 'tooshort' },
        anthropic: { apikey: 'sk-ant-MISSPELT-SECRET' },
      }),
    });
    const error = configError(() => loadConfig({}, { cwd }));
    expect(error.problems).toEqual(
      expect.arrayContaining([
        {
          path: 'nightshift.config.json: dashboard.token',
          expected: expect.any(String),
          received: '"<redacted>"',
        },
        {
          path: 'nightshift.config.json: anthropic.apikey',
          expected: 'no such setting (check the spelling)',
        },
      ]),
    );
    expect(error.message).not.toContain('tooshort');
    expect(error.message).not.toContain('MISSPELT');
  });

  it('an empty YAML file is the same as no file', () => {
    expect(loadConfig({}, { cwd: dir({ 'nightshift.config.yaml': '' }) }).debate.maxRounds).toBe(3);
  });
});
