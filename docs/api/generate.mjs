// `npm run docs:api`: the API reference in docs/api — the client's TSDoc as Markdown (TypeDoc with
// typedoc-plugin-markdown, settings in /typedoc.json; a symbol exported without TSDoc fails it) and
// the dashboard's OpenAPI document (openapi.json, the one GET /api/openapi.json serves).
// `--out DIR` writes elsewhere: test/e2e/api-docs.test.ts regenerates into a temp folder and diffs.
// Needs `npm run build` first (the OpenAPI document comes from the dashboard's built module).
import { spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const at = process.argv.indexOf('--out');
const out = resolve(at >= 0 && process.argv[at + 1] ? process.argv[at + 1] : join(root, 'docs', 'api'));

rmSync(join(out, 'client'), { recursive: true, force: true });
mkdirSync(out, { recursive: true });
const typedoc = spawnSync(join(root, 'node_modules', '.bin', 'typedoc'), ['--out', join(out, 'client')], {
  cwd: root,
  stdio: 'inherit',
});
if (typedoc.status !== 0) {
  console.error(`typedoc failed (exit ${typedoc.status}): every export of packages/client needs TSDoc`);
  process.exit(1);
}
const { openApiDocument } = await import(
  pathToFileURL(join(root, 'services', 'dashboard', 'dist', 'openapi.js')).href
);
writeFileSync(join(out, 'openapi.json'), `${JSON.stringify(openApiDocument(), null, 2)}\n`);
console.log(`API reference written to ${out}`);
