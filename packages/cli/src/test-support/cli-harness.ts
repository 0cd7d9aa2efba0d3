// Test support (excluded from the build): `nightshift …` in-process, its output collected.
import type { CliDeps } from '../deps.js';
import { runCli } from '../program.js';

export function cliHarness(env: Record<string, string>, now?: Date) {
  const out: string[] = [];
  const err: string[] = [];
  const deps: CliDeps = {
    openBus: () => {
      throw new Error('not used');
    },
    stdout: (text) => out.push(text),
    stderr: (text) => err.push(text),
    signal: new AbortController().signal,
    ...(now === undefined ? {} : { now: () => now }),
    env,
  };
  return { run: (...args: string[]) => runCli(['node', 'nightshift', ...args], deps), out, err };
}
