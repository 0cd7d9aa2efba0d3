// git status/diff/commit in the run's workspace, argv only, with nothing from the repo able to run code.
//
// The workspace is a repository of its own (ensureGitRepo): git never walks up into an enclosing
// repository (GIT_CEILING_DIRECTORIES), never reads the host's global or system config, and runs
// with hooks, fsmonitor, pagers, external diff and textconv drivers switched off — each of those
// executes a command named by repository files, which the allowlist never approved. And git itself
// runs inside the OS sandbox (runner.ts) like every command, so a setting this list misses still
// runs confined to the workspace.
import { appendFile, lstat, realpath } from 'node:fs/promises';
import * as path from 'node:path';
import { z } from 'zod';
import type { HostEnv, ProcessResult } from './process.js';
import { isErrno, ToolFailure } from './result.js';
import { runConfined, type SandboxSettings } from './runner.js';
import { defineTool } from './tool.js';

export const GIT_IDENTITY = { name: 'Nightshift', email: 'nightshift@localhost' } as const;
const GIT_TIMEOUT_MS = 60_000;
const GIT_OUTPUT_CAP = 1024 * 1024;

const SAFETY_CONFIG = [
  '-c',
  'core.hooksPath=/dev/null',
  '-c',
  'core.fsmonitor=false',
  '-c',
  'core.pager=cat',
  '-c',
  'commit.gpgsign=false',
  '-c',
  'protocol.allow=never',
];

export interface GitOptions {
  timeoutMs?: number | undefined;
  outputCapBytes?: number | undefined;
  /** The host's PATH and LANG (where git is found); default a standard PATH. */
  host?: HostEnv | undefined;
  /** The OS sandbox (default on). */
  sandbox?: SandboxSettings | undefined;
}

/** Runs git in `root` (a real path) and fails with its stderr on a non-zero exit unless `allowFail`. */
async function git(root: string, args: string[], options: GitOptions & { allowFail?: boolean } = {}) {
  const result: ProcessResult = await runConfined('git', [...SAFETY_CONFIG, ...args], {
    workspace: root,
    env: {
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      GIT_TERMINAL_PROMPT: '0',
      GIT_CEILING_DIRECTORIES: path.dirname(root),
    },
    host: options.host,
    sandbox: options.sandbox,
    timeoutMs: options.timeoutMs ?? GIT_TIMEOUT_MS,
    outputCapBytes: options.outputCapBytes ?? GIT_OUTPUT_CAP,
  });
  if (result.timedOut) throw new ToolFailure(`git ${args[0]} timed out`);
  if (result.exitCode !== 0 && options.allowFail !== true) {
    throw new ToolFailure(`git ${args[0]} failed (exit ${result.exitCode}): ${result.stderr.trim()}`);
  }
  return result;
}

/**
 * Makes `root` a git repository of its own if it is not one, and gives it a local identity so
 * commits work on a machine with no git config. A folder inside another repository gets its own
 * repository: committing "all" must never stage the enclosing project.
 */
export async function ensureGitRepo(root: string, options: GitOptions = {}): Promise<{ created: boolean }> {
  const real = await realpath(root);
  let created = false;
  try {
    await lstat(path.join(real, '.git'));
  } catch (error) {
    if (!isErrno(error, 'ENOENT')) throw error;
    await git(real, ['-c', 'init.defaultBranch=main', 'init', '--quiet'], options);
    // Keep installed dependencies out of "commit all" without adding a tracked .gitignore.
    await appendFile(path.join(real, '.git', 'info', 'exclude'), '\nnode_modules/\n');
    created = true;
  }
  const email = await git(real, ['config', '--local', '--get', 'user.email'], {
    ...options,
    allowFail: true,
  });
  if (email.exitCode !== 0 || email.stdout.trim() === '') {
    await git(real, ['config', '--local', 'user.name', GIT_IDENTITY.name], options);
    await git(real, ['config', '--local', 'user.email', GIT_IDENTITY.email], options);
  }
  return { created };
}

/** `[run <runId>] message` — every milestone commit names its run (issue 6 §1). */
export function commitMessage(runId: string, message: string): string {
  const prefix = `[run ${runId}]`;
  const text = message.trim();
  return text.startsWith(prefix) ? text : `${prefix} ${text}`;
}

export interface CommitResult {
  committed: boolean;
  sha?: string;
  message: string;
}

export interface CommitOptions {
  /** Refuse unless HEAD is this branch (the run's own, issue 18). */
  branch?: string | undefined;
  /** The commit's author and committer (config.git), whatever the repository's config says. */
  identity?: { name: string; email: string } | undefined;
}

