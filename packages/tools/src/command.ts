// run_command: allowlisted argv only, never a shell, in the workspace, with a deadline, a cap and a clean env.
//
// Policy (issue 6 §1), decided here:
//  - argv[0..k] must equal, word for word, one allowlist entry (`npm test` = ['npm', 'test']);
//    `npm test; rm -rf /` as one element is simply not `npm`.
//  - No element may contain `; & | $ \` < >`, CR, LF or NUL. Nothing here uses a shell, but npm
//    scripts do, and passing such text along is never needed to run a test suite.
//  - Extra arguments after the entry must not start with `-` (option injection: `npm test --prefix /`,
//    `node --test --require /tmp/x.js`); put flags into the allowlist entry itself. Each extra
//    argument is treated as a path and must resolve inside the workspace (`node --test ../x.js`
//    is refused). A test file named `-rf` is reachable as `./-rf`.
// What this layer cannot stop — the allowlisted command runs the workspace's own code (`npm test`
// runs the `test` script a Builder may have written) — the OS sandbox contains (runner.ts, issue 17):
// own pid/net/user namespaces, only the workspace writable, a private HOME and /tmp, a cleared
// env and limits. See docs/security.md for the threat model.
import { SandboxViolation } from '@nightshift/protocol';
import { z } from 'zod';
import type { HostEnv } from './process.js';
import { type ConfinedResult, runConfined, type SandboxSettings } from './runner.js';
import { resolveInside, sandboxViolation } from './sandbox.js';
import { defineTool } from './tool.js';

export const DEFAULT_COMMAND_ALLOWLIST: readonly string[] = ['npm test', 'node --test', 'npx vitest run'];
export const DEFAULT_COMMAND_TIMEOUT_MS = 120_000;
export const DEFAULT_OUTPUT_CAP_BYTES = 65_536;

// biome-ignore lint/suspicious/noControlCharactersInRegex: NUL is one of the refused characters
const SHELL_METACHARACTERS = /[;&|$`<>\r\n\u0000]/;

export type CommandResult = ConfinedResult;

export interface RunCommandOptions {
  workspaceRoot: string;
  allowlist: readonly string[];
  timeoutMs: number;
  outputCapBytes: number;
  signal?: AbortSignal | undefined;
  /** PATH and LANG for the child (the host's, as the caller passes them); default a standard PATH. */
  host?: HostEnv | undefined;
  /** The OS sandbox (default on; `mode: 'off'` only by explicit configuration). */
  sandbox?: SandboxSettings | undefined;
}

function clip(text: string): string {
  return text.length > 200 ? `${text.slice(0, 200)}…` : text;
}

function entryWords(entry: string): string[] {
  return entry
    .trim()
    .split(/\s+/)
    .filter((w) => w.length > 0);
}

/** The allowlist entry argv starts with (the longest, if several), or undefined. */
export function matchAllowlist(argv: readonly string[], allowlist: readonly string[]): string[] | undefined {
  let best: string[] | undefined;
  for (const entry of allowlist) {
    const words = entryWords(entry);
    if (words.length === 0 || words.length > argv.length) continue;
    if (words.every((w, i) => argv[i] === w) && (best === undefined || words.length > best.length))
      best = words;
  }
  return best;
}

/** Throws SandboxViolation unless argv may run under the policy above. */
export async function checkCommand(
  argv: readonly string[],
  allowlist: readonly string[],
  workspaceRoot: string,
): Promise<void> {
  if (argv.length === 0) throw sandboxViolation('not-allowlisted', 'empty command', '');
  const shown = clip(argv.join(' '));
  const bad = argv.find((arg) => SHELL_METACHARACTERS.test(arg));
  if (bad !== undefined) {
    const reason = 'argument contains a shell metacharacter (; & | $ ` < > or a newline)';
    throw new SandboxViolation(`${reason}: ${JSON.stringify(clip(bad))}`, {
      rule: 'shell-metacharacter',
      argv: [...argv],
    });
  }
  const entry = matchAllowlist(argv, allowlist);
  if (entry === undefined) {
    const allowed = allowlist.map((e) => `"${e}"`).join(', ') || '(none)';
    throw new SandboxViolation(`command is not on the allowlist: "${shown}" (allowed: ${allowed})`, {
      rule: 'not-allowlisted',
      argv: [...argv],
    });
  }
  for (const extra of argv.slice(entry.length)) {
    if (extra.startsWith('-')) {
      throw new SandboxViolation(
        `extra option ${JSON.stringify(extra)} is not allowed after "${entry.join(' ')}" (only workspace paths may follow; a file named like a flag is ./${extra})`,
        { rule: 'option-injection', argv: [...argv] },
      );
    }
    await resolveInside(workspaceRoot, extra, 'read');
  }
}

/**
 * Checks argv against the policy, then runs it in the workspace inside the OS sandbox. Throws
 * SandboxViolation when refused, SandboxUnavailable when the sandbox cannot start.
 */
export async function runCommand(
  argv: readonly string[],
  options: RunCommandOptions,
): Promise<CommandResult> {
  await checkCommand(argv, options.allowlist, options.workspaceRoot);
  const [file, ...args] = argv as [string, ...string[]];
  const root = (await resolveInside(options.workspaceRoot, '.', 'read')).root;
  return runConfined(file, args, {
    workspace: root,
    timeoutMs: options.timeoutMs,
    outputCapBytes: options.outputCapBytes,
    signal: options.signal,
    host: options.host,
    sandbox: options.sandbox,
  });
}

export function formatCommandResult(argv: readonly string[], r: CommandResult): string {
  const status = r.timedOut
    ? `timed out after ${r.durationMs} ms; its process group was killed`
    : r.signal !== null
      ? `killed by ${r.signal} after ${r.durationMs} ms`
      : `exit code ${r.exitCode} after ${r.durationMs} ms`;
  const parts = [`$ ${argv.join(' ')}`, status + (r.truncated ? ' (output truncated)' : '')];
  if (r.stdout.length > 0) parts.push('--- stdout ---', r.stdout);
  if (r.stderr.length > 0) parts.push('--- stderr ---', r.stderr);
  return parts.join('\n');
}

export const runCommandTool = defineTool({
  name: 'run_command',
  description:
    'Run an allowlisted command (e.g. ["npm","test"]) in the workspace, without a shell. argv is an array: ' +
    'the first words must match an allowlist entry exactly; extra arguments may only be workspace paths.',
  parameters: z.object({
    argv: z.array(z.string()).min(1).max(64).describe('Program and arguments, e.g. ["npm", "test"]'),
  }),
  async execute({ argv }, ctx) {
    const result = await runCommand(argv, {
      workspaceRoot: ctx.workspaceRoot,
      allowlist: ctx.allowlist,
      timeoutMs: ctx.timeoutMs,
      outputCapBytes: ctx.outputCapBytes,
      signal: ctx.signal,
      host: ctx.host,
      sandbox: ctx.sandbox,
    });
    return { output: formatCommandResult(argv, result), data: result };
  },
});
