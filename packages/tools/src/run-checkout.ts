// Issue 18: every run works on its own checkout, never in the user's working tree.
//
// DESIGN (docs/architecture.md §7). A folder in a git repository gets a per-run CLONE of that
// repository (`git clone --no-hardlinks`) at <WORKSPACE_DIR>/<runId>, on a new branch
// <prefix><runId> at the chosen base; trusted host code fetches that branch back into the user's
// repository after each milestone commit (run-branch.ts), so it shows up there as a worktree's
// branch would. We do NOT use `git worktree add`: a linked worktree shares the user's .git (hooks,
// config, refs, objects), so a sandbox that lets the team commit would have to let model-run code
// write the user's .git/hooks and .git/config — a hook planted there runs the next time the USER
// commits. A clone is a repository of its own the sandbox can bind whole; `--no-hardlinks`
// because a hard-linked object file is the same inode in both repositories and a process that
// may chmod it could rewrite the user's history. The user's checkout, index, stash, HEAD and
// config are only ever read; the one write into their repository is the run's own branch.
//
// A folder not in a repository (and the default, empty workspace) is copied into a new
// repository with a baseline commit, on the same branch name. Preparing is idempotent and
// race-free: the checkout is built in a temporary folder and renamed into place, so a crash
// leaves either nothing or a complete checkout, and a second caller reuses the first one's.
import { cp, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import * as path from 'node:path';
import { type RunCheckout, RunCheckoutSchema, ValidationError } from '@nightshift/protocol';
import { type HostGitOptions, hostGit, repositoryOf } from './host-git.js';
import { ownerTag } from './leftovers.js';
import { isErrno } from './result.js';
import { assertSafeRunId } from './workspace.js';
import { checkWorkspaceRoots, isInside } from './workspace-roots.js';

/** Written inside the checkout's .git before it is renamed into place (for an idempotent retry). */
const RECORD = 'nightshift-checkout.json';

export interface CheckoutOptions {
  runId: string;
  /** WORKSPACE_DIR: checkouts live at `<workspaceDir>/<runId>`. */
  workspaceDir: string;
  /** The folder the run names (absolute, or relative to workspaceDir); absent = an empty workspace. */
  requested?: string | undefined;
  /** Workspace roots (issue 18 §7); a requested folder must be under one. */
  roots: readonly string[];
  /** A ref of the workspace's repository; default its HEAD. */
  base?: string | undefined;
  /** config.git.branchPrefix, e.g. `nightshift/`. */
  branchPrefix: string;
  identity: { name: string; email: string };
  git?: HostGitOptions | undefined;
}

export function runBranchName(prefix: string, runId: string): string {
  return `${prefix}${runId}`;
}

export function checkoutPathOf(workspaceDir: string, runId: string): string {
  assertSafeRunId(runId);
  return path.join(path.resolve(workspaceDir), runId);
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch (error) {
    if (isErrno(error, 'ENOENT', 'ENOTDIR')) return false;
    throw error;
  }
}

/** The record of a checkout already in place; undefined when there is none. */
export async function readCheckoutRecord(target: string): Promise<RunCheckout | undefined> {
  let text: string;
  try {
    text = await readFile(path.join(target, '.git', RECORD), 'utf8');
  } catch (error) {
    if (isErrno(error, 'ENOENT', 'ENOTDIR')) return undefined;
    throw error;
  }
  return RunCheckoutSchema.parse(JSON.parse(text));
}

function invalid(field: string, expected: string, received: string): ValidationError {
  return new ValidationError(field, [{ path: field, expected, received }]);
}

/**
 * Checks the requested folder against the roots and finds its repository, without writing
 * anything: what `nightshift run` and the Director check before a run exists.
 */
export async function planCheckout(o: Omit<CheckoutOptions, 'runId' | 'branchPrefix' | 'identity'>): Promise<{
  real?: string;
  repo?: string;
  subdir: string;
  base?: string;
}> {
  if (o.requested === undefined || o.requested === '') return { subdir: '' };
  const { real, root } = await checkWorkspaceRoots(o.requested, o.roots, o.workspaceDir);
  // Never look above the root that allowed the folder: a repository there is not ours to use.
  const repo = await repositoryOf(real, root, o.git);
  const target = path.resolve(o.workspaceDir);
  if (repo !== undefined && isInside(repo, target))
    throw invalid(
      'workspace',
      `a repository that does not contain WORKSPACE_DIR (${path.resolve(o.workspaceDir)}); the run's checkout would nest a repository in it — set WORKSPACE_DIR outside ${repo}`,
      o.requested,
    );
  if (repo === undefined) {
    if (o.base !== undefined)
      throw invalid('base', 'no base: the workspace is not in a git repository', o.base);
    if (isInside(real, target))
      throw invalid(
        'workspace',
        `a folder that does not contain WORKSPACE_DIR (${path.resolve(o.workspaceDir)})`,
        o.requested,
      );
    return { real, subdir: '' };
  }
  const ref = o.base ?? 'HEAD';
  const resolved = await hostGit(
    repo,
    ['rev-parse', '--verify', '--quiet', '--end-of-options', `${ref}^{commit}`],
    {
      ...o.git,
      allowFail: true,
    },
  );
  const sha = resolved.stdout.trim();
  if (resolved.exitCode !== 0 || sha === '')
    throw invalid('base', `a commit of the repository ${repo} (a branch, tag or sha)`, ref);
  return { real, repo, subdir: path.relative(repo, real), base: sha };
}

/**
 * The run's checkout, created if missing (see the file header). Returns the same record for the
 * same run however often it is called, including after a crash half-way through.
 */
export async function prepareRunCheckout(o: CheckoutOptions): Promise<RunCheckout> {
  const target = checkoutPathOf(o.workspaceDir, o.runId);
  const existing = await readCheckoutRecord(target);
  if (existing) return existing;
  const plan = await planCheckout(o);
  await mkdir(path.dirname(target), { recursive: true });
  // Named after its maker (host, pid, time): a process killed half-way leaves it, and the next one
  // to start removes it once that maker is known gone (leftovers.ts, issue 21 §4).
  const tmp = `${target}.tmp-${ownerTag()}`;
  const branch = runBranchName(o.branchPrefix, o.runId);
  try {
    const record =
      plan.repo !== undefined && plan.base !== undefined
        ? await cloneInto(tmp, target, branch, { ...plan, repo: plan.repo, base: plan.base }, o)
        : await copyInto(tmp, target, branch, plan.real, o);
    await writeFile(path.join(tmp, '.git', RECORD), `${JSON.stringify(record, null, 2)}\n`);
    try {
      await rename(tmp, target);
    } catch (error) {
      // Another process prepared it first (ENOTEMPTY/EEXIST): theirs is as good as ours.
      if (!isErrno(error, 'ENOTEMPTY', 'EEXIST')) throw error;
      const theirs = await readCheckoutRecord(target);
      if (!theirs) throw error;
      return theirs;
    }
    return record;
  } finally {
    await rm(tmp, { recursive: true, force: true });
  }
}

async function configure(dir: string, o: CheckoutOptions): Promise<void> {
  await hostGit(dir, ['config', '--local', 'user.name', o.identity.name], o.git);
  await hostGit(dir, ['config', '--local', 'user.email', o.identity.email], o.git);
}

async function cloneInto(
  tmp: string,
  target: string,
  branch: string,
  plan: { repo: string; subdir: string; base: string },
  o: CheckoutOptions,
): Promise<RunCheckout> {
  const git = { ...o.git, ceiling: path.dirname(tmp) };
  await hostGit(
    path.dirname(tmp),
    ['clone', '--quiet', '--no-hardlinks', '--no-checkout', '--', plan.repo, tmp],
    git,
  );
  // The checkout is self-contained: no remote to push to, nothing that leads back by itself.
  await hostGit(tmp, ['remote', 'remove', 'origin'], git);
  const has = await hostGit(tmp, ['cat-file', '-e', `${plan.base}^{commit}`], { ...git, allowFail: true });
  if (has.exitCode !== 0)
    throw invalid('base', `a commit reachable from a branch or tag of ${plan.repo}`, o.base ?? 'HEAD');
  await hostGit(tmp, ['checkout', '--quiet', '-b', branch, plan.base], git);
  await configure(tmp, o);
  if (plan.subdir !== '') await mkdir(path.join(tmp, plan.subdir), { recursive: true });
  return {
    path: target,
    cwd: plan.subdir === '' ? target : path.join(target, plan.subdir),
    branch,
    base: plan.base,
    baseRef: o.base ?? 'HEAD',
    repo: plan.repo,
  };
}

async function copyInto(
  tmp: string,
  target: string,
  branch: string,
  source: string | undefined,
  o: CheckoutOptions,
): Promise<RunCheckout> {
  if (source === undefined) await mkdir(tmp);
  else await cp(source, tmp, { recursive: true, verbatimSymlinks: true, errorOnExist: true, force: false });
  const git = { ...o.git, ceiling: path.dirname(tmp) };
  if (await exists(path.join(tmp, '.git')))
    await rm(path.join(tmp, '.git'), { recursive: true, force: true });
  await hostGit(tmp, ['init', '--quiet', `--initial-branch=${branch}`], git);
  await writeFile(path.join(tmp, '.git', 'info', 'exclude'), 'node_modules/\n', { flag: 'a' });
  await configure(tmp, o);
  await hostGit(tmp, ['add', '--all'], git);
  const message = `[run ${o.runId}] baseline: the workspace as the run found it`;
  await hostGit(tmp, ['commit', '--quiet', '--allow-empty', '--no-verify', '-m', message], git);
  const base = (await hostGit(tmp, ['rev-parse', 'HEAD'], git)).stdout.trim();
  return { path: target, cwd: target, branch, base, baseRef: 'baseline' };
}
