// What commands get from outside: a way to open the bus, output streams, an abort signal for
// Ctrl-C. Injected so the program runs the same from the bin and from tests.

import type { Control } from '@nightshift/client';
import type { Bus } from '@nightshift/redis';

export interface CliDeps {
  /** Opens the bus; only commands that need Redis call it. The command closes it when done. */
  openBus(): Bus | Promise<Bus>;
  stdout(text: string): void;
  stderr(text: string): void;
  /** Aborted on Ctrl-C / SIGTERM: long-running commands (logs --follow) then end cleanly. */
  signal: AbortSignal;
  /** Reads all of stdin, for `send … -` (default: process.stdin). */
  readStdin?: () => Promise<string>;
  /** The clock, for message timestamps (default: new Date()). */
  now?: () => Date;
  /** The environment (config is read from it); the bin passes process.env. */
  env?: NodeJS.ProcessEnv;
  /** Opens the control layer (runs, agents, alerts, status); default: from the config in `env`. */
  openControl?: () => Control | Promise<Control>;
  /** stdout is a terminal: live lines redraw in place, else plain lines (default: process.stdout.isTTY). */
  isTTY?: boolean;
}

/** Runs `fn` with an open bus and always closes it, whatever `fn` does. */
export async function withBus<T>(deps: CliDeps, fn: (bus: Bus) => Promise<T>): Promise<T> {
  const bus = await deps.openBus();
  try {
    return await fn(bus);
  } finally {
    await bus.close();
  }
}