/** Stages everything in the workspace and commits; nothing to commit is not an error. */
export async function commitAll(
  root: string,
  runId: string,
  message: string,
  options: GitOptions & CommitOptions = {},
): Promise<CommitResult> {
  const real = await realpath(root);
  const full = commitMessage(runId, message);
  // Issue 18 §2: a run commits on its own branch and nowhere else.
  if (options.branch !== undefined) {
    const head = await git(real, ['symbolic-ref', '--quiet', 'HEAD'], { ...options, allowFail: true });
    if (head.stdout.trim() !== `refs/heads/${options.branch}`)
      throw new ToolFailure(
        `refusing to commit: HEAD is ${head.stdout.trim() || 'detached'}, not the run's branch ${options.branch}`,
      );
  }
  await git(real, ['add', '--all'], options);
  const staged = await git(real, ['diff', '--cached', '--quiet'], { ...options, allowFail: true });
  if (staged.exitCode === 0) return { committed: false, message: full };
  const who = options.identity
    ? ['-c', `user.name=${options.identity.name}`, '-c', `user.email=${options.identity.email}`]
    : [];
  await git(real, [...who, 'commit', '--quiet', '--no-verify', '-m', full], options);
  const sha = (await git(real, ['rev-parse', 'HEAD'], options)).stdout.trim();
  return { committed: true, sha, message: full };
}

export async function gitStatus(root: string, options: GitOptions = {}): Promise<string> {
  const real = await realpath(root);
  return (await git(real, ['status', '--short', '--branch', '--untracked-files=all'], options)).stdout;
}

/** Changes since the last commit (tracked files), plus the list of untracked ones. */
export async function gitDiff(
  root: string,
  options: GitOptions = {},
): Promise<{ diff: string; truncated: boolean }> {
  const real = await realpath(root);
  const hasHead = (
    await git(real, ['rev-parse', '--verify', '--quiet', 'HEAD'], { ...options, allowFail: true })
  ).exitCode;
  const base = ['diff', '--no-ext-diff', '--no-textconv', '--no-color'];
  const diff = await git(real, hasHead === 0 ? [...base, 'HEAD'] : [...base, '--cached'], options);
  const untracked = await git(real, ['ls-files', '--others', '--exclude-standard'], options);
  const files = untracked.stdout.trim();
  const text = diff.stdout + (files === '' ? '' : `\nuntracked files:\n${files}\n`);
  return { diff: text, truncated: diff.truncated || untracked.truncated };
}

/** `git diff --stat` from the first commit to HEAD (the morning report's "files changed"), or undefined. */
export async function gitDiffStat(root: string, options: GitOptions = {}): Promise<string | undefined> {
  const real = await realpath(root);
  const first = await git(real, ['rev-list', '--max-parents=0', 'HEAD'], { ...options, allowFail: true });
  const base = first.stdout.trim().split('\n')[0];
  if (first.exitCode !== 0 || !base) return undefined;
  const stat = await git(real, ['diff', '--no-ext-diff', '--stat', base, 'HEAD'], {
    ...options,
    allowFail: true,
  });
  if (stat.exitCode !== 0) return undefined;
  return stat.stdout.trim() || '(no changes since the first commit)';
}

export const gitTool = defineTool({
  name: 'git',
  description:
    'Git in the workspace: "status", "diff" (changes since the last commit), or "commit" (stages everything; ' +
    'the run id is prefixed to the message).',
  parameters: z
    .object({
      action: z.enum(['status', 'diff', 'commit']),
      message: z.string().min(1).max(2000).optional().describe('Commit message (required for commit)'),
    })
    .refine((a) => a.action !== 'commit' || a.message !== undefined, {
      path: ['message'],
      message: 'a commit message (required when action is "commit")',
    }),
  async execute(args, ctx) {
    const options = {
      timeoutMs: ctx.timeoutMs,
      outputCapBytes: ctx.outputCapBytes,
      host: ctx.host,
      sandbox: ctx.sandbox,
    };
    // A run's checkout (issue 18) is a repository already, maybe above the workspace (a subfolder):
    // git works at its root, on its branch. Without one, the workspace becomes a repository.
    const root = ctx.git?.root ?? ctx.workspaceRoot;
    if (ctx.git === undefined) await ensureGitRepo(root, options);
    if (args.action === 'status') {
      const status = await gitStatus(root, options);
      return { output: status.trim() === '' ? '(clean)' : status };
    }
    if (args.action === 'diff') {
      const { diff, truncated } = await gitDiff(root, options);
      return { output: diff.trim() === '' ? '(no changes)' : diff, data: { truncated } };
    }
    const result = await commitAll(root, ctx.runId, args.message ?? '', { ...options, ...ctx.git });
    const output = result.committed ? `committed ${result.sha}: ${result.message}` : 'nothing to commit';
    return { output, data: result };
  },
});
