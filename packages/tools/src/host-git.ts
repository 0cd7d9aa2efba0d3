// Git run by trusted Nightshift code on the host (issue 18): preparing a run's checkout, fetching
// its branch back into the user's repository, apply and discard. Never sandboxed, never given a
// model's arguments; it reads the user's repository and writes only the run's own branch there.
//
// Like git.ts it runs with hooks, fsmonitor, pagers and external diff drivers off and without the
// host's global or system config; auto-gc and auto-maintenance are off too, so nothing runs in
// the user's repository behind its owner's back. Local clone and fetch need the file transport,
// which git.ts forbids: it is allowed here, and only here.
import * as path from 'node:path';
import { cleanEnv, type HostEnv, type ProcessResult, runProcess, withTempHome } from './process.js';
import { ToolFailure } from './result.js';

const HOST_GIT_TIMEOUT_MS = 10 * 60_000;
const HOST_GIT_OUTPUT_CAP = 16 * 1024 * 1024;

const HOST_SAFETY_CONFIG = [
  ['core.hooksPath', '/dev/null'],
  ['core.fsmonitor', 'false'],
  ['core.pager', 'cat'],
  ['commit.gpgsign', 'false'],
  ['gc.auto', '0'],
  ['maintenance.auto', 'false'],
  ['fetch.writeCommitGraph', 'false'],
  ['submodule.recurse', 'false'],
  ['protocol.allow', 'never'],
  ['protocol.file.allow', 'always'],
  // Objects coming back from the run's checkout are checked before they enter the user's repository.
  ['fetch.fsckObjects', 'true'],
].flatMap(([key, value]) => ['-c', `${key}=${value}`]);

export interface HostGitOptions {
  host?: HostEnv | undefined;
  timeoutMs?: number | undefined;
  /** Stop git from looking for a repository above this folder (GIT_CEILING_DIRECTORIES). */
  ceiling?: string | undefined;
  allowFail?: boolean;
  /**
   * Push only (NIGHTSHIFT_GIT_PUSH_REMOTE): git runs as the operator — their HOME, global config
   * (credential helpers, `insteadOf`) and ssh agent — and may speak https, ssh and git besides
   * file. Hooks, fsmonitor and the `ext` transport stay off: the command line's settings win.
   */
  credentials?: OperatorCredentials | undefined;
}

/** Who a push authenticates as: the operator's HOME and, if any, their ssh agent's socket. */
export interface OperatorCredentials {
  home: string;
  sshAuthSock?: string | undefined;
}

const PUSH_PROTOCOLS = ['https', 'ssh', 'git'].flatMap((p) => ['-c', `protocol.${p}.allow=always`]);

/** Runs trusted git in `cwd`; fails with git's stderr on a non-zero exit unless `allowFail`. */
export async function hostGit(
  cwd: string,
  args: readonly string[],
  options: HostGitOptions = {},
): Promise<ProcessResult> {
  const run = (home: string, config: readonly string[], env: Record<string, string>) =>
    runProcess('git', [...HOST_SAFETY_CONFIG, ...config, ...args], {
      cwd,
      env: cleanEnv({
        home,
        ...options.host,
        extra: {
          GIT_TERMINAL_PROMPT: '0',
          ...env,
          ...(options.ceiling === undefined ? {} : { GIT_CEILING_DIRECTORIES: options.ceiling }),
        },
      }),
      timeoutMs: options.timeoutMs ?? HOST_GIT_TIMEOUT_MS,
      outputCapBytes: HOST_GIT_OUTPUT_CAP,
    });
  const who = options.credentials;
  const result =
    who === undefined
      ? await withTempHome((home) =>
          run(home, [], { GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: '/dev/null' }),
        )
      : await run(who.home, PUSH_PROTOCOLS, who.sshAuthSock ? { SSH_AUTH_SOCK: who.sshAuthSock } : {});
  if (result.timedOut) throw new ToolFailure(`git ${args[0]} timed out in ${cwd}`);
  if (result.exitCode !== 0 && options.allowFail !== true) {
    throw new ToolFailure(
      `git ${args[0]} failed in ${cwd} (exit ${result.exitCode}): ${result.stderr.trim()}`,
    );
  }
  return result;
}

/** The top of the repository holding `folder`, not looking above `ceiling`; undefined = none. */
export async function repositoryOf(
  folder: string,
  ceiling: string,
  options: HostGitOptions = {},
): Promise<string | undefined> {
  const result = await hostGit(folder, ['rev-parse', '--show-toplevel'], {
    ...options,
    ceiling: path.dirname(ceiling) === ceiling ? undefined : path.dirname(ceiling),
    allowFail: true,
  });
  const top = result.stdout.trim();
  return result.exitCode === 0 && top !== '' ? top : undefined;
}
