// Copies what the runtime image needs from a built monorepo: each workspace's package.json plus the entries
// of its own `files` field (dist/, and lua/ for packages/redis), so the image ships what packages declare.
// Usage (Dockerfile build stage): node deploy/collect-runtime.mjs <repoRoot> <outDir>
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Expands the root package.json `workspaces` entries of the form `dir/*` or `dir` (all this repo uses). */
export function workspaceDirs(root) {
  const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
  const dirs = [];
  for (const pattern of manifest.workspaces ?? []) {
    if (pattern.endsWith('/*')) {
      const parent = pattern.slice(0, -2);
      for (const entry of readdirSync(join(root, parent), { withFileTypes: true })) {
        if (entry.isDirectory() && existsSync(join(root, parent, entry.name, 'package.json'))) {
          dirs.push(`${parent}/${entry.name}`);
        }
      }
    } else if (!pattern.includes('*')) {
      dirs.push(pattern);
    } else {
      throw new Error(`unsupported workspaces pattern ${JSON.stringify(pattern)}: use "dir/*" or "dir"`);
    }
  }
  return dirs.sort();
}

/**
 * The relative paths to ship: for each workspace with a `files` field, its package.json and those
 * entries. Workspaces without `files` (the test suites) are not part of the runtime.
 * A declared entry that is missing is an error: a package built without its dist/ must fail the build.
 */
export function runtimeFiles(root) {
  const paths = ['package.json'];
  for (const dir of workspaceDirs(root)) {
    const manifest = JSON.parse(readFileSync(join(root, dir, 'package.json'), 'utf8'));
    if (!Array.isArray(manifest.files)) continue;
    paths.push(`${dir}/package.json`);
    for (const entry of manifest.files) {
      const path = `${dir}/${entry.replace(/^\.\//, '').replace(/\/$/, '')}`;
      if (!existsSync(join(root, path))) {
        throw new Error(
          `${dir}/package.json lists "${entry}" in files, but ${path} does not exist (not built?)`,
        );
      }
      paths.push(path);
    }
  }
  return paths;
}

function main([rootArg, outArg]) {
  if (rootArg === undefined || outArg === undefined) {
    process.stderr.write('usage: node deploy/collect-runtime.mjs <repoRoot> <outDir>\n');
    process.exit(2);
  }
  const root = resolve(rootArg);
  const out = resolve(outArg);
  for (const path of runtimeFiles(root)) {
    mkdirSync(join(out, path, '..'), { recursive: true });
    cpSync(join(root, path), join(out, path), { recursive: true, verbatimSymlinks: true });
    process.stdout.write(`${path}\n`);
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2));
}
