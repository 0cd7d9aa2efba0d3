// Runs one of the repository's harnesses (`test/chaos/run.mjs`, `test/bench/run.mjs`,
// `test/soak/run.mjs`) as a child process for its CI smoke test: output kept (the tail), SIGTERM
// past the time limit so the harness tears down its own children, SIGKILL if it then hangs.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './stack.js';

export interface HarnessExit {
  code: number | string;
  output: string;
}

export function runHarness(
  script: string,
  args: string[],
  timeoutMs: number,
  graceMs = 30_000,
): Promise<HarnessExit> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, script), ...args], {
      cwd: ROOT,
      env: process.env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    const keep = (chunk: Buffer) => {
      output = (output + chunk.toString('utf8')).slice(-20_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), graceMs).unref();
    }, timeoutMs);
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? signal ?? 'unknown', output });
    });
  });
}
