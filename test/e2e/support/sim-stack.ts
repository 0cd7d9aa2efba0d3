// `nightshift up --sim` as a child process for end-to-end suites: started with the given
// environment, its output collected for failure messages, stopped with Ctrl-C (SIGKILL after 30 s).
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './stack.js';

export interface SimStack {
  readonly process: ChildProcess;
  /** Everything the stack printed so far (stdout and stderr interleaved). */
  output(): string;
  stop(): Promise<void>;
}

export function startSimStack(options: {
  env: Record<string, string>;
  dataDir: string;
  cwd?: string;
}): SimStack {
  let output = '';
  const child = spawn(
    process.execPath,
    [join(ROOT, 'packages/cli/dist/bin.js'), 'up', '--sim', '--no-colour', '--data', options.dataDir],
    {
      env: options.env,
      ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  const collect = (c: Buffer) => {
    output += c.toString();
  };
  child.stdout?.on('data', collect);
  child.stderr?.on('data', collect);
  return {
    process: child,
    output: () => output,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGINT');
      await Promise.race([exited, new Promise((r) => setTimeout(r, 30_000))]);
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
