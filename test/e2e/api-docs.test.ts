// Issue 22 §3: the API reference in docs/api (the client's TSDoc through TypeDoc, and the
// dashboard's OpenAPI document) is committed, so this test regenerates it and fails when the
// committed copy differs; and an export without TSDoc fails the generation instead of slipping in.
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from './support/stack.js';

const temp = mkdtempSync(join(tmpdir(), 'ns-api-docs-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

/** Every file below `dir`, as paths relative to it, with its text. */
function tree(dir: string): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (d: string) => {
    for (const entry of readdirSync(d, { withFileTypes: true })) {
      const path = join(d, entry.name);
      if (entry.isDirectory()) walk(path);
      else files.set(relative(dir, path), readFileSync(path, 'utf8'));
    }
  };
  walk(dir);
  return files;
}

describe('API reference (docs/api)', () => {
  it('is what `npm run docs:api` generates from the code today', () => {
    const out = join(temp, 'fresh');
    const run = spawnSync(process.execPath, ['docs/api/generate.mjs', '--out', out], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(run.status, run.stdout + run.stderr).toBe(0);
    const committed = tree(join(ROOT, 'docs/api'));
    committed.delete('generate.mjs');
    const fresh = tree(out);
    const stale = [...new Set([...committed.keys(), ...fresh.keys()])].filter(
      (f) => committed.get(f) !== fresh.get(f),
    );
    expect(stale, 'docs/api is stale: run `npm run docs:api` and commit the result').toEqual([]);
    expect(fresh.get('client/README.md')).toContain('[Control](interfaces/Control.md)');
    expect(JSON.parse(fresh.get('openapi.json') ?? '{}').paths).toHaveProperty(['/api/runs/{id}/charts']);
  });

  it('refuses an export without TSDoc, naming it', () => {
    const src = join(temp, 'undocumented');
    rmSync(src, { recursive: true, force: true });
    mkdirSync(src, { recursive: true });
    writeFileSync(
      join(src, 'index.ts'),
      '/** Documented. */\nexport const kept = 1;\nexport const forgotten = 2;\n',
    );
    // An ES module of its own, compiled with the project's settings and checked with its TypeDoc options.
    writeFileSync(join(src, 'package.json'), '{"type":"module"}');
    writeFileSync(
      join(src, 'tsconfig.json'),
      JSON.stringify({
        extends: join(ROOT, 'tsconfig.base.json'),
        compilerOptions: { types: [] },
        files: ['index.ts'],
      }),
    );
    const options = JSON.parse(readFileSync(join(ROOT, 'typedoc.json'), 'utf8'));
    writeFileSync(
      join(src, 'typedoc.json'),
      JSON.stringify({
        ...options,
        entryPoints: [join(src, 'index.ts')],
        tsconfig: join(src, 'tsconfig.json'),
        out: join(src, 'out'),
      }),
    );
    const run = spawnSync(join(ROOT, 'node_modules/.bin/typedoc'), ['--options', join(src, 'typedoc.json')], {
      cwd: ROOT,
      encoding: 'utf8',
    });
    expect(run.status).not.toBe(0);
    expect(run.stdout + run.stderr).toMatch(/forgotten \(Variable\).*does not have any documentation/);
    expect(run.stdout + run.stderr).not.toMatch(/kept \(Variable\)/);
  });
});
