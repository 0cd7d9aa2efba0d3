// One command run to its end for end-to-end suites: exit code and everything it printed
// (stdout and stderr interleaved), for assertions and failure messages.
import { spawn } from 'node:child_process';

export function runCommand(
  command: string,
  args: readonly string[],
  options: { cwd: string; env: Record<string, string> },
): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: options.cwd, env: options.env });
    let out = '';
    const collect = (c: Buffer) => {
      out += c.toString();
    };
    child.stdout.on('data', collect);
    child.stderr.on('data', collect);
    child.on('close', (code) => resolve({ code, out }));
  });
}
