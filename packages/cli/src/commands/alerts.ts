// `nightshift resolve <alertId>`: a human's answer to an alert or emergency (guide §4): continue
// (the sentinel resumes what it paused), abort, or just a note; and `nightshift alerts` to list them.

import type { AlertDecision } from '@nightshift/client';
import { Argument, type Command, Option } from 'commander';
import { printJson, withControl } from '../control-deps.js';
import type { CliDeps } from '../deps.js';
import { parseId, parsePositiveInt } from '../options.js';
import { exitWith, RUN_EXIT } from '../steer-options.js';

export function registerAlerts(program: Command, deps: CliDeps): void {
  program
    .command('alerts')
    .description('list open alerts and emergencies, newest first')
    .addOption(new Option('--limit <n>', 'how many').argParser(parsePositiveInt).default(50))
    .option('--json', 'print a JSON array')
    .action(async (options: { limit: number; json?: boolean }) => {
      const alerts = await withControl(deps, (c) => c.openAlerts(options.limit));
      if (options.json) return printJson(deps, alerts);
      if (alerts.length === 0) return deps.stdout('no open alerts\n');
      for (const a of alerts) {
        deps.stdout(
          `L${a.level} ${a.id} ${a.raisedAt} ${a.rule} [${a.subject}] ${a.reason}${a.runId ? ` (${a.runId})` : ''}\n`,
        );
      }
    });

  program
    .command('resolve')
    .description('resolve an alert: --continue, --abort, or only --note "…"')
    .addArgument(new Argument('<alertId>', 'the alert (see nightshift alerts)').argParser(parseId))
    .addOption(new Option('--continue', 'carry on (the sentinel resumes what it paused)').conflicts('abort'))
    .addOption(new Option('--abort', 'abort what the alert is about').conflicts('continue'))
    .option('--note <text>', 'a note (alone: resolve with the note only)')
    .option('--json', 'print the result as JSON')
    .action(
      async (
        alertId: string,
        options: { continue?: boolean; abort?: boolean; note?: string; json?: boolean },
      ) => {
        const decision: AlertDecision | undefined = options.continue
          ? 'continue'
          : options.abort
            ? 'abort'
            : options.note !== undefined
              ? 'note'
              : undefined;
        if (decision === undefined) {
          exitWith(
            deps.stderr,
            RUN_EXIT.usage,
            'missingDecision',
            'error: choose --continue, --abort or --note "…"',
          );
        }
        if (options.note !== undefined && options.note.trim() === '') {
          exitWith(deps.stderr, RUN_EXIT.usage, 'emptyNote', 'error: the note is empty');
        }
        const result = await withControl(deps, (c) => c.resolveAlert(alertId, decision, options.note));
        if (options.json) return printJson(deps, result);
        deps.stdout(
          result.changed
            ? `${alertId} resolved (${decision}); the sentinel acts on it\n`
            : `${alertId} was already resolved; the first resolution stands\n`,
        );
      },
    );
}
