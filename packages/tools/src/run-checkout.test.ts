// Issue 18: a run's own checkout and branch; the user's repository is only read, and gets the
// run's branch (and nothing else) back; roots refuse everything outside them, symlinks included.
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { ValidationError } from '@nightshift/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { commitAll } from './git.js';
import {
  deleteRunBranch,
  describeRunBranch,
  fetchRunBranch,
  pushRunBranch,
  removeCheckout,
} from './run-branch.js';
import { type CheckoutOptions, planCheckout, prepareRunCheckout } from './run-checkout.js';
import { checkWorkspaceRoots } from './workspace-roots.js';

let base: string;
let repo: string;
let wsDir: string;

const env = {
  PATH: process.env.PATH ?? '',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'User',
  GIT_AUTHOR_EMAIL: 'user@example.com',
  GIT_COMMITTER_NAME: 'User',
  GIT_COMMITTER_EMAIL: 'user@example.com',
};
const git = (cwd: string, ...args: string[]) =>
  execFileSync('git', args, { cwd, encoding: 'utf8', env }).trim();

/** What the user would see: every observable piece of their checkout. */
async function userState(dir: string) {
  return {
    status: git(dir, 'status', '--porcelain=v1', '--untracked-files=all'),
    stash: git(dir, 'stash', 'list'),
    head: git(dir, 'rev-parse', 'HEAD'),
    symbolic: git(dir, 'symbolic-ref', 'HEAD'),
    index: (await readFile(path.join(dir, '.git', 'index'))).toString('base64'),
    dirty: await readFile(path.join(dir, 'app', 'main.txt'), 'utf8'),
    untracked: await readFile(path.join(dir, 'notes.txt'), 'utf8'),
    config: await readFile(path.join(dir, '.git', 'config'), 'utf8'),
  };
}

function options(runId: string, extra: Partial<CheckoutOptions> = {}): CheckoutOptions {
  return {
    runId,
    workspaceDir: wsDir,
    roots: [base],
    branchPrefix: 'nightshift/',
    identity: { name: 'Night Team', email: 'team@example.com' },
    ...extra,
  };
}

beforeAll(async () => {
  base = await mkdtemp(path.join(tmpdir(), 'ns-checkout-'));
  repo = path.join(base, 'repo');
  wsDir = path.join(base, 'workspaces');
  await mkdir(path.join(repo, 'app'), { recursive: true });
  git(repo, 'init', '--quiet', '--initial-branch=main');
  await writeFile(path.join(repo, 'app', 'main.txt'), 'one\n');
  await writeFile(path.join(repo, 'README'), 'readme\n');
  git(repo, 'add', '.');
  git(repo, 'commit', '--quiet', '-m', 'first');
  git(repo, 'branch', 'other');
  await writeFile(path.join(repo, 'app', 'main.txt'), 'stashed\n');
  git(repo, 'stash', '--quiet');
  await writeFile(path.join(repo, 'app', 'main.txt'), 'uncommitted\n');
  await writeFile(path.join(repo, 'notes.txt'), 'untracked\n');
});

afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

describe('workspace roots', () => {
  it('allows a folder under a root and refuses /, /etc and a symlink that leads outside', async () => {
    expect((await checkWorkspaceRoots(repo, [base], base)).real).toContain('repo');
    await symlink('/etc', path.join(base, 'escape'));
    for (const outside of ['/', '/etc', path.join(base, 'escape'), path.join(base, 'missing')]) {
      const error = await checkWorkspaceRoots(outside, [base], base).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).problems[0]?.path).toBe('workspace');
    }
    const error = (await checkWorkspaceRoots('/etc', [base], base).catch((e: unknown) => e)) as Error;
    expect(error.message).toContain(base);
  });
});

