// `nightshift apply <runId>` and `nightshift discard <runId>` (issue 18 §3): bring a run's branch
// into the user's current branch, or throw the run's checkout and branch away.
//
// apply merges only into a clean tree (no staged or unstaged change to a tracked file); otherwise
// it changes nothing and prints the `git merge` / `git cherry-pick` lines to run by hand. The merge
// is the user's own git with their own config (identity, hooks), as if they typed it.
import { spawnSync } from 'node:child_process';
import { loadConfig } from '@nightshift/config';
import type { RunCheckout } from '@nightshift/protocol';
import { deleteRunBranch, removeCheckout } from '@nightshift/tools';
import { Argument, type Command } from 'commander';
import { withControl } from '../control-deps.js';
import type { CliDeps } from '../deps.js';
import { parseId } from '../options.js';
import { exitWith, RUN_EXIT } from '../steer-options.js';

const runIdArgument = () => new Argument('<runId>', 'the run (see nightshift runs)').argParser(parseId);

async function checkoutOf(deps: CliDeps, runId: string): Promise<{ checkout: RunCheckout; ended: boolean }> {
  const record = await withControl(deps, (control) => control.getRun(runId));
  const checkout = record.detail.checkout;
  if (!checkout)
    exitWith(
      deps.stderr,
      RUN_EXIT.usage,
      'noBranch',
      `error: run ${runId} has no branch of its own (older run?)`,
    );
  return { checkout, ended: record.detail.ended };
}

function userGit(cwd: string, args: string[], env: NodeJS.ProcessEnv) {
  return spawnSync('git', args, { cwd, env, encoding: 'utf8' });
}

export function registerBranch(program: Command, deps: CliDeps): void {
  program
    .command('apply')
    .description("merge a run's branch into your current branch (only if your tree is clean)")
    .addArgument(runIdArgument())
    .action(async (runId: string) => {
      const { checkout, ended } = await checkoutOf(deps, runId);
      const manual = [
        `git -C ${checkout.repo ?? checkout.path} merge ${checkout.branch}`,
        `git -C ${checkout.repo ?? checkout.path} cherry-pick ${checkout.base.slice(0, 12)}..${checkout.branch}`,
      ];
      if (checkout.repo === undefined) {
        exitWith(
          deps.stderr,
          RUN_EXIT.usage,
          'notARepository',
          `error: the workspace was not a git repository; the team worked on a copy in ${checkout.path}.\nSee its changes with: git -C ${checkout.path} diff ${checkout.base.slice(0, 12)}...${checkout.branch}`,
        );
      }
      const env = deps.env ?? {};
      const status = userGit(checkout.repo, ['status', '--porcelain', '--untracked-files=no'], env);
      if (status.status !== 0)
        throw new Error(`git status failed in ${checkout.repo}: ${status.stderr.trim()}`);
      if (status.stdout.trim() !== '' || !ended) {
        const why = ended
          ? `your working tree in ${checkout.repo} has uncommitted changes; nothing was changed`
          : `run ${runId} has not ended yet; nothing was changed`;
        exitWith(
          deps.stderr,
          RUN_EXIT.usage,
          'notClean',
          `error: ${why}. When ready, run one of:\n  ${manual.join('\n  ')}`,
        );
      }
      const merged = userGit(checkout.repo, ['merge', '--no-edit', '--', checkout.branch], env);
      if (merged.status !== 0) {
        exitWith(
          deps.stderr,
          RUN_EXIT.failed,
          'mergeFailed',
          `error: git merge ${checkout.branch} failed in ${checkout.repo}:\n${merged.stdout}${merged.stderr}\nResolve it (or git merge --abort), or instead run:\n  ${manual[1]}`,
        );
      }
      deps.stdout(`merged ${checkout.branch} into your current branch in ${checkout.repo}\n${merged.stdout}`);
    });

  program
    .command('discard')
    .description("remove a run's checkout and its branch")
    .addArgument(runIdArgument())
    .action(async (runId: string) => {
      const { checkout, ended } = await checkoutOf(deps, runId);
      if (!ended)
        exitWith(
          deps.stderr,
          RUN_EXIT.usage,
          'notEnded',
          `error: run ${runId} has not ended; abort it first`,
        );
      const config = loadConfig(deps.env ?? {});
      const removed = await removeCheckout(checkout, config.workspaceDir);
      const deleted = await deleteRunBranch(checkout);
      deps.stdout(
        `${removed ? `removed ${checkout.path}` : 'no checkout left'}; ${deleted ? `deleted ${checkout.branch} in ${checkout.repo}` : 'no branch left in the repository'}\n`,
      );
    });
}
