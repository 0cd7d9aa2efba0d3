// The `nightshift` command tree. Each command lives in its own file under commands/ and is
// registered here, so new commands are added without touching the others.
import { isNightshiftError } from '@nightshift/protocol';
import { Command, CommanderError } from 'commander';
import { registerAgents } from './commands/agents.js';
import { registerAlerts } from './commands/alerts.js';
import { registerBranch } from './commands/branch.js';
import { registerDemo } from './commands/demo.js';
import { registerLogs } from './commands/logs.js';
import { registerPlan } from './commands/plan.js';
import { registerPreflight } from './commands/preflight.js';
import { registerReplay } from './commands/replay.js';
import { registerReport } from './commands/report.js';
import { registerResume } from './commands/resume.js';
import { registerRun } from './commands/run.js';
import { registerRuns } from './commands/runs.js';
import { registerSend } from './commands/send.js';
import { registerSimulate } from './commands/simulate.js';
import { registerStatus } from './commands/status.js';
import { registerUp } from './commands/up.js';
import type { CliDeps } from './deps.js';

export type CommandRegistrar = (program: Command, deps: CliDeps) => void;

/** Every command, in help order. Add new ones here (one file each under commands/). */
export const COMMANDS: readonly CommandRegistrar[] = [
  registerRun,
  registerStatus,
  registerRuns,
  registerBranch,
  registerResume,
  registerAlerts,
  registerAgents,
  registerSend,
  registerLogs,
  registerUp,
  registerDemo,
  registerReplay,
  registerSimulate,
  registerPlan,
  registerReport,
  registerPreflight,
];

/** Exit codes: 0 ok, 1 failure (e.g. Redis unreachable), 2 bad usage, options, input or config. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;

export function buildProgram(deps: CliDeps, commands: readonly CommandRegistrar[] = COMMANDS): Command {
  const program = new Command('nightshift')
    .description('Nightshift: a team of LLM agents working through the night on one codebase')
    .configureOutput({ writeOut: deps.stdout, writeErr: deps.stderr })
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const register of commands) register(program, deps);
  // Subcommands copy these settings only when created after them; set them on each explicitly.
  for (const command of program.commands) {
    command.configureOutput({ writeOut: deps.stdout, writeErr: deps.stderr }).exitOverride();
  }
  return program;
}

/** Parses and runs `argv` (node-style: [node, script, ...args]); resolves to the exit code. */
export async function runCli(argv: readonly string[], deps: CliDeps): Promise<number> {
  const program = buildProgram(deps);
  try {
    await program.parseAsync([...argv]);
    return EXIT.ok;
  } catch (error) {
    return exitCodeOf(error, deps);
  }
}

function exitCodeOf(error: unknown, deps: CliDeps): number {
  if (error instanceof CommanderError) {
    // Commander already printed its message; help and version are successes.
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT.ok;
    // Our own `command.error(…, { code: 'nightshift.…', exitCode })` means that exit code (e.g. 3 = waiting-human).
    if (error.code.startsWith('nightshift.')) return error.exitCode;
    return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
  }
  if (isNightshiftError(error)) {
    deps.stderr(`error: ${error.message}\n`);
    // Invalid input, policy refusals (topology) and bad configuration are the user's to fix.
    return error.category === 'transient' ? EXIT.failure : EXIT.usage;
  }
  deps.stderr(`error: ${error instanceof Error ? error.message : String(error)}\n`);
  return EXIT.failure;
}