describe('a run checkout of a repository', () => {
  it('clones at HEAD onto nightshift/<run>, commits there, fetches the branch back, and leaves the user alone', async () => {
    const before = await userState(repo);
    const checkout = await prepareRunCheckout(options('run_a1', { requested: repo }));
    expect(checkout).toMatchObject({
      path: path.join(wsDir, 'run_a1'),
      cwd: path.join(wsDir, 'run_a1'),
      branch: 'nightshift/run_a1',
      base: before.head,
      baseRef: 'HEAD',
    });
    // The committed state, not the user's uncommitted edit or stash.
    expect(await readFile(path.join(checkout.cwd, 'app', 'main.txt'), 'utf8')).toBe('one\n');
    await expect(stat(path.join(checkout.cwd, 'notes.txt'))).rejects.toThrow();
    // Idempotent: a second call (a crash, another agent) reuses the same checkout.
    expect(await prepareRunCheckout(options('run_a1', { requested: repo }))).toEqual(checkout);

    await writeFile(path.join(checkout.cwd, 'app', 'main.txt'), 'team\n');
    const commit = await commitAll(checkout.path, 'run_a1', 'build i1 · builder: change', {
      branch: checkout.branch,
      identity: { name: 'Night Team', email: 'team@example.com' },
    });
    expect(commit.committed).toBe(true);
    expect(await fetchRunBranch(checkout)).toBe(true);
    expect(git(repo, 'rev-parse', 'nightshift/run_a1')).toBe(commit.sha);
    expect(git(repo, 'log', '-1', '--format=%an <%ae> %s', 'nightshift/run_a1')).toBe(
      'Night Team <team@example.com> [run run_a1] build i1 · builder: change',
    );
    expect(await userState(repo)).toEqual(before);
    expect(git(repo, 'branch', '--format=%(refname:short)').split('\n').sort()).toEqual([
      'main',
      'nightshift/run_a1',
      'other',
    ]);

    const report = await describeRunBranch(checkout);
    expect(report?.commits.map((c) => c.subject)).toEqual(['[run run_a1] build i1 · builder: change']);
    expect(report?.diffStat).toMatch(/app\/main\.txt \| 2 \+-/);
    expect(report?.diff).toContain('+team');

    expect(await removeCheckout(checkout, wsDir)).toBe(true);
    expect(await deleteRunBranch(checkout)).toBe(true);
    expect(git(repo, 'branch', '--list', 'nightshift/*')).toBe('');
    expect(await userState(repo)).toEqual(before);
  });

  it('refuses to commit on any branch but the run one', async () => {
    const checkout = await prepareRunCheckout(options('run_a2', { requested: repo }));
    git(checkout.path, 'checkout', '--quiet', '-b', 'elsewhere');
    await writeFile(path.join(checkout.cwd, 'README'), 'x\n');
    await expect(commitAll(checkout.path, 'run_a2', 'sneaky', { branch: checkout.branch })).rejects.toThrow(
      /not the run's branch nightshift\/run_a2/,
    );
  });

  it('works in the subfolder of a repository: the clone covers the repository, no nested .git', async () => {
    const checkout = await prepareRunCheckout(
      options('run_a3', { requested: path.join(repo, 'app'), base: 'other' }),
    );
    expect(checkout.cwd).toBe(path.join(wsDir, 'run_a3', 'app'));
    expect(checkout.baseRef).toBe('other');
    expect(checkout.repo).toBe(repo);
    await expect(stat(path.join(repo, 'app', '.git'))).rejects.toThrow();
    await expect(stat(path.join(checkout.cwd, '.git'))).rejects.toThrow();
  });

  it('refuses an unknown base and a WORKSPACE_DIR inside the repository, writing nothing', async () => {
    const error = (await planCheckout({
      workspaceDir: wsDir,
      roots: [base],
      requested: repo,
      base: 'nope',
    }).catch((e: unknown) => e)) as ValidationError;
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.problems[0]?.path).toBe('base');
    const inside = path.join(repo, '.nightshift', 'ws');
    const nested = (await prepareRunCheckout(
      options('run_a4', { requested: repo, workspaceDir: inside }),
    ).catch((e: unknown) => e)) as ValidationError;
    expect(nested.problems[0]?.path).toBe('workspace');
    await expect(stat(path.join(repo, '.nightshift'))).rejects.toThrow();
  });
});

