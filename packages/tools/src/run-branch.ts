// A run's branch after the fact (issue 18 §2–3): fetched back into the user's repository after
// each milestone commit, described for the morning report, applied, discarded, pruned.
// Everything here is trusted host code (host-git.ts); none of it takes a model's arguments.
import { rm, stat } from 'node:fs/promises';
import * as path from 'node:path';
import type { RunCheckout } from '@nightshift/protocol';
import { type HostGitOptions, hostGit, type OperatorCredentials } from './host-git.js';
import { isErrno } from './result.js';
import { isInside } from './workspace-roots.js';

/**
 * Copies the run's branch from its checkout into the user's repository: `git fetch <checkout>
 * <branch>:<branch>` run IN the user's repository, which writes objects and that one ref and never
 * reads or writes its working tree, index, HEAD, stash or FETCH_HEAD. No `+`: a branch that moved
 * in a way that is not a fast-forward is refused, never forced. A no-op for a copied folder.
 */
export async function fetchRunBranch(checkout: RunCheckout, options: HostGitOptions = {}): Promise<boolean> {
  if (checkout.repo === undefined) return false;
  const ref = `refs/heads/${checkout.branch}`;
  await hostGit(
    checkout.repo,
    [
      'fetch',
      '--quiet',
      '--no-tags',
      '--no-write-fetch-head',
      '--no-recurse-submodules',
      '--',
      checkout.path,
      `${ref}:${ref}`,
    ],
    options,
  );
  return true;
}

/** Where run branches are pushed (NIGHTSHIFT_GIT_PUSH_REMOTE) and as whom. */
export interface PushTarget extends OperatorCredentials {
  /** The name of a remote configured in the user's repository (never a URL from elsewhere). */
  remote: string;
}

/**
 * Pushes the run's branch from the user's repository to the operator's remote, after the fetch
 * has brought it there: `git push --no-verify <remote> <branch>:<branch>`. Never forced (no `+`,
 * no `--force`): a remote branch that moved elsewhere refuses the push, and git's refusal is the
 * error. Only the run's own ref is named, so no other branch or tag can travel. A no-op (false)
 * for a copied folder, whose branch lives only in its checkout.
 */
export async function pushRunBranch(
  checkout: RunCheckout,
  target: PushTarget,
  options: HostGitOptions = {},
): Promise<boolean> {
  if (checkout.repo === undefined) return false;
  const ref = `refs/heads/${checkout.branch}`;
  const { remote, ...credentials } = target;
  await hostGit(
    checkout.repo,
    ['push', '--quiet', '--no-verify', '--no-recurse-submodules', '--', remote, `${ref}:${ref}`],
    { ...options, credentials },
  );
  return true;
}

export interface BranchCommit {
  sha: string;
  subject: string;
  author: string;
}

export interface BranchReport {
  branch: string;
  base: string;
  baseRef: string;
  /** Where the branch can be read: the user's repository, else the run's own checkout. */
  repository: string;
  commits: BranchCommit[];
  /** `git diff --stat base...branch`. */
  diffStat: string;
  diff: string;
  /** The diff was cut at the cap. */
  truncated: boolean;
}

const DIFF_CAP_CHARS = 400_000;

async function isDir(folder: string): Promise<boolean> {
  try {
    return (await stat(folder)).isDirectory();
  } catch (error) {
    if (isErrno(error, 'ENOENT', 'ENOTDIR')) return false;
    throw error;
  }
}

/** Where the branch lives now: the user's repository if it has it, else the checkout if still there. */
async function branchHome(checkout: RunCheckout, options: HostGitOptions): Promise<string | undefined> {
  const ref = `refs/heads/${checkout.branch}`;
  for (const dir of [checkout.repo, checkout.path]) {
    if (dir === undefined || !(await isDir(dir))) continue;
    const found = await hostGit(dir, ['rev-parse', '--verify', '--quiet', ref], {
      ...options,
      allowFail: true,
    });
    if (found.exitCode === 0) return dir;
  }
  return undefined;
}

/** The branch, its commits since the base, its diff stat and diff; undefined when it is gone. */
export async function describeRunBranch(
  checkout: RunCheckout,
  options: HostGitOptions = {},
): Promise<BranchReport | undefined> {
  const home = await branchHome(checkout, options);
  if (home === undefined) return undefined;
  const range = `${checkout.base}...refs/heads/${checkout.branch}`;
  const log = await hostGit(
    home,
    [
      'log',
      '--no-color',
      '--format=%H%x09%an <%ae>%x09%s',
      `${checkout.base}..refs/heads/${checkout.branch}`,
    ],
    options,
  );
  const commits = log.stdout
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((line) => {
      const [sha = '', author = '', ...subject] = line.split('\t');
      return { sha, author, subject: subject.join('\t') };
    });
  const flags = ['--no-color', '--no-ext-diff', '--no-textconv'];
  const diffStat = (await hostGit(home, ['diff', ...flags, '--stat', range], options)).stdout;
  const full = (await hostGit(home, ['diff', ...flags, range], options)).stdout;
  const truncated = full.length > DIFF_CAP_CHARS;
  return {
    branch: checkout.branch,
    base: checkout.base,
    baseRef: checkout.baseRef,
    repository: home,
    commits,
    diffStat,
    diff: truncated ? `${full.slice(0, DIFF_CAP_CHARS)}\n[… diff truncated …]\n` : full,
    truncated,
  };
}

/** Removes the run's checkout folder; only ever a folder under WORKSPACE_DIR. */
export async function removeCheckout(checkout: RunCheckout, workspaceDir: string): Promise<boolean> {
  const dir = path.resolve(checkout.path);
  const parent = path.resolve(workspaceDir);
  if (!isInside(parent, dir) || dir === parent) {
    throw new Error(`refusing to remove ${dir}: not a run checkout under WORKSPACE_DIR ${parent}`);
  }
  if (!(await isDir(dir))) return false;
  await rm(dir, { recursive: true, force: true });
  return true;
}

/**
 * Deletes the run's branch from the user's repository (`nightshift discard`). Git refuses when the
 * user has it checked out; that refusal is passed on, nothing else is changed.
 */
export async function deleteRunBranch(checkout: RunCheckout, options: HostGitOptions = {}): Promise<boolean> {
  if (checkout.repo === undefined || !(await isDir(checkout.repo))) return false;
  const ref = `refs/heads/${checkout.branch}`;
  const found = await hostGit(checkout.repo, ['rev-parse', '--verify', '--quiet', ref], {
    ...options,
    allowFail: true,
  });
  if (found.exitCode !== 0) return false;
  await hostGit(checkout.repo, ['branch', '--delete', '--force', '--', checkout.branch], options);
  return true;
}
