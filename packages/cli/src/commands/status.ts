// `nightshift status [--run ID] [--watch]`: the team view in a terminal — the run's phase, the
// seven agents, LLM slots, queue depths and open alerts. `--json` output follows StatusSchema.

import { StatusSchema } from '@nightshift/client';
import type { Command } from 'commander';
import { Option } from 'commander';
import { isTTY, withControl } from '../control-deps.js';
import type { CliDeps } from '../deps.js';
import { statusScreen } from '../format.js';
import { parseId } from '../options.js';
import { parseIntervalSeconds } from '../steer-options.js';

interface StatusOptions {
  run?: string;
  watch?: boolean;
  interval: number;
  json?: boolean;
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

export function registerStatus(program: Command, deps: CliDeps): void {
  program
    .command('status')
    .description('phase, agents, LLM slots, queue depths and open alerts (--watch to keep it live)')
    .addOption(new Option('--run <id>', 'the run to show (default: the newest open run)').argParser(parseId))
    .option('-w, --watch', 'redraw until Ctrl-C (on a pipe: one frame after another)')
    .addOption(
      new Option('--interval <seconds>', 'seconds between --watch frames')
        .argParser(parseIntervalSeconds)
        .default(2000, '2'),
    )
    .option('--json', 'print JSON (StatusSchema); with --watch one object per line')
    .action(async (options: StatusOptions) => {
      const tty = isTTY(deps) && !options.json;
      await withControl(deps, async (control) => {
        const frame = async (n: number) => {
          // Validated before it is printed: the JSON is a contract (StatusSchema is exported).
          const status = StatusSchema.parse(
            await control.status(options.run === undefined ? {} : { runId: options.run }),
          );
          if (options.json) return deps.stdout(`${JSON.stringify(status)}\n`);
          const screen = statusScreen(status, deps.now?.() ?? new Date());
          if (tty && options.watch) return deps.stdout(`\x1b[H\x1b[2J${screen}`);
          deps.stdout(
            options.watch
              ? `${n > 1 ? '\n' : ''}${'═'.repeat(20)} frame ${n} ${'═'.repeat(20)}\n${screen}`
              : screen,
          );
        };
        await frame(1);
        for (let n = 2; options.watch && !deps.signal.aborted; n++) {
          await sleep(options.interval, deps.signal);
          if (deps.signal.aborted) break;
          await frame(n);
        }
      });
    });
}