describe('a folder that is not in a repository', () => {
  it('is copied into a new repository with a baseline commit; the folder itself is untouched', async () => {
    const plain = path.join(base, 'plain');
    await mkdir(plain);
    await writeFile(path.join(plain, 'a.txt'), 'a\n');
    const checkout = await prepareRunCheckout(options('run_b1', { requested: plain, roots: [plain] }));
    expect(checkout.repo).toBeUndefined();
    expect(checkout.baseRef).toBe('baseline');
    expect(git(checkout.path, 'log', '--format=%s', checkout.branch)).toBe(
      '[run run_b1] baseline: the workspace as the run found it',
    );
    expect(await readFile(path.join(checkout.cwd, 'a.txt'), 'utf8')).toBe('a\n');
    await expect(stat(path.join(plain, '.git'))).rejects.toThrow();
    expect(await fetchRunBranch(checkout)).toBe(false);
  });

  it('gives a run without a workspace an empty repository of its own', async () => {
    const checkout = await prepareRunCheckout(options('run_b2'));
    expect(checkout.cwd).toBe(path.join(wsDir, 'run_b2'));
    expect(git(checkout.path, 'symbolic-ref', 'HEAD')).toBe('refs/heads/nightshift/run_b2');
  });
});

describe('pushing a run branch (NIGHTSHIFT_GIT_PUSH_REMOTE)', () => {
  it('pushes only the run branch to the named remote, as the operator, without hooks; never forced', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'ns-push-'));
    const user = path.join(dir, 'user');
    const bare = path.join(dir, 'remote.git');
    const home = path.join(dir, 'home');
    await mkdir(path.join(user, 'app'), { recursive: true });
    await mkdir(home);
    git(dir, 'init', '--quiet', '--bare', bare);
    git(dir, 'init', '--quiet', '--initial-branch=main', user);
    await writeFile(path.join(user, 'app', 'main.txt'), 'one\n');
    git(user, 'add', '.');
    git(user, 'commit', '--quiet', '-m', 'start');
    git(user, 'branch', 'other');
    // The remote's URL resolves only through the operator's global config: the push reads it.
    git(user, 'remote', 'add', 'backup', 'mirror-of-backup:');
    await writeFile(path.join(home, '.gitconfig'), `[url "${bare}"]\n\tinsteadOf = mirror-of-backup:\n`);
    const planted = path.join(dir, 'hook-ran');
    await writeFile(path.join(user, '.git', 'hooks', 'pre-push'), `#!/bin/sh\ntouch ${planted}\n`, {
      mode: 0o755,
    });

    const checkout = await prepareRunCheckout({ ...options('run_p1', { requested: user, roots: [dir] }) });
    await writeFile(path.join(checkout.cwd, 'app', 'main.txt'), 'team\n');
    const commit = await commitAll(checkout.path, 'run_p1', 'build i1 · builder: change', {
      branch: checkout.branch,
      identity: { name: 'Night Team', email: 'team@example.com' },
    });
    expect(await fetchRunBranch(checkout)).toBe(true);
    const target = { remote: 'backup', home };
    expect(await pushRunBranch(checkout, target)).toBe(true);
    expect(git(bare, 'rev-parse', 'refs/heads/nightshift/run_p1')).toBe(commit.sha);
    // Only the run's ref travelled: not main, not the user's other branch, no tags.
    expect(git(bare, 'for-each-ref', '--format=%(refname)')).toBe('refs/heads/nightshift/run_p1');
    await expect(stat(planted)).rejects.toThrow();

    // Someone moved the remote branch elsewhere: the next push is refused, never forced.
    const other = git(user, 'commit-tree', '-m', 'elsewhere', `${git(user, 'rev-parse', 'main')}^{tree}`);
    git(user, 'push', '--quiet', '--force', bare, `${other}:refs/heads/nightshift/run_p1`);
    await expect(pushRunBranch(checkout, target)).rejects.toThrow(
      /git push failed.*(rejected|non-fast-forward|fetch first)/s,
    );
    expect(git(bare, 'rev-parse', 'refs/heads/nightshift/run_p1')).toBe(other);

    // Without the operator's HOME the remote's name does not resolve: the push fails, loudly.
    await expect(pushRunBranch(checkout, { remote: 'backup', home: dir })).rejects.toThrow(/git push failed/);
    await expect(pushRunBranch(checkout, { remote: 'nowhere', home })).rejects.toThrow(/git push failed/);
    // A copied folder's branch lives in its checkout only: nothing to push from.
    const copied = await prepareRunCheckout(options('run_p2'));
    expect(await pushRunBranch(copied, target)).toBe(false);
    await rm(dir, { recursive: true, force: true });
  });
});
