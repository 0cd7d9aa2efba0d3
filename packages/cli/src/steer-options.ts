// Option parsers of the steering commands (run, status, decide, …): each refusal names the form
// it expects, and commander adds which option it was, so a bad argument always says what to type.
import { CommanderError, InvalidArgumentError } from 'commander';

export function parsePositiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) {
    throw new InvalidArgumentError('Expected a number greater than 0 (e.g. 2.5).');
  }
  return n;
}

/** Milliseconds from a number of seconds, at least 0.2 s so a watch loop never spins. */
export function parseIntervalSeconds(value: string): number {
  const n = parsePositiveNumber(value);
  if (n < 0.2) throw new InvalidArgumentError('Expected at least 0.2 seconds.');
  return Math.round(n * 1000);
}

/** Exit codes of commands that follow a run: the run's outcome, or that it needs a human. */
export const RUN_EXIT = { finished: 0, failed: 1, usage: 2, waitingHuman: 3, interrupted: 130 } as const;

/**
 * Ends the command with `exitCode` after printing `message` to stderr (without commander's
 * usage hint, which would be noise after a run's outcome). program.ts honours `nightshift.*` codes.
 */
export function exitWith(
  stderr: (text: string) => void,
  exitCode: number,
  code: string,
  message: string,
): never {
  stderr(`${message}\n`);
  throw new CommanderError(exitCode, `nightshift.${code}`, message);
}
