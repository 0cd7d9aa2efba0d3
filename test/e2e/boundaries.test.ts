// Package boundaries (issue 22, ARCHITECTURE §4): only the CLI depends on commander, and no service
// imports the CLI — the dashboard and users' scripts use @nightshift/client. A web server that pulled
// in the CLI is what crashed the dashboard in the first image.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from './support/stack.js';

const WORKSPACES = ['packages', 'services'].flatMap((dir) =>
  readdirSync(join(ROOT, dir)).map((name) => join(ROOT, dir, name)),
);

function manifest(dir: string): { name: string; dependencies?: Record<string, string> } {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
}

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sources(path);
    return /\.(ts|mts|js|mjs)$/.test(name) && !/\.d\.ts$/.test(name) ? [path] : [];
  });
}

describe('package boundaries', () => {
  const packages = WORKSPACES.filter((dir) => {
    try {
      return statSync(join(dir, 'package.json')).isFile();
    } catch (error) {
      void error; // a folder without a manifest is not a workspace
      return false;
    }
  });

  it('finds the workspaces it checks', () => {
    expect(packages.map((dir) => manifest(dir).name)).toEqual(
      expect.arrayContaining(['@nightshift/cli', '@nightshift/client', '@nightshift/service-dashboard']),
    );
  });

  it('only @nightshift/cli depends on commander, and no other workspace on @nightshift/cli', () => {
    for (const dir of packages) {
      const { name, dependencies = {} } = manifest(dir);
      if (name === '@nightshift/cli') continue;
      expect(Object.keys(dependencies), name).not.toContain('commander');
      expect(Object.keys(dependencies), name).not.toContain('@nightshift/cli');
    }
  });

  it('no source outside the CLI imports commander or @nightshift/cli', () => {
    const offenders = packages
      .filter((dir) => manifest(dir).name !== '@nightshift/cli')
      .flatMap((dir) => sources(join(dir, 'src')))
      .filter((file) => /from '(commander|@nightshift\/cli)'/.test(readFileSync(file, 'utf8')))
      .map((file) => relative(ROOT, file));
    expect(offenders).toEqual([]);
  });
});
