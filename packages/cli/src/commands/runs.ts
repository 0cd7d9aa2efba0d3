// The run commands: `runs` (list), `pause|abort <runId>` (resume: commands/resume.ts) and `decide <runId>` (a human's
// answer to a run waiting for one, guide §4 level 3 / issue 5 §6). All go through the control layer.

import type { RunActionResult } from '@nightshift/client';
import type { HumanDecision } from '@nightshift/core';
import { Argument, type Command, Option } from 'commander';
import { printJson, withControl } from '../control-deps.js';
import type { CliDeps } from '../deps.js';
import { runsTable } from '../format.js';
import { parseId, parsePositiveInt } from '../options.js';
import { loadBranchSection } from '../report/branch-section.js';
import { exitWith, RUN_EXIT } from '../steer-options.js';

const runIdArgument = () => new Argument('<runId>', 'the run (see nightshift runs)').argParser(parseId);

function report(deps: CliDeps, result: RunActionResult, json: boolean | undefined): void {
  if (json) {
    printJson(deps, result);
    return;
  }
  const what = result.action === 'decide' ? `decision "${result.decision}"` : result.action;
  deps.stdout(
    result.changed
      ? `${what} recorded for ${result.runId}; it is now ${result.status}\n`
      : `${result.runId} is already ${result.status}: nothing to ${result.action}\n`,
  );
}

export function registerRuns(program: Command, deps: CliDeps): void {
  program
    .command('runs')
    .description('list recent runs, newest first')
    .addOption(new Option('--limit <n>', 'how many').argParser(parsePositiveInt).default(20))
    .option('--json', 'print a JSON array')
    .action(async (options: { limit: number; json?: boolean }) => {
      const { runs, archived } = await withControl(deps, async (control) => ({
        runs: await control.listRuns(options.limit),
        archived: await control.archivedRuns(),
      }));
      // Issue 18 §3: each run's branch with its commits and diff stat, read from the repository.
      const branches = await Promise.all(runs.map((r) => loadBranchSection(r.checkout ?? undefined)));
      if (options.json) {
        printJson(
          deps,
          runs.map((r, i) => {
            const b = branches[i]?.branch;
            return b ? { ...r, commits: b.commits, diffStat: b.diffStat } : r;
          }),
        );
        return;
      }
      deps.stdout(`${runsTable(runs)}\n`);
      if (archived.runIds.length > 0)
        deps.stdout(
          `${archived.runIds.length} older run(s) archived out of Redis in ${archived.dir} (report, replay and the dashboard still read them; newest: ${archived.runIds.at(-1)})\n`,
        );
      const lines = runs.flatMap((r, i) => {
        const s = branches[i];
        if (!r.branch || !s) return [];
        const b = s.branch;
        if (!b) return [`${r.runId}  ${r.branch}: ${s.problem ?? 'no branch'}`];
        const stat = b.diffStat.trimEnd().split('\n').at(-1)?.trim() || 'no changes';
        return [`${r.runId}  ${r.branch}: ${b.commits.length} commit(s), ${stat}`];
      });
      if (lines.length > 0) deps.stdout(`\n${lines.join('\n')}\n`);
    });

  program
    .command('pause')
    .description('pause a run: the Director starts no new step until it is resumed')
    .addArgument(runIdArgument())
    .option('--note <text>', 'why (recorded with the event)')
    .option('--json', 'print the result as JSON')
    .action(async (runId: string, options: { note?: string; json?: boolean }) => {
      const result = await withControl(deps, (c) => c.pauseRun(runId, noteOf(options)));
      report(deps, result, options.json);
    });

  program
    .command('abort')
    .description('abort a run (recorded as a human decision; the Director stops it gracefully)')
    .addArgument(runIdArgument())
    .option('--note <text>', 'why (recorded with the decision)')
    .option('--json', 'print the result as JSON')
    .action(async (runId: string, options: { note?: string; json?: boolean }) => {
      const result = await withControl(deps, (c) => c.abortRun(runId, noteOf(options)));
      report(deps, result, options.json);
    });

  const decisions = ['continue', 'revise', 'finish', 'abort'] as const;
  const others = (name: string) => decisions.filter((d) => d !== name);
  program
    .command('decide')
    .description('answer a run that waits for a human')
    .addArgument(runIdArgument())
    .addOption(new Option('--continue', 'go on as planned').conflicts(others('continue')))
    .addOption(new Option('--revise <note>', 'iterate again with this guidance').conflicts(others('revise')))
    .addOption(new Option('--finish', 'finish with what the run has').conflicts(others('finish')))
    .addOption(new Option('--abort', 'abort the run').conflicts(others('abort')))
    .option('--note <text>', 'a note for the team (with --continue, --finish or --abort)')
    .option('--json', 'print the result as JSON')
    .action(
      async (
        runId: string,
        options: {
          continue?: boolean;
          revise?: string;
          finish?: boolean;
          abort?: boolean;
          note?: string;
          json?: boolean;
        },
      ) => {
        const decision: HumanDecision | undefined = options.continue
          ? 'continue'
          : options.revise !== undefined
            ? 'revise'
            : options.finish
              ? 'finish'
              : options.abort
                ? 'abort'
                : undefined;
        if (decision === undefined) {
          exitWith(
            deps.stderr,
            RUN_EXIT.usage,
            'missingDecision',
            'error: choose one of --continue, --revise <note>, --finish or --abort',
          );
        }
        if (options.revise !== undefined && options.note !== undefined) {
          exitWith(
            deps.stderr,
            RUN_EXIT.usage,
            'conflictingNote',
            'error: --revise takes the note itself; drop --note',
          );
        }
        const note = options.revise ?? options.note;
        if (note !== undefined && note.trim() === '') {
          exitWith(deps.stderr, RUN_EXIT.usage, 'emptyNote', 'error: the note is empty');
        }
        const result = await withControl(deps, (c) =>
          c.decide(runId, decision, note === undefined ? {} : { note }),
        );
        report(deps, result, options.json);
      },
    );
}

function noteOf(options: { note?: string }): { note?: string } {
  return options.note === undefined ? {} : { note: options.note };
}
