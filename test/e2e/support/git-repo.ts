// A user's repository for the issue 18 tests, and everything about it a user could notice changing.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { ROOT } from './stack.js';

const ENV = {
  PATH: process.env.PATH ?? '',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'A User',
  GIT_AUTHOR_EMAIL: 'user@example.com',
  GIT_COMMITTER_NAME: 'A User',
  GIT_COMMITTER_EMAIL: 'user@example.com',
};

export function git(cwd: string, ...args: string[]): string {
  return execFileSync('git', args, { cwd, env: ENV, encoding: 'utf8' }).trimEnd();
}

/**
 * A repository holding examples/sample-workspace (in `sub` when given) with what a person leaves
 * lying around: a second branch, a stash, a staged change, an unstaged change, an untracked file.
 */
export function makeUserRepo(repo: string, sub = ''): string {
  const work = join(repo, sub);
  mkdirSync(work, { recursive: true });
  cpSync(join(ROOT, 'examples', 'sample-workspace'), work, { recursive: true });
  writeFileSync(join(repo, 'TOP.md'), 'the top of the repository\n');
  git(repo, 'init', '--quiet', '--initial-branch=main');
  git(repo, 'add', '--all');
  git(repo, 'commit', '--quiet', '-m', 'the project');
  git(repo, 'checkout', '--quiet', '-b', 'feature');
  writeFileSync(join(repo, 'FEATURE.md'), 'a feature in progress\n');
  git(repo, 'add', 'FEATURE.md');
  git(repo, 'commit', '--quiet', '-m', 'feature work');
  git(repo, 'checkout', '--quiet', 'main');
  writeFileSync(join(work, 'README.md'), 'stashed edit\n');
  git(repo, 'stash', 'push', '--quiet', '-m', 'my stash');
  writeFileSync(join(repo, 'TOP.md'), 'a staged edit\n');
  git(repo, 'add', 'TOP.md');
  writeFileSync(
    join(work, 'src', 'sum.js'),
    `${readFileSync(join(work, 'src', 'sum.js'), 'utf8')}// my own note\n`,
  );
  writeFileSync(join(work, 'scratch.txt'), 'untracked\n');
  return work;
}

function walk(dir: string, root: string, out: Record<string, string>): void {
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (full === join(root, '.git')) continue;
    const st = lstatSync(full);
    if (st.isDirectory()) walk(full, root, out);
    else out[relative(root, full)] = readFileSync(full).toString('base64');
  }
}

/** Every file outside .git byte for byte, and git's view: status, stash, HEAD, index, branches. */
export function snapshot(repo: string) {
  const files: Record<string, string> = {};
  walk(repo, repo, files);
  return {
    files,
    status: git(repo, 'status', '--porcelain=v1', '--untracked-files=all'),
    stash: git(repo, 'stash', 'list'),
    stashTop: git(repo, 'rev-parse', 'refs/stash'),
    head: git(repo, 'rev-parse', 'HEAD'),
    symbolicHead: git(repo, 'symbolic-ref', 'HEAD'),
    index: readFileSync(join(repo, '.git', 'index')).toString('base64'),
    config: readFileSync(join(repo, '.git', 'config'), 'utf8'),
    hooks: readdirSync(join(repo, '.git', 'hooks')).sort(),
    // Every branch but the runs' own, with where it points.
    branches: git(repo, 'for-each-ref', '--format=%(refname) %(objectname)', 'refs/heads')
      .split('\n')
      .filter((l) => !l.startsWith('refs/heads/nightshift/')),
  };
}

export function runBranches(repo: string): string[] {
  return git(repo, 'for-each-ref', '--format=%(refname:short)', 'refs/heads/nightshift/')
    .split('\n')
    .filter((l) => l !== '');
}

/** `.git` entries anywhere below `repo` except its own. */
export function nestedGitDirs(repo: string): string[] {
  const found: string[] = [];
  const visit = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const full = join(dir, name);
      if (full === join(repo, '.git')) continue;
      if (name === '.git') found.push(full);
      else if (lstatSync(full).isDirectory()) visit(full);
    }
  };
  if (existsSync(repo)) visit(repo);
  return found;
}
