// `nightshift run "task…"`: enqueue a run on queue `runs` (the same schema as scripts and the
// dashboard use) and print its id; `--wait` follows it to the end with a live progress line.
import { resolve } from 'node:path';
import { type ControlParts, failIfJobFailed } from '@nightshift/client';
import { PRIORITIES, problemsFrom, RunInputSchema } from '@nightshift/protocol';
import { listHeartbeats, QUEUE_NAMES } from '@nightshift/redis';
import { type Command, Option } from 'commander';
import { printJson, withControl } from '../control-deps.js';
import type { CliDeps } from '../deps.js';
import { followWithProgress } from '../follow-progress.js';
import { parsePositiveInt } from '../options.js';
import { exitWith, parsePositiveNumber, RUN_EXIT } from '../steer-options.js';

interface RunOptions {
  workspace?: string;
  base?: string;
  title?: string;
  maxTokens?: number;
  maxUsd?: number;
  maxHours?: number;
  priority?: (typeof PRIORITIES)[number];
  wait?: boolean;
  json?: boolean;
}

/** Wire field → the option a user typed, so a schema problem names the option. */
const OPTION_OF: Record<string, string> = {
  task: '<task>',
  workspace: '--workspace',
  base: '--base',
  title: '--title',
  'budget.maxTokens': '--max-tokens',
  'budget.maxUsd': '--max-usd',
  'budget.maxHours': '--max-hours',
  priority: '--priority',
};

export function registerRun(program: Command, deps: CliDeps): void {
  program
    .command('run')
    .description('start a run of the team on a task; prints the run id (--wait follows it to the end)')
    .argument('<task...>', 'what the team should do')
    .option(
      '--workspace <dir>',
      'the codebase to work on, under the workspace roots (default: an empty workspace); the team works on its own checkout and branch, never in this folder',
    )
    .option('--base <ref>', "the commit the run's branch starts from (default: the repository's HEAD)")
    .option('--title <title>', 'a short title for lists and reports')
    .addOption(new Option('--max-tokens <n>', 'token budget of the run').argParser(parsePositiveInt))
    .addOption(new Option('--max-usd <n>', 'USD budget of the run').argParser(parsePositiveNumber))
    .addOption(new Option('--max-hours <n>', 'time budget of the run, hours').argParser(parsePositiveNumber))
    .addOption(new Option('--priority <priority>', 'priority among queued runs').choices(PRIORITIES))
    .option(
      '--wait',
      'follow the run until it ends (exit 0 finished, 1 failed/aborted, 3 waiting for a human)',
    )
    .option('--json', 'print JSON ({runId, jobId}; with --wait one object per change)')
    .action(async (words: string[], options: RunOptions) => {
      const input: Record<string, unknown> = { task: words.join(' ') };
      if (options.workspace !== undefined) input.workspace = resolve(options.workspace);
      if (options.base !== undefined) input.base = options.base;
      if (options.title !== undefined) input.title = options.title;
      const budget: Record<string, number> = {};
      if (options.maxTokens !== undefined) budget.maxTokens = options.maxTokens;
      if (options.maxUsd !== undefined) budget.maxUsd = options.maxUsd;
      if (options.maxHours !== undefined) budget.maxHours = options.maxHours;
      if (Object.keys(budget).length > 0) input.budget = budget;
      if (options.priority !== undefined) input.priority = options.priority;
      const checked = RunInputSchema.safeParse(input);
      if (!checked.success) {
        const list = problemsFrom(checked.error).map((p) => `${OPTION_OF[p.path] ?? p.path}: ${p.expected}`);
        exitWith(deps.stderr, RUN_EXIT.usage, 'invalidRun', `error: invalid run: ${list.join('; ')}`);
      }
      await withControl(deps, async (control) => {
        const { runId, jobId } = await control.startRun(checked.data);
        // The Director checks again when it takes the run (issue 18 §7): say so now if it refused.
        await refusedByIntake(control.parts, runId, jobId);
        if (options.json) printJson(deps, { runId, jobId });
        else deps.stdout(`${runId}\n`);
        if (options.wait) {
          await followWithProgress(deps, control, runId, {
            jobId,
            ...(options.json === undefined ? {} : { json: options.json }),
          });
        }
      });
    });
}

/**
 * Waits (while a Director is alive, at most 10 s) for the Director's intake to take the job, and
 * fails like `--wait` does when it was refused (a workspace outside its roots, an unknown base).
 */
async function refusedByIntake(parts: ControlParts, runId: string, jobId: string): Promise<void> {
  if ((await listHeartbeats(parts.redis, parts.keys, 'director')).length === 0) return;
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const state = await parts.queue(QUEUE_NAMES.runs).getJobState(jobId);
    if (state === 'unknown' || state === 'completed') return;
    await failIfJobFailed(parts, runId, jobId);
    await new Promise((r) => setTimeout(r, 100));
  }
}
